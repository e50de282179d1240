// The migration engine for one mailbox: plans folders, then copies every new message of
// every planned folder exactly once, recording progress in the state store.
//
// Exactly once (DESIGN.md practice 8): before a batch of APPENDs is sent, each message's
// intent is recorded (state kPending, with the destination's UIDNEXT at that moment as a
// lower bound for where it can land); after the server's answer, the destination UID
// (kCopied) or the refusal (kFailed). A run that finds kPending records (a crash or lost
// connection mid-batch) looks at the destination's messages from that lower bound on and
// claims those matching in order by size and Message-ID, so each message lands once.
//
// A changed source UIDVALIDITY is detected; the earlier records are re-matched to the new
// UIDs by Message-ID and size, or by SHA-256 of the content for messages without one.
//
// Streaming: bodies flow from MailSource::fetchBodies straight into pipelined appends;
// memory stays bounded by the connection buffers, whatever the message sizes.
//
// Failures are scoped: a refused message is recorded and the folder goes on; a folder that
// cannot be created or read is reported and the run goes on with the next folder.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>

#include "access/mail_access.h"
#include "store/state_store.h"
#include "sync/folder_plan.h"
#include "sync/folder_shares.h"
#include "sync/report.h"
#include "sync/worker_slots.h"

namespace mf::sync {

struct MigrateOptions {
  std::string mailboxKey;  // identifies this source->destination pair in the store
  PlanOptions plan;
  bool includeDeleted = false;   // copy messages flagged \Deleted too
  bool dryRun = false;           // plan and count; change nothing anywhere
  bool retryErrors = false;      // re-attempt only messages that failed before, nothing new
  uint64_t maxMessageBytes = 0;  // refuse larger messages up front (preset/--max-message-size)
  size_t batchMessages = 500;    // messages per recorded batch (one state transaction each)
  // A folder holding more messages than this is listed and copied this many at a time, its
  // watermark saved after each window, so memory stays bounded whatever the folder's size
  // (listed whole, 200,000 messages took 226 MB). 0: always list a folder whole.
  size_t listingWindow = 20000;
  uint64_t batchBytes = 64ull << 20;
  // Messages in flight (appended, not yet answered): two full MULTIAPPEND commands, so the
  // destination always has the next command queued while it saves one.
  size_t appendWindow = 1000;
  // Messages grouped per APPEND command where the destination has MULTIAPPEND (RFC 3502):
  // one command costs the server far less than one per message, and each command is one
  // transaction for it, so bigger ones cost it less again (Dovecot: 64 -> 256 -> 500 per
  // command each cut its CPU for the bench corpus, docs/performance.md). One recorded batch
  // is then one command. All or nothing: a refused command's messages are sent again one by
  // one.
  size_t multiAppendMessages = 500;
  uint64_t multiAppendBytes = 32ull << 20;
  // After a crash the server may still be saving what the dead session had sent: recovery
  // waits until the destination folder's UIDNEXT has not moved for this long (at most
  // recoveryMaxWait) before deciding which pending messages landed.
  std::chrono::milliseconds recoveryQuietPeriod{1500};
  std::chrono::milliseconds recoveryMaxWait{60'000};
  // Reconnects after a dropped connection, timeout, BYE, TLS error or throttling: per
  // folder, up to `retries` times, waiting retryBackoff, then twice as long each time (capped
  // at retryBackoffCap), or as long as a throttling server asks. Then the folder is reported
  // failed with its state intact, and a mailbox whose connections cannot be reopened
  // `retries` times in a row is given up.
  // Folders copied at the same time, each on its own pair of connections (a cap per host:
  // every worker holds one source and one destination connection). Fewer when there is
  // little to copy: one worker per kMessagesPerWorker new messages (migrator.cc).
  size_t parallelFolders = 4;
  // A worker with no folder left takes over part of a big folder another worker is copying
  // (folder_shares.h): a mailbox with one big INBOX uses all its connections too. The
  // destination then numbers the parts' messages interleaved, in source order within each
  // part; false keeps one connection per folder, so destination UIDs follow the source's
  // order. Off for POP3 sources (one session per maildrop).
  bool splitFolders = true;
  // For a folder bigger than listingWindow: measure whether the split pays (split_judge.h)
  // and copy the rest of the folder over one connection when it does not; false splits
  // whatever it costs. Smaller folders are split unmeasured.
  bool judgeSplits = true;
  uint32_t retries = 8;
  std::chrono::milliseconds retryBackoff{1000};
  std::chrono::milliseconds retryBackoffCap{60'000};
};

// New messages that make another parallel worker (two more logins) worth its cost.
inline constexpr uint64_t kMessagesPerWorker = 1000;
// A server whose quickest command round trip is this long or longer is far (a WAN, not a LAN
// or loopback): then every folder with new mail is worth a worker, whatever its size.
inline constexpr std::chrono::microseconds kFarRoundTrip{2000};

class Migrator {
 public:
  // The factories open connections; they are called once at the start and again after
  // every drop. (The CLI hands out its already-open connections on the first call.)
  // With `slots`, workers beyond the first start only with a lease from it (shared with
  // other runs of this machine), and more start later, at folder boundaries, as leases free
  // up. The first worker always runs: its lease is the caller's, claimed as early as it can
  // (before connecting), so runs started together count each other before adding workers.
  // Without `slots`, every worker the plan asks for starts at once.
  Migrator(access::SourceFactory openSource, access::AccountFactory openDestination,
           store::Store& store, MigrateOptions options, ProgressSink& progress,
           WorkerSlots* slots = nullptr);

  // Runs the whole mailbox. Errors of single messages and folders are in the report; a
  // non-OK result means the run could not start (no connection, or listing folders failed).
  Result<MigrationReport> run();

 private:
  // One pair of connections; each worker thread has its own.
  struct Worker {
    std::unique_ptr<access::MailSource> source;
    std::unique_ptr<access::MailAccount> destination;
    std::unique_ptr<WorkerSlots::Lease> lease;  // its share of the servers' connections
  };
  Status connect(Worker& worker);
  Status reconnectWithBackoff(Worker& worker, uint32_t& failures);
  FolderReport migrateFolderWithRetries(Worker& worker, const FolderMapping& mapping,
                                        const access::FolderStatus* plannedStatus,
                                        const access::FolderStatus* plannedDestinationStatus,
                                        ShareBoard::Ticket* shareTicket);
  // Copies parts of other workers' big folders until none is left to take over.
  void helpWithBigFolders(Worker& worker, ShareBoard& board);
  // The destination folder an earlier run used for this mapping under another name (it had
  // to rename it, or the folder rules named it differently then), if that folder is still
  // there: the folder goes on there, so its mail is never split over two folders.
  // Null if none; else points into destinationFolders_.
  const access::Folder* renamedByAnEarlierRun(const FolderMapping& mapping);
  // The same, with the folder's saved record already read.
  const access::Folder* renamedByAnEarlierRun(const FolderMapping& mapping,
                                              const store::FolderPairState& saved) const;
  // What the report says when an earlier run's destination `used` is kept (see above).
  static std::string earlierDestinationNote(const std::vector<std::string>& used,
                                            const FolderMapping& mapping);
  Result<access::Folder> createDestinationFolder(Worker& worker, const FolderMapping& mapping,
                                                 std::vector<std::string>& notes);
  std::chrono::milliseconds backoff(uint32_t attempt) const;
  void wait(std::chrono::milliseconds how_long, const std::string& why);

  access::SourceFactory openSource_;
  access::AccountFactory openDestination_;
  std::vector<access::Folder> destinationFolders_;  // as listed at the start
  std::mutex createMutex_;  // createDestinationFolder: one CREATE at a time (see there)
  // What other folders hold, for a folder that shows all mail (folder_plan.h rule 5): read
  // once per run, before the workers start, when such a folder has new mail.
  MessageKeys storedElsewhere_;
  Status readStoredElsewhere(access::MailSource& source, const FolderPlan& plan);
  store::Store& baseStore_;
  ProgressSink& baseProgress_;
  store::Store* store_;  // baseStore_, or a locked wrapper while workers run in parallel
  MigrateOptions options_;
  ProgressSink* progress_;           // likewise
  WorkerSlots* slots_;               // may be null: no sharing
  std::atomic<bool> gaveUp_{false};  // connections cannot be reopened: stop taking folders
};

// True for failures a new connection may cure.
bool isRetryable(const Status& status);

}  // namespace mf::sync
