// The migration state store (SPEC.md section 5): what mailferry must remember between runs to
// copy every message exactly once.
//
// Model (DESIGN.md practice 8): one small record per folder pair, plus the UID map.
// - A *mailbox key* names one source->destination mailbox pair (e.g.
//   "imaps://alice@old -> imaps://alice@new"); several pairs can share one store file.
// - A FolderPair is keyed by (mailbox key, source folder name). It records the source
//   UIDVALIDITY, the UIDNEXT up to which every message has been handled (copied, skipped by
//   rule, or failed with a recorded reason), the destination folder name and its UIDVALIDITY.
// - Source UIDs (allocateSourceUids): for POP3 sources, whose messages have string names
//   (UIDL), the store hands out the stable 32-bit UIDs the engine works with.
// - MessageRecord: one per handled source UID: state kPending (intent recorded before the
//   APPEND was sent), kCopied (APPEND completed; destination UID if the server told it, 0
//   if not), kFailed (with error code, class and text). Message-ID and size are kept so a
//   changed UIDVALIDITY or an unknown APPEND outcome can be re-matched without duplicating.
//
// Durability: every write is committed before the call returns (WAL, synchronous=NORMAL:
// survives kill -9 of mailferry; batches are one transaction each).
// Threading: a Store object is used by one thread at a time; open one per thread.
// Errors: every failure is Errc::kStore; the message names the state file and never holds
// more than the records themselves do.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace mf::store {

struct FolderPairState {
  std::string mailboxKey;
  std::string sourceFolder;       // source name as the user sees it (UTF-8)
  std::string destinationFolder;  // mapped destination name (UTF-8)
  uint32_t sourceUidValidity = 0;
  uint32_t sourceUidNext = 0;  // every source UID below this has been handled
  uint64_t sourceHighestModSeq = 0;
  uint32_t destinationUidValidity = 0;

  bool operator==(const FolderPairState&) const = default;
};

enum class MessageState { kPending = 0, kCopied = 1, kFailed = 2 };

struct MessageRecord {
  uint32_t sourceUid = 0;
  MessageState state = MessageState::kPending;
  uint32_t destinationUid = 0;  // 0 = unknown (no UIDPLUS)
  uint64_t size = 0;
  std::string messageId;   // Message-ID header value, may be empty
  std::string errorCode;   // kFailed: stable code (errcName or a refusal code)
  std::string errorClass;  // kFailed: errorClassName
  std::string errorText;   // kFailed: what the server said / what to do

  bool operator==(const MessageRecord&) const = default;
};

class Store {
 public:
  virtual ~Store() = default;

  virtual Result<std::optional<FolderPairState>> loadFolder(const std::string& mailboxKey,
                                                            const std::string& sourceFolder) = 0;
  virtual Status saveFolder(const FolderPairState& state) = 0;

  // All message records of a folder pair, ordered by source UID.
  virtual Result<std::vector<MessageRecord>> loadMessages(const std::string& mailboxKey,
                                                          const std::string& sourceFolder) = 0;
  // What a run resuming from its watermark needs: the records from source UID `fromUid` on,
  // and every record below it that is not kCopied (pending intents, failures), ordered by
  // source UID. A re-run then reads its few new records, not the whole folder's history.
  virtual Result<std::vector<MessageRecord>> loadMessagesToResume(const std::string& mailboxKey,
                                                                  const std::string& sourceFolder,
                                                                  uint32_t fromUid) = 0;
  // Inserts or replaces the records (one transaction).
  virtual Status saveMessages(const std::string& mailboxKey, const std::string& sourceFolder,
                              const std::vector<MessageRecord>& records) = 0;
  // Forgets every message record of a folder pair and stores `records` instead, in one
  // transaction (used when the source UIDVALIDITY changed and the records were re-matched
  // into new ones). The folder pair record itself is left alone.
  virtual Status replaceAllMessages(const std::string& mailboxKey, const std::string& sourceFolder,
                                    const std::vector<MessageRecord>& records) = 0;
  // For a folder too big to hold its records at once (a re-match of one of more than a
  // listing window): every record of a folder pair, in source UID order, given to `visit` one
  // at a time; and replaceAllMessages fed by `next`, which fills the vector it is given (empty)
  // with the next records and returns false when none are left, in one transaction. Neither
  // callback may call the store. The defaults hold everything; SqliteStore streams.
  using RecordVisitor = std::function<void(const MessageRecord&)>;
  using RecordChunks = std::function<bool(std::vector<MessageRecord>&)>;
  virtual Status forEachMessage(const std::string& mailboxKey, const std::string& sourceFolder,
                                const RecordVisitor& visit) {
    MF_ASSIGN_OR_RETURN(auto records, loadMessages(mailboxKey, sourceFolder));
    for (const auto& r : records) visit(r);
    return Status::ok();
  }
  virtual Status replaceAllMessagesFrom(const std::string& mailboxKey,
                                        const std::string& sourceFolder, const RecordChunks& next) {
    std::vector<MessageRecord> all, chunk;
    while (next(chunk)) {
      all.insert(all.end(), chunk.begin(), chunk.end());
      chunk.clear();
    }
    return replaceAllMessages(mailboxKey, sourceFolder, all);
  }

  // Source UIDs for sources that name their messages by strings rather than 32-bit UIDs
  // (POP3 UIDL, or a content hash where the server has no UIDL). Returns one UID per key, in
  // the order given. A key seen before for this (mailbox key, source folder) gets its UID
  // back, forever; a new key gets the largest UID handed out so far plus one, new keys of one
  // call in the order given. So a message first seen later always has a higher UID than every
  // message seen before it, which the engine's UIDNEXT-like watermark relies on. A key repeated
  // within one call gets one UID. UIDs start at 1; running out of 32-bit UIDs is kStore with
  // class kConfiguration. Keys are compared byte for byte. An unchanged mailbox costs reads
  // only; new keys are written in one transaction (concurrent callers serialize on it).
  virtual Result<std::vector<uint32_t>> allocateSourceUids(
      const std::string& mailboxKey, const std::string& sourceFolder,
      const std::vector<std::string>& sourceKeys) = 0;

  // allocateSourceUids for a single key.
  Result<uint32_t> allocateSourceUid(const std::string& mailboxKey, const std::string& sourceFolder,
                                     const std::string& sourceKey) {
    MF_ASSIGN_OR_RETURN(auto uids, allocateSourceUids(mailboxKey, sourceFolder, {sourceKey}));
    if (uids.size() != 1) return Status(Errc::kInternal, "allocateSourceUids lost a key");
    return uids[0];
  }
};

// Opens (creating if needed; never creating directories) an SQLite state file and migrates its
// schema forward. Refuses (kStore, class kConfiguration) a file written by a newer schema and
// a file that is not a mailferry state file. Several processes may open the same file.
// The schema is documented in docs/formats/state-sqlite.md.
Result<std::unique_ptr<Store>> openSqliteStore(const std::string& path);

// Opens an existing state file to read it only (`mailferry verify`): never creates it, never
// migrates its schema, and every write through the Store fails (kStore). Refuses a missing
// file, a file of an older or newer schema (with what to do) and a file that is not ours.
Result<std::unique_ptr<Store>> openSqliteStoreForReading(const std::string& path);

}  // namespace mf::store
