#include "cli/connection_slots.h"

#include <optional>

#include "base/slot_files.h"

namespace mf::cli {
namespace {

// Holds whatever slots it was given: none when sharing broke down mid-run.
class PairLease : public sync::WorkerSlots::Lease {
 public:
  PairLease(std::optional<SlotLease> from, std::optional<SlotLease> to)
      : from_(std::move(from)), to_(std::move(to)) {}

 private:
  std::optional<SlotLease> from_;
  std::optional<SlotLease> to_;
};

}  // namespace

std::string ConnectionSlots::poolName(const net::Endpoint& server) {
  std::string host = server.host;
  for (char& c : host) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
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
  if (!from) return std::make_unique<PairLease>(std::nullopt, std::nullopt);
  if (!*from) return nullptr;
  // Both ends on one server (two accounts of it): the pool counts workers, one slot each.
  if (toPool_ == fromPool_)
    return std::make_unique<PairLease>(std::move(*from).value(), std::nullopt);
  auto to = tryClaimSlot(directory_, toPool_, count_);
  if (!to) return std::make_unique<PairLease>(std::nullopt, std::nullopt);
  if (!*to) return nullptr;  // the source slot is released with `from`
  return std::make_unique<PairLease>(std::move(*from).value(), std::move(*to).value());
}

}  // namespace mf::cli
