// The pairing behind the re-matches (folder_copier_recovery.cc: the source's UIDVALIDITY
// changed, or the destination folder was replaced), held compactly so that a folder of any
// size is re-matched a listing window at a time.
//
// The copies the folder's messages may already have (the records of the earlier UIDVALIDITY,
// or what the replaced destination folder holds) go in first (addCopy, then seal). Then the
// source folder's messages come, window by window, in UID order:
//  1. a message with a Message-ID takes the first unused copy with the same Message-ID and
//     size (takeExact); of several, the one added first;
//  2. the others with a Message-ID are kept aside (addUnpaired, with what their record and the
//     date check need); once every window is through, uniquePairs() names those whose
//     Message-ID only they and one unused copy carry, whatever the sizes (a server that rebuilt
//     the message), for the caller to confirm by internal date (a draft saved again under the
//     same Message-ID is another message: doubled is better than lost);
//  3. messages without a Message-ID are the caller's to pair by content.
// A copy costs 48 bytes (128-bit hashes of Message-ID + size and of Message-ID alone:
// folder_comparison.h pairingKeyOf), an unpaired message its strings. No I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "access/mail_access.h"
#include "sync/folder_comparison.h"

namespace mf::sync {

class RematchIndex {
 public:
  // Room for about `copies` copies up front: a big folder's index is not copied as it grows.
  void reserve(size_t copies) { copies_.reserve(copies); }
  void addCopy(std::string_view messageId, uint64_t size, uint32_t destinationUid);
  // After the last addCopy, before the first takeExact.
  void seal();
  // Step 1: the destination UID of the first unused copy with this Message-ID and size.
  std::optional<uint32_t> takeExact(std::string_view messageId, uint64_t size);

  struct Unpaired {
    uint32_t sourceUid = 0;
    uint64_t size = 0;
    std::string messageId;
    std::string internalDate;
  };
  // Step 2: a source message with a Message-ID that takeExact found no copy for.
  void addUnpaired(const access::MessageMeta& message);
  struct Candidate {
    const Unpaired* message = nullptr;
    uint32_t destinationUid = 0;
  };
  // The pairs step 2 allows, in the order the messages were added; the caller confirms each
  // by date. Valid while this index lives.
  std::vector<Candidate> uniquePairs() const;

  size_t copies() const { return copies_.size(); }

 private:
  struct Copy {
    PairingKey key;    // Message-ID and size
    PairingKey idKey;  // Message-ID alone
    uint32_t destinationUid = 0;
    uint32_t order = 0;
    bool taken = false;
  };
  std::vector<Copy> copies_;  // by (key, order) once sealed
  std::vector<Unpaired> unpaired_;
};

}  // namespace mf::sync
