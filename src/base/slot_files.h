// Counting slots shared by the processes of one user on one machine, held as flock(2) locks.
//
// A pool is `count` lock files named "<name>.<n>" in a directory; holding slot n is holding
// an exclusive flock on its file. The kernel drops the lock when the holder closes the file or
// dies, so a crashed or killed process never leaves a slot taken, and there is nothing to
// clean up. Claims never block: a caller that finds every slot taken goes on with what it has.
//
// Contract:
// - tryClaimSlot() returns a lease on the lowest free slot, an empty optional when all
//   `count` are held (by any process, this one included: flock locks belong to the open file,
//   so two claims in one process exclude each other too), or an error when the directory or a
//   file cannot be used.
// - `name` may be anything: characters other than [A-Za-z0-9._-] become '_' in file names.
// - userRuntimeDirectory() is where pools live: $XDG_RUNTIME_DIR/mailferry, else
//   /tmp/mailferry-<uid>; created mode 0700, and refused (kConfig) when it is not a directory
//   of this user's closed to others, since another user could then hold our slots. Files are
//   opened with O_NOFOLLOW and never truncated or written.
#pragma once

#include <optional>
#include <string>

#include "base/status.h"

namespace mf {

class SlotLease {
 public:
  SlotLease() = default;  // holds nothing
  SlotLease(int fd, size_t index) : fd_(fd), index_(index) {}
  SlotLease(SlotLease&& other) noexcept : fd_(other.fd_), index_(other.index_) { other.fd_ = -1; }
  SlotLease& operator=(SlotLease&& other) noexcept;
  SlotLease(const SlotLease&) = delete;
  SlotLease& operator=(const SlotLease&) = delete;
  ~SlotLease();

  size_t index() const { return index_; }
  bool held() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
  size_t index_ = 0;
};

Result<std::optional<SlotLease>> tryClaimSlot(const std::string& directory, const std::string& name,
                                              size_t count);

Result<std::string> userRuntimeDirectory();

}  // namespace mf
