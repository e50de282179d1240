// WorkerSlots: how the runs of one machine share the servers' connections.
//
// Each folder worker holds one connection to each server. Several `mailferry migrate` runs
// against the same servers (a batch of mailboxes, or a project) would otherwise each open
// their full --parallel count, and the servers' CPU goes to logins and sessions instead of
// mail. The engine asks for a lease before it starts each worker beyond the first; a worker
// drops its lease when it has no folder left, so another run can take it.
//
// Contract for implementations (cli/connection_slots.h): tryClaim() never blocks; null means
// "not now" (every slot held, or sharing unavailable for this worker); it may be called from
// any worker thread.
#pragma once

#include <memory>

namespace mf::sync {

class WorkerSlots {
 public:
  class Lease {
   public:
    virtual ~Lease() = default;
  };
  virtual ~WorkerSlots() = default;
  virtual std::unique_ptr<Lease> tryClaim() = 0;
};

}  // namespace mf::sync
