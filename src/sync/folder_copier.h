// Copies one folder pair (internal to the sync layer; see migrator.h for the guarantees).
//
// Steps: quick up-to-date check (STATUS vs. the saved UIDVALIDITY/UIDNEXT on both sides),
// listing from the saved watermark, recovery of pending intents, UIDVALIDITY re-match (a
// source that renumbered, or a destination folder replaced), then batches:
// record intents -> stream bodies into pipelined appends -> record outcomes, the next batch
// streaming while the destination still saves the one before. A folder bigger than
// MigrateOptions::listingWindow goes through the listing and the batches a window at a time,
// its watermark saved after each.
#pragma once

#include <functional>
#include <future>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "access/mail_access.h"
#include "store/state_store.h"
#include "sync/flags.h"
#include "sync/folder_plan.h"
#include "sync/folder_shares.h"
#include "sync/migrator.h"
#include "sync/report.h"

namespace mf::sync {

class RematchIndex;  // rematch_index.h

class FolderCopier {
 public:
  // The next batch to copy, at most (count, bytes); empty when there is none.
  using BatchSource =
      std::function<std::vector<const access::MessageMeta*>(size_t maxCount, uint64_t maxBytes)>;
  FolderCopier(access::MailSource& source, access::MailDestination& destination,
               access::MailSource& destinationReader, store::Store& store,
               const MigrateOptions& options, ProgressSink& progress);

  // True if nothing changed on the source since `saved` was written: same UIDVALIDITY and
  // UIDNEXT (so no new message), same destination folder.
  static bool isUpToDate(const store::FolderPairState& saved, const access::FolderStatus& now,
                         const std::string& destination);
  // True if the destination folder is not the one `saved` was written for: its UIDVALIDITY
  // changed (deleted and created again, a mailbox reset, a server that renumbered). Unknown
  // values (0) count as unchanged.
  static bool isDestinationReplaced(const store::FolderPairState& saved,
                                    const access::FolderStatus& destinationNow);

  // `destinationFolder` must exist already unless options.dryRun. `resuming`: this run
  // already worked on the folder over a connection that dropped, so messages found to have
  // landed then count as copied by this run. `plannedStatus`: the source folder's STATUS the
  // caller took moments ago (the migrator's plan), used for the up-to-date check instead of
  // asking again. `plannedDestinationStatus`: the destination folder's STATUS from the same
  // plan; without it the up-to-date check is not taken (the folder is opened, and its
  // UIDVALIDITY checked). `shareTicket`: where to offer parts of a big folder to idle
  // workers of the run (folder_shares.h); run() returns only once every helper is done.
  FolderReport run(const FolderMapping& mapping, const access::Folder& destinationFolder,
                   bool resuming = false, const access::FolderStatus* plannedStatus = nullptr,
                   const access::FolderStatus* plannedDestinationStatus = nullptr,
                   ShareBoard::Ticket* shareTicket = nullptr);

  // Message-ID and size of every message some folder holds: for a folder that shows all mail
  // (folder_plan.h rule 5), what it lists under one of these keys is copied with that other
  // folder, not here (said in a note). Messages without a Message-ID are always copied.
  void copyOnlyWhatIsNotIn(const MessageKeys* storedElsewhere) {
    storedElsewhere_ = storedElsewhere;
  }

  // Subscribe the destination folder as run() opens it (its SUBSCRIBE pipelined with the
  // SELECT). A refusal is a note in the report ("could not subscribe: ..."), a dropped
  // connection the folder's error, retried as any.
  void subscribeOnOpen(bool subscribe) { subscribeOnOpen_ = subscribe; }

  // Helper side: copies range `range` of another copier's folder on this copier's
  // connections (opening the folder pair first). The caller hands the outcome to
  // shares.finish().
  ShareOutcome copyShare(FolderShares& shares, size_t range);

 private:
  using RecordMap = std::map<uint32_t, store::MessageRecord>;

  Status prepare(const FolderMapping& mapping, FolderReport& report,
                 const access::FolderStatus* plannedStatus,
                 const access::FolderStatus* plannedDestinationStatus);
  // The re-matches (folder_copier_recovery.cc). Both leave the source folder to copy from
  // its first UID on: listed whole in metas_ when it fits a listing window, else as windows
  // to list (windowStarts_); the messages they found copies of are in the store and in
  // rematched_, not in records_. The destination folder is left examined on
  // destinationReader_.
  Status rematchAfterUidValidityChange(uint32_t oldValidity, uint32_t newValidity,
                                       FolderReport& report);
  // The destination folder was replaced (isDestinationReplaced): rebuilds the records from
  // what it holds now, so what it lost is copied again and what it kept is not.
  Status rematchAfterDestinationChange(uint32_t oldValidity, uint32_t newValidity,
                                       FolderReport& report);
  struct Rematched;
  // Pairs the source folder's messages, a listing window at a time, with `copies` (sealed)
  // and `copiesWithoutId` (destination UIDs, paired by content), records the pairs as the
  // folder's only records (one transaction) and sets up the copy of the rest.
  Result<Rematched> rematchSource(RematchIndex& copies,
                                  const std::vector<uint32_t>& copiesWithoutId);
  Status recoverPendingIntents(FolderReport& report);
  class AppendStreamer;
  // A recorded batch whose bodies were requested: its intents are in the store, its outcomes
  // not yet.
  struct InFlightBatch {
    std::vector<const access::MessageMeta*> messages;
    Status fetched;  // how the source's FETCH of this batch ended
  };
  // Copies the batches of `next` as recorded batches (intent, bodies, outcome), pipelined.
  // Returns the first error, or the destination's request to slow down, after recording
  // every outcome.
  Status copyMessages(const BatchSource& next, FolderReport& report);
  Status copyMessages(const std::vector<const access::MessageMeta*>& messages,
                      FolderReport& report);
  // copyMessages, then the second passes: messages refused inside a MULTIAPPEND one by one,
  // those whose keywords were refused without them.
  Status copyWithSecondPasses(const BatchSource& next, FolderReport& report);
  // The main pass over `toCopy`, offering parts of it to helpers when it is big enough.
  Status copyFolder(const std::vector<const access::MessageMeta*>& toCopy, uint64_t bytes,
                    FolderReport& report, ShareBoard::Ticket* shareTicket);
  // Records the outcome of each message of `batch` (or leaves it kPending when no answer
  // came). Returns the store's error; the destination's throttling answer, if it gave one,
  // goes to `throttled` unless that already holds one.
  Status settleBatch(const InFlightBatch& batch, AppendStreamer& streamer, FolderReport& report,
                     Status& throttled);
  std::vector<std::string> acceptedFlags(const access::MessageMeta& meta) const;
  // The messages of metas_ to copy (their RFC822.SIZE summed in `bytes`), counting the others
  // in `report`; a message too big for the destination is recorded as failed (a store error
  // goes to `error`, what was chosen until then is returned).
  std::vector<const access::MessageMeta*> chooseToCopy(bool resuming, FolderReport& report,
                                                       uint64_t& bytes, Status& error);
  // Lists the next window of a folder copied a window at a time into metas_.
  Status listNextWindow();
  // Applies copyOnlyWhatIsNotIn() to metas_ (counted for the folder's note).
  void dropWhatIsStoredElsewhere();
  // Counts the source server's own flags (flags.h) of metas_ the copies go without.
  void tallyServerOwnFlags();
  // Saves the folder pair's state with the watermark at `upTo`, or at the first failure
  // worth retrying below it.
  Status saveWatermark(uint32_t upTo);
  bool retryable(const store::MessageRecord& record) const;
  bool isRematched(uint32_t sourceUid) const;

  access::MailSource& source_;
  access::MailDestination& destination_;
  access::MailSource& destinationReader_;
  store::Store& store_;
  const MigrateOptions& options_;
  ProgressSink& progress_;

  // Per-run state of the folder being copied.
  std::string sourceName_;
  access::Folder sourceFolder_;
  access::Folder destinationFolder_;
  std::optional<store::FolderPairState> saved_;
  access::FolderStatus sourceStatus_;
  access::DestinationFolderInfo destinationInfo_;
  RecordMap records_;
  // Source UIDs, ascending, whose copies a re-match found: kCopied in the store (held apart
  // from records_ so that a big folder's re-match costs 4 bytes a message).
  std::vector<uint32_t> rematched_;
  std::vector<access::MessageMeta> metas_;  // the folder as listed, or its current window
  // A folder with more messages than MigrateOptions::listingWindow is listed and copied a
  // window at a time, the watermark saved after each: memory follows the window, not the
  // folder. windowStarts_[k] is the first UID of window k; nextWindow_ the one to list next.
  std::vector<uint32_t> windowStarts_;
  size_t nextWindow_ = 0;
  std::optional<std::pair<uint64_t, uint64_t>> windowedEstimate_;  // (messages, bytes)
  ServerOwnFlagTally ownFlags_;
  size_t droppedAsStoredElsewhere_ = 0;
  std::set<const void*> helpers_;  // workers that copied parts of the folder (folder_shares.h)
  bool listedInWindows_ = false;   // a big folder: whether splitting it pays is measured
  // Whether splitting this folder pays, once measured (split_judge.h), with the rates.
  // (Touched by the folder's FolderShares under their mutex while they are open.)
  SplitJudge splitJudge_;
  // The shares whose judge hears of each settled batch, and from which side.
  FolderShares* judgedShares_ = nullptr;
  bool asHelper_ = false;
  std::string destinationName_;
  uint32_t destinationUidFloor_ = 0;  // no message we append can get a smaller UID
  bool dropKeywords_ = false;         // second pass for messages whose keywords were refused
  const MessageKeys* storedElsewhere_ = nullptr;  // copyOnlyWhatIsNotIn()
  // The destination folder was replaced but --retry-errors left the re-match to a later run.
  bool destinationRematchOwed_ = false;
  std::vector<const access::MessageMeta*> keywordRetry_;
  std::vector<const access::MessageMeta*> singleRetry_;  // refused within a MULTIAPPEND
  std::set<uint32_t> recovered_;  // pending intents found on the destination at start
  bool subscribeOnOpen_ = false;
  Status subscribed_;  // the outcome of that SUBSCRIBE
};

}  // namespace mf::sync
