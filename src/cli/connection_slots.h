// ConnectionSlots: the sync::WorkerSlots of `mailferry migrate`, shared by this user's runs on
// this machine through lock files (base/slot_files.h) in userRuntimeDirectory().
//
// Contract:
// - Each server has a pool of `count` slots (the run's --parallel) named
//   "<imap|pop3>-<host>-<port>" (host lower-cased; file names "<name>.<n>"). A worker's
//   lease is one slot of the source's pool and one of the destination's; it claims both or
//   neither (one when both ends are the same server: a pool counts workers).
// - open() fails (kConfig / kIo, with the reason) when the directory cannot be used safely;
//   the caller then runs unshared and says so.
// - A slot file that cannot be opened or locked later in the run (the directory was cleaned
//   away) makes tryClaim() hand out an empty lease: the run goes on as if unshared rather
//   than lose its workers.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "net/endpoint.h"
#include "sync/worker_slots.h"

namespace mf::cli {

class ConnectionSlots : public sync::WorkerSlots {
 public:
  static Result<std::unique_ptr<ConnectionSlots>> open(const net::Endpoint& from,
                                                       const net::Endpoint& to, size_t count);
  std::unique_ptr<Lease> tryClaim() override;

  // The pool name of a server: "imap-127.0.0.1-143".
  static std::string poolName(const net::Endpoint& server);

 private:
  ConnectionSlots(std::string directory, std::string fromPool, std::string toPool, size_t count)
      : directory_(std::move(directory)),
        fromPool_(std::move(fromPool)),
        toPool_(std::move(toPool)),
        count_(count) {}

  std::string directory_;
  std::string fromPool_;
  std::string toPool_;
  size_t count_;
};

}  // namespace mf::cli
