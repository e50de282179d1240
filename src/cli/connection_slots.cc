#include "cli/connection_slots.h"

#include "base/ascii.h"
#include "base/slot_files.h"

namespace mf::cli {
namespace {

// Holds whatever slots it was given: none when sharing broke down mid-run. (Plain members,
// not optionals: GCC 12 at -O1 warns about moving a disengaged optional<SlotLease>.)
class PairLease : public sync::WorkerSlots::Lease {
 public:
  PairLease() = default;
  PairLease(SlotLease from, SlotLease to) : from_(std::move(from)), to_(std::move(to)) {}

 private:
  SlotLease from_;
  SlotLease to_;
};

}  // namespace

std::string ConnectionSlots::poolName(const net::Endpoint& server) {
  std::string host = toLowerAscii(server.host);
  return std::string(server.protocol == net::Protocol::kPop3 ? "pop3-" : "imap-") + host + "-" +
         std::to_string(server.port);
}

Result<std::unique_ptr<ConnectionSlots>> ConnectionSlots::open(const net::Endpoint& from,
                                                               const net::Endpoint& to,
                                                               size_t count) {
  MF_ASSIGN_OR_RETURN(std::string directory, userRuntimeDirectory());
  return std::unique_ptr<ConnectionSlots>(
      new ConnectionSlots(std::move(directory), poolName(from), poolName(to), count));
}

std::unique_ptr<sync::WorkerSlots::Lease> ConnectionSlots::tryClaim() {
  auto from = tryClaimSlot(directory_, fromPool_, count_);
  if (!from) return std::make_unique<PairLease>();
  if (!*from) return nullptr;
  SlotLease fromSlot = std::move(**from);
  // Both ends on one server (two accounts of it): the pool counts workers, one slot each.
  if (toPool_ == fromPool_) return std::make_unique<PairLease>(std::move(fromSlot), SlotLease());
  auto to = tryClaimSlot(directory_, toPool_, count_);
  if (!to) return std::make_unique<PairLease>();
  if (!*to) return nullptr;  // the source slot is released with `fromSlot`
  return std::make_unique<PairLease>(std::move(fromSlot), std::move(**to));
}

}  // namespace mf::cli
