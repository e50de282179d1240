// UidAllocator: stable 32-bit UIDs for sources whose messages have string names.
//
// The engine speaks 32-bit UIDs (MailSource, the state store's UID map and watermark). A POP3
// server names its messages by UIDL strings (RFC 1939 section 7) and has no UIDs, so a POP3
// MailSource asks an injected UidAllocator for one UID per message key.
//
// Contract for every implementation:
// - The same key always gets the same UID (for the allocator's mailbox and folder), across
//   sessions and runs for persistent implementations.
// - A key seen for the first time gets the largest UID handed out so far plus one (UIDs start
//   at 1); several new keys of one uidsFor() call in the order given. So messages seen later
//   always have higher UIDs than older ones, as IMAP UIDs do (RFC 3501 section 2.3.1.1), and
//   the engine's "every UID below the watermark is handled" logic holds for POP3 too.
// - A key repeated within one uidsFor() call gets one UID.
// Implementations: sync::StoreUidAllocator (persistent, over the state store: migrate) and
// MemoryUidAllocator below (one session: verify, tests).
// Threading: one thread at a time.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"

namespace mf::access {

class UidAllocator {
 public:
  virtual ~UidAllocator() = default;

  virtual Result<uint32_t> uidFor(const std::string& sourceKey) = 0;

  // One UID per key, in order. Implementations backed by a database override this to do the
  // whole listing in one round trip / transaction.
  virtual Result<std::vector<uint32_t>> uidsFor(const std::vector<std::string>& sourceKeys) {
    std::vector<uint32_t> uids;
    uids.reserve(sourceKeys.size());
    for (const auto& key : sourceKeys) {
      MF_ASSIGN_OR_RETURN(uint32_t uid, uidFor(key));
      uids.push_back(uid);
    }
    return uids;
  }
};

// In-memory allocator: UIDs 1, 2, 3... in order of first sight, forgotten when destroyed.
// For sessions that need UIDs only while they last (verify, which reads no state file; tests).
class MemoryUidAllocator : public UidAllocator {
 public:
  Result<uint32_t> uidFor(const std::string& sourceKey) override {
    auto [it, inserted] = uids_.emplace(sourceKey, 0);
    if (inserted) {
      if (next_ == 0) {
        uids_.erase(it);
        return Status(Errc::kLimit, "more than 2^32-1 messages in one session");
      }
      it->second = next_++;
    }
    return it->second;
  }

 private:
  std::map<std::string, uint32_t> uids_;
  uint32_t next_ = 1;  // wraps to 0 after UINT32_MAX: exhausted
};

}  // namespace mf::access
