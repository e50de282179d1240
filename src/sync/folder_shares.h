// Big folders copied over several connections at once (internal to the sync layer; see
// docs/architecture.md "Big folders").
//
// The copier that listed a folder publishes the messages it is about to copy (ascending
// source UIDs) as one range of a FolderShares. A worker of the same run with nothing left in
// the folder queue takes over the upper part of the biggest unstarted range (its share of the
// bytes among the range's owner and the workers waiting for a part), and copies it on its own
// connections as a "helper". Every message is started by exactly one copier: owners take batches
// from the front of their range, helpers split off the back, under one mutex. A range is split only
// while both parts keep kMinShareMessages messages or kMinShareBytes bytes.
//
// The folder's copier closes the shares when its own range is done: no more splits, then it
// waits for its helpers and merges their reports and records before it records the folder's
// watermark. A helper that fails leaves its unsettled intents kPending; the copier's run then
// ends with that error and the retry (one connection pair, all others of the folder idle)
// recovers them as after a crash.
//
// A judged split (the default, MigrateOptions::judgeSplits) measures whether it pays
// (split_judge.h): no range is handed out before the folder's copier has measured one
// connection's rate, and once the rate over all connections shows no gain, helpers take no
// more batches and range 0 goes on with what their ranges left.
//
// ShareBoard is the run's meeting point: idle workers wait on it for a range to take over
// until no folder in progress can offer one any more.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "access/mail_access.h"
#include "store/state_store.h"
#include "sync/report.h"
#include "sync/split_judge.h"

namespace mf::sync {

// A part smaller than this is not worth a second connection pair's SELECT and pipeline start.
inline constexpr size_t kMinShareMessages = 500;
inline constexpr uint64_t kMinShareBytes = 64ull << 20;
// Batches while a judged split is measured (FolderShares::takeBatch).
inline constexpr size_t kMeasuringBatchMessages = 100;
inline constexpr uint64_t kMeasuringBatchBytes = 4ull << 20;

// True if `messages` messages of `bytes` bytes in all make two parts at least.
bool worthSplitting(size_t messages, uint64_t bytes);

// The next batch of messages[i, end): at most maxCount messages and maxBytes bytes, at least
// one message while any is left; advances `i`.
std::vector<const access::MessageMeta*> takeBatchFrom(
    const std::vector<const access::MessageMeta*>& messages, size_t& i, size_t end, size_t maxCount,
    uint64_t maxBytes);

// What a helper brings back to the folder's copier.
struct ShareOutcome {
  FolderReport report;                        // copied, bytes, failures, notes of its part
  std::vector<store::MessageRecord> records;  // the outcomes it recorded
  Status status;                              // how its part ended
  const void* helper = nullptr;               // which worker copied it (one may copy several)
};

class FolderShares {
 public:
  // What a helper needs to open the folder pair on its own connections.
  struct Target {
    access::Folder source;
    access::Folder destination;
    std::string sourceName;  // the store's name of the folder (FolderReport::source)
    // What the copier's connections saw: a helper that sees another UIDVALIDITY on either
    // side copies nothing (its UIDs would name other messages).
    uint32_t sourceUidValidity = 0;
    uint32_t destinationUidValidity = 0;
  };

  // `messages` must stay alive and unchanged until close() returns. Range 0 is the whole
  // list and belongs to the caller. With a `judge` (the caller's, which must outlive the
  // shares and is only touched under their mutex until close() returns; it may go on from
  // an earlier window of the same folder), whether the split pays is measured
  // (split_judge.h): no part is handed out before one connection's rate is known, and once
  // the folder's rate over all its connections shows no gain, none any more, helpers stop at
  // their next batch and range 0 takes over what they leave.
  FolderShares(Target target, const std::vector<const access::MessageMeta*>& messages,
               SplitJudge* judge = nullptr);

  const Target& target() const { return target_; }

  // The next batch from the front of `range` (at most maxCount messages and maxBytes bytes,
  // at least one message); empty when the range is done, or for a helper's range once the
  // split stopped. Range 0 then goes on with what the helpers' ranges left unstarted. While
  // a judged split is measured, batches are small (kMeasuringBatch*): the rates are known
  // within seconds even over a slow link, and the same small number of messages in flight
  // on every connection keeps the two rates comparable.
  std::vector<const access::MessageMeta*> takeBatch(size_t range, size_t maxCount,
                                                    uint64_t maxBytes);

  // A batch of `messages` settled (its outcomes recorded) by range 0's copier or a helper:
  // what the judge measures.
  void settled(size_t messages, bool byHelper);
  // True while a judged split may still hand out a part once one connection's rate is known.
  bool mayOfferLater() const;

  // Splits the biggest unstarted range and hands out its upper part as a new range, or
  // nullopt when no range is big enough or the shares are closed. `waiting`: the helpers
  // about to ask, this one included; the part is 1/(waiting + 1) of the range's unstarted
  // bytes, so the range ends up shared equally among them and its owner (as far as every
  // part keeps the minimum).
  std::optional<size_t> split(size_t waiting = 1);
  // True if split() would hand out a range now.
  bool splittable() const;

  // A helper's part is done (every helper that got a range calls this exactly once).
  void finish(ShareOutcome outcome);

  // No more splits; waits for every helper and returns their outcomes.
  std::vector<ShareOutcome> close();

  // Ranges handed out so far, the copier's own included (a helper may copy several).
  size_t parts() const;

 private:
  struct Range {
    size_t next;  // first unstarted message
    size_t end;
  };
  // The range split() would cut (the most unstarted bytes among those big enough), with
  // its unstarted bytes; ranges_.size() if none. Called with mutex_ held.
  std::pair<size_t, uint64_t> rangeToSplit() const;
  const Target target_;
  const std::vector<const access::MessageMeta*>& messages_;
  SplitJudge* const judge_;
  bool stopped_ = false;  // the judge found no gain: no more parts, helpers stop
  mutable std::mutex mutex_;
  std::condition_variable helpersDone_;
  std::vector<Range> ranges_;
  size_t helpersRunning_ = 0;
  bool closed_ = false;
  std::vector<ShareOutcome> outcomes_;
};

class ShareBoard {
 public:
  // A folder taken from the queue, which may publish shares. Destroying it (the folder is
  // done) tells waiting workers that this folder will not offer any.
  class Ticket {
   public:
    explicit Ticket(ShareBoard* board) : board_(board) {}
    ~Ticket();
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    // Offers the folder's shares to idle workers (again on a retry) until withdraw().
    void publish(const std::shared_ptr<FolderShares>& shares);
    void withdraw(const std::shared_ptr<FolderShares>& shares);
    // The folder's copier is about to take its next batch: a moment to add workers (the
    // run's hook, setOnBatch()).
    void atBatchBoundary();

   private:
    ShareBoard* board_;
    bool counted_ = true;  // still counted as a folder that may publish
  };

  // Call before taking a folder from the queue (so a worker that finds the queue empty
  // meanwhile knows a folder is being started); release it if the queue was empty.
  std::unique_ptr<Ticket> expectFolder();

  // A worker is about to look for a part (call before it connects: the parts handed out
  // meanwhile are sized counting it). Followed by awaitShare(), or helperLeft() if it could
  // not connect.
  void expectHelper();
  void helperLeft();
  // Called by Ticket::atBatchBoundary(), on the copier's thread, holding no lock of the board
  // (set before any worker starts).
  void setOnBatch(std::function<void()> onBatch) { onBatch_ = std::move(onBatch); }
  // True when a published folder has a range to hand out and no worker is already looking
  // for a part: one more worker would find work at once.
  bool wantsHelper();

  // After expectHelper(): blocks until a published folder has a range to hand out (returned
  // with its id) or no folder in progress can offer one any more (nullopt).
  std::optional<std::pair<std::shared_ptr<FolderShares>, size_t>> awaitShare();

 private:
  friend class Ticket;
  std::mutex mutex_;
  std::condition_variable changed_;
  size_t unpublished_ = 0;  // folders in progress that have not published yet
  size_t waiting_ = 0;      // workers looking for a part (expectHelper() until awaitShare() ends)
  std::vector<std::shared_ptr<FolderShares>> published_;
  std::function<void()> onBatch_;
};

}  // namespace mf::sync
