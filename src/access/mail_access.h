// The interfaces the sync engine sees (DESIGN.md "The shape"): a mail source to read from
// and a mail destination to append to. The engine sees nothing below this line: no sockets,
// no IMAP syntax. Implemented by imap::ImapAccount (both), pop3 (source) and test fakes.
//
// Names: a Folder carries its path as UTF-8 components with the personal-namespace prefix
// removed ("INBOX.Sent" on Courier and "Sent" on a "/" server both give {"Sent"}); the
// implementation keeps the server's own spelling in `wireName`.
//
// Threading: one object per connection, used by one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace mf::access {

enum class SpecialUse { kNone, kSent, kDrafts, kTrash, kJunk, kArchive, kAll, kFlagged };
std::string_view specialUseName(SpecialUse use);  // "\\Sent" etc., "" for kNone

struct Folder {
  std::vector<std::string> path;  // UTF-8 components; INBOX is {"INBOX"}
  std::string wireName;           // the server's exact mailbox name
  bool selectable = true;
  bool subscribed = false;
  SpecialUse specialUse = SpecialUse::kNone;

  std::string displayName() const;  // components joined with '/'
};

struct FolderStatus {
  uint32_t uidValidity = 0;
  uint32_t uidNext = 0;  // 0 if the server did not say
  uint32_t messages = 0;
  uint64_t highestModSeq = 0;  // 0 without CONDSTORE
};

struct MessageMeta {
  uint32_t uid = 0;
  std::vector<std::string> flags;  // system flags and keywords, as the server spells them
  std::string internalDate;        // IMAP date-time "17-Jul-1996 02:44:25 -0700"
  uint64_t size = 0;               // RFC822.SIZE as reported (may differ from the bytes)
  std::string messageId;           // Message-ID header value (trimmed), empty if none
  // The source has no date for this message (POP3, no readable Received or Date header):
  // internalDate is the time it was listed, so it differs from one listing to the next.
  bool dateAssumed = false;

  bool hasFlag(std::string_view flag) const;  // case-insensitive
};

// Receives streamed message bodies. begin/data*/end per message, in the server's order.
// A non-OK Status from a callback aborts the fetch with that status.
class BodyConsumer {
 public:
  virtual ~BodyConsumer() = default;
  virtual Status begin(uint32_t uid, uint64_t size) = 0;
  virtual Status data(std::string_view chunk) = 0;
  virtual Status end() = 0;
};

class MailSource {
 public:
  virtual ~MailSource() = default;

  virtual Result<std::vector<Folder>> listFolders() = 0;
  // Counts of a folder without opening it (IMAP STATUS): cheap, no per-message work.
  virtual Result<FolderStatus> folderStatus(const Folder& folder) = 0;
  // The same for several folders (a run's planning pass), one result per folder, in order.
  // The default asks one by one; IMAP pipelines them, so a far server costs one round trip
  // for the lot instead of one per folder.
  virtual std::vector<Result<FolderStatus>> folderStatuses(const std::vector<Folder>& folders);
  // The shortest command round trip seen on this connection, zero when unknown: how far the
  // server is. The engine gives small folders connections of their own when it is far.
  virtual std::chrono::microseconds roundTrip() const { return {}; }
  // Opens a folder read-only (IMAP EXAMINE). Never changes anything on the server.
  virtual Result<FolderStatus> openForRead(const Folder& folder) = 0;
  // openForRead, then listMessages (withMessageId) or listMessagesWithoutMessageId from minUid
  // when the folder holds messages. IMAP sends the two together, one round trip instead of
  // two. The listing is of the folder as it is open now: a caller that expected another
  // UIDVALIDITY must not use it.
  struct ReadView {
    FolderStatus status;
    std::vector<MessageMeta> metas;
  };
  virtual Result<ReadView> openForReadAndList(const Folder& folder, uint32_t minUid,
                                              bool withMessageId);
  // Metadata of the open folder's messages with UID >= minUid, ascending by UID.
  virtual Result<std::vector<MessageMeta>> listMessages(uint32_t minUid) = 0;
  // The same without the Message-ID (left empty): what a server can answer from its index
  // alone, without opening every message for a header field (IMAP: no HEADER.FIELDS; that
  // cut Dovecot's CPU for a migration by a quarter, docs/performance.md). Sources for which
  // the Message-ID costs nothing extra simply list everything.
  virtual Result<std::vector<MessageMeta>> listMessagesWithoutMessageId(uint32_t minUid) {
    return listMessages(minUid);
  }
  // Metadata of the open folder's messages with minUid <= UID <= maxUid, ascending by UID:
  // one window of a folder too big to hold listed at once (MigrateOptions::listingWindow).
  // The default lists from minUid and drops the rest; IMAP asks for the range only.
  virtual Result<std::vector<MessageMeta>> listMessagesBetween(uint32_t minUid, uint32_t maxUid,
                                                               bool withMessageId);
  // Where to cut the open folder's messages with UID >= minUid into windows of at most
  // `window` messages each, read from the UIDs alone (IMAP: "UID FETCH n:* (UID RFC822.SIZE)",
  // answered from the server's index; 4 bytes per message held while it is read).
  struct ListingWindows {
    // Window k holds the UIDs [firstUids[k], firstUids[k + 1] - 1]; the last one runs to the
    // end of the folder (messages that arrive meanwhile included).
    std::vector<uint32_t> firstUids;
    uint64_t messages = 0;  // what the windows hold when planned
    uint64_t bytes = 0;     // their RFC822.SIZE, summed: an estimate for progress
  };
  virtual Result<ListingWindows> planListingWindows(uint32_t minUid, size_t window);
  // Streams the bodies of `uids` (of the open folder) without marking them read. A UID that
  // no longer exists is simply not delivered; the caller notices its absence.
  virtual Status fetchBodies(const std::vector<uint32_t>& uids, BodyConsumer& consumer) = 0;
  // "imaps://alice@host:993 (Dovecot)" for messages.
  virtual std::string describe() const = 0;
};

// The windows of `uids` (any order, repeats allowed: a server's own FETCH responses may repeat
// one), at most `window` messages each, for planListingWindows.
MailSource::ListingWindows listingWindowsOf(std::vector<uint32_t> uids, uint64_t bytes,
                                            size_t window);

// Lists the folder open on `source` from its first UID, holding no more than a window of it:
// whole when it has no more than `window` messages (`messages`, what its EXAMINE or STATUS
// said; `window` 0: always whole), else planned (planListingWindows) and listed a window at a
// time (listMessagesBetween). Each listing goes to `onWindow`, which may take it; the first
// error stops. Returns the windows (firstUids empty when listed whole); nothing is listed when
// `messages` is 0.
using ListingFn = std::function<Status(std::vector<MessageMeta>&)>;
inline bool listedWhole(uint64_t messages, size_t window) {
  return window == 0 || messages <= window;
}
Result<MailSource::ListingWindows> listFolder(MailSource& source, uint64_t messages, size_t window,
                                              bool withMessageId, const ListingFn& onWindow);
// The last UID of window k of `firstUids` (the last window runs to the end of the folder).
inline uint32_t lastUidOfWindow(const std::vector<uint32_t>& firstUids, size_t k) {
  return k + 1 < firstUids.size() ? firstUids[k + 1] - 1 : UINT32_MAX;
}

// Lists the messages `uids` (ascending) of the folder open on `source`, for a caller that
// kept only their UIDs: in UID ranges (listMessagesBetween) of at most `window` UIDs, a new
// range after a gap of more than 1,024 UIDs (`window` 0: no limit but the gaps), so a few messages
// cost a few small listings and no listing holds more than a window. Each range's listing goes to
// `onWindow`; it may hold messages between the UIDs asked for, and lacks those gone since.
Status listMessagesAgain(MailSource& source, const std::vector<uint32_t>& uids, size_t window,
                         bool withMessageId,
                         const std::function<void(const std::vector<MessageMeta>&)>& onWindow);

struct DestinationFolderInfo {
  FolderStatus status;
  std::vector<std::string> permanentFlags;  // from PERMANENTFLAGS
  bool acceptsAnyKeyword = true;            // PERMANENTFLAGS contains "\*"
  uint64_t appendLimit = 0;                 // largest message accepted (APPENDLIMIT), 0 = unknown
};

struct AppendRequest {
  uint64_t ticket = 0;             // caller's id, echoed in AppendResult
  std::vector<std::string> flags;  // already filtered to what the folder accepts
  std::string internalDate;        // may be empty
  uint64_t size = 0;               // exact byte count that appendData() will deliver
};

struct AppendResult {
  uint64_t ticket = 0;
  Status status;     // OK, or why the destination refused this message
  uint32_t uid = 0;  // from APPENDUID; 0 if unknown
  uint32_t uidValidity = 0;
  bool inBatch = false;  // refused as part of an all-or-nothing batch (MULTIAPPEND)
};

class MailDestination {
 public:
  virtual ~MailDestination() = default;

  virtual Result<std::vector<Folder>> listFolders() = 0;
  // The hierarchy separator of the personal namespace ('/' or '.'), 0 if flat.
  virtual char separator() const = 0;
  // Creates the folder (and, where the server needs it, its parents). Errc::kAlreadyExists
  // if the server says it exists (which, for a name we did not see in LIST, means the
  // server folds case and another folder holds the name).
  virtual Result<Folder> createFolder(const std::vector<std::string>& path) = 0;
  virtual Status subscribe(const Folder& folder) = 0;
  // Selects a folder for appending (IMAP SELECT).
  virtual Result<DestinationFolderInfo> openForAppend(const Folder& folder) = 0;
  // subscribe(folder), then openForAppend(folder); `subscribed` gets the SUBSCRIBE's outcome.
  // IMAP sends the two together: a new folder's subscription costs no round trip of its own.
  virtual Result<DestinationFolderInfo> subscribeAndOpenForAppend(const Folder& folder,
                                                                  Status& subscribed);

  // Pipelined appends into the open folder: beginAppend, appendData until `size` bytes were
  // given, endAppend. Several appends may be in flight; results come from collect().
  virtual Status beginAppend(const AppendRequest& request) = 0;
  virtual Status appendData(std::string_view chunk) = 0;
  virtual Status endAppend() = 0;
  // Results of appends completed so far. With wait=true, blocks until at least one result
  // is available or nothing is in flight.
  virtual Result<std::vector<AppendResult>> collect(bool wait) = 0;
  virtual size_t appendsInFlight() const = 0;
  // Lets the destination group up to `maxMessages` consecutive appends (at most `maxBytes`
  // together) into one command where it can (IMAP MULTIAPPEND). 1 = one command each.
  virtual void setAppendBatching(size_t maxMessages, uint64_t maxBytes) = 0;
  // Sends everything appended so far (closing an open batch) without waiting for answers.
  virtual Status flushAppends() = 0;
  // UIDs of messages in the open folder whose Message-ID header equals `messageId`.
  virtual Result<std::vector<uint32_t>> searchMessageId(std::string_view messageId) = 0;
  // Adds `flags` to the messages `uids` of the folder opened for append (IMAP UID STORE
  // +FLAGS.SILENT), between appends if some are in flight: for copies found after an
  // interruption that lack a flag the destination was to receive after the APPEND.
  virtual Status addFlags(const std::vector<uint32_t>& uids,
                          const std::vector<std::string>& flags) = 0;
  // As MailSource::roundTrip().
  virtual std::chrono::microseconds roundTrip() const { return {}; }
};

// Both sides of one account on one connection (an IMAP account is readable and writable):
// the destination of a migration is also read (to verify and to recover after a crash).
class MailAccount : public MailSource, public MailDestination {
 public:
  using MailDestination::listFolders;
  using MailSource::roundTrip;  // one connection: the two are the same number
};

// Opening connections again after a drop: the engine reconnects through these.
using SourceFactory = std::function<Result<std::unique_ptr<MailSource>>()>;
using AccountFactory = std::function<Result<std::unique_ptr<MailAccount>>()>;

}  // namespace mf::access
