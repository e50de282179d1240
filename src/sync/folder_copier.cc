#include "sync/folder_copier.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <functional>
#include <set>
#include <thread>

#include "base/ascii.h"
#include "message/headers.h"
#include "sync/content_hash.h"
#include "sync/flags.h"
#include "sync/remedies.h"

namespace mf::sync {
namespace {

using store::MessageRecord;
using store::MessageState;

bool isSystemFlag(const std::string& flag) {
  return !flag.empty() && flag[0] == '\\';
}

bool inListIgnoreCase(const std::vector<std::string>& list, const std::string& item) {
  for (const auto& x : list) {
    if (equalsIgnoreCase(x, item)) return true;
  }
  return false;
}

MessageFailure failureOf(uint32_t uid, const Status& status) {
  return MessageFailure{uid, std::string(errcName(status.code())),
                        std::string(errorClassName(status.errorClass())), describeFailure(status)};
}

MessageRecord failedRecord(const access::MessageMeta& meta, const Status& status) {
  MessageRecord r;
  r.sourceUid = meta.uid;
  r.state = MessageState::kFailed;
  r.size = meta.size;
  r.messageId = meta.messageId;
  r.errorCode = std::string(errcName(status.code()));
  r.errorClass = std::string(errorClassName(status.errorClass()));
  r.errorText = describeFailure(status);
  return r;
}

// What a big folder's report says of its split over `connections` (helpers and the folder's
// own): empty when it was not split; the judge's rates when it measured them.
std::string splitNote(const SplitJudge& judge, size_t connections) {
  char rates[96];
  std::snprintf(rates, sizeof rates, "%.0f messages/s against %.0f over one", judge.splitRate(),
                judge.oneConnectionRate());
  if (judge.verdict() == SplitJudge::Verdict::kOneConnection) {
    return "copied over one connection: split over " + std::to_string(connections) +
           " for a trial, the folder went no faster (" + rates + ")";
  }
  if (connections < 2) return "";
  const bool measured =
      judge.verdict() == SplitJudge::Verdict::kSplit && judge.oneConnectionRate() > 0;
  return "copied over " + std::to_string(connections) + " connections at once (split by UID range" +
         (measured ? std::string(": ") + rates : std::string()) + ")";
}

// The batches of `messages`, in order, for FolderCopier::copyMessages.
FolderCopier::BatchSource batchesOf(const std::vector<const access::MessageMeta*>& messages) {
  return [&messages, i = size_t{0}](size_t maxCount, uint64_t maxBytes) mutable {
    return takeBatchFrom(messages, i, messages.size(), maxCount, maxBytes);
  };
}

}  // namespace

// Streams each fetched body into a pipelined APPEND and gathers the outcomes.
class FolderCopier::AppendStreamer : public access::BodyConsumer {
 public:
  AppendStreamer(access::MailDestination& destination,
                 const std::map<uint32_t, const access::MessageMeta*>& batch,
                 std::function<std::vector<std::string>(const access::MessageMeta&)> flagsFor,
                 size_t window)
      : destination_(destination), batch_(batch), flagsFor_(std::move(flagsFor)), window_(window) {}

  Status begin(uint32_t uid, uint64_t size) override {
    auto it = batch_.find(uid);
    currentUid_ = uid;
    if (it == batch_.end() || delivered_.count(uid)) {
      skipping_ = true;  // a body we did not ask for (or twice): ignore it
      return Status::ok();
    }
    skipping_ = false;
    delivered_[uid] = size;
    header_.clear();
    headerComplete_ = false;
    access::AppendRequest request;
    request.ticket = uid;
    request.flags = flagsFor_(*it->second);
    request.internalDate = it->second->internalDate;
    request.size = size;
    return destination_.beginAppend(request);
  }
  Status data(std::string_view chunk) override {
    if (skipping_) return Status::ok();
    if (!headerComplete_) keepHeader(chunk);
    return destination_.appendData(chunk);
  }
  Status end() override {
    if (skipping_) return Status::ok();
    messageIds_[currentUid_] = message::headerField(header_, "Message-ID");
    MF_RETURN_IF_ERROR(destination_.endAppend());
    // Keep the window bounded: block only when it is full, otherwise just pick up answers.
    return gather(destination_.appendsInFlight() >= window_);
  }
  Status gather(bool wait) {
    MF_ASSIGN_OR_RETURN(auto results, destination_.collect(wait));
    for (auto& r : results) results_[static_cast<uint32_t>(r.ticket)] = std::move(r);
    return Status::ok();
  }
  Status drain() {
    while (destination_.appendsInFlight() > 0) MF_RETURN_IF_ERROR(gather(true));
    return gather(false);
  }
  // Waits until every message of `batch` that was sent has its answer. Answers come in the
  // order sent, so this returns as soon as the batch's last one is in, with later appends
  // still in flight.
  Status awaitAnswers(const std::vector<const access::MessageMeta*>& batch) {
    for (auto it = batch.rbegin(); it != batch.rend(); ++it) {
      if (!delivered_.count((*it)->uid)) continue;  // never sent: no answer to wait for
      while (!results_.count((*it)->uid) && destination_.appendsInFlight() > 0) {
        MF_RETURN_IF_ERROR(gather(true));
      }
      break;
    }
    return gather(false);
  }

  std::map<uint32_t, uint64_t> delivered_;  // uid -> body size
  std::map<uint32_t, access::AppendResult> results_;
  // uid -> Message-ID, read from the header as the body streams by: the listing does not ask
  // the source for it (listMessagesWithoutMessageId), the state records still keep it.
  std::map<uint32_t, std::string> messageIds_;

 private:
  // A header longer than this is cut there for the Message-ID lookup (a real header is a few
  // KB; a Message-ID beyond 64 KB of header is treated as absent, as for the listing's).
  static constexpr size_t kHeaderKeepMax = 64 * 1024;

  void keepHeader(std::string_view chunk) {
    header_.append(chunk.substr(0, std::min(chunk.size(), kHeaderKeepMax - header_.size())));
    // Complete once the empty line ending the header is in, with bytes after it (a header
    // block as long as all we hold may still be cut short).
    headerComplete_ =
        header_.size() >= kHeaderKeepMax || message::headerBlockLength(header_) < header_.size();
  }

  access::MailDestination& destination_;
  const std::map<uint32_t, const access::MessageMeta*>& batch_;
  std::function<std::vector<std::string>(const access::MessageMeta&)> flagsFor_;
  size_t window_;
  bool skipping_ = false;
  uint32_t currentUid_ = 0;
  std::string header_;  // the start of the current message, up to its header's end
  bool headerComplete_ = false;
};

FolderCopier::FolderCopier(access::MailSource& source, access::MailDestination& destination,
                           access::MailSource& destinationReader, store::Store& store,
                           const MigrateOptions& options, ProgressSink& progress)
    : source_(source),
      destination_(destination),
      destinationReader_(destinationReader),
      store_(store),
      options_(options),
      progress_(progress) {}

bool FolderCopier::retryable(const MessageRecord& record) const {
  return record.errorClass == errorClassName(ErrorClass::kRetry);
}

bool FolderCopier::isRematched(uint32_t sourceUid) const {
  return std::binary_search(rematched_.begin(), rematched_.end(), sourceUid);
}

void FolderCopier::tallyServerOwnFlags() {
  for (const auto& meta : metas_) {
    auto rec = records_.find(meta.uid);
    if ((rec == records_.end() || rec->second.state != MessageState::kCopied) &&
        !isRematched(meta.uid)) {
      ownFlags_.add(meta.flags);
    }
  }
}

void FolderCopier::dropWhatIsStoredElsewhere() {
  if (storedElsewhere_)
    droppedAsStoredElsewhere_ += dropMessagesWithKeys(*storedElsewhere_, metas_);
}

Status FolderCopier::listNextWindow() {
  const uint32_t first = windowStarts_[nextWindow_];
  const uint32_t last = access::lastUidOfWindow(windowStarts_, nextWindow_++);
  metas_.clear();
  MF_ASSIGN_OR_RETURN(metas_,
                      source_.listMessagesBetween(first, last, storedElsewhere_ != nullptr));
  dropWhatIsStoredElsewhere();
  tallyServerOwnFlags();
  return Status::ok();
}

Status FolderCopier::saveWatermark(uint32_t upTo) {
  // Everything below it is handled, except messages whose failure is worth retrying, which
  // the next run must list again.
  uint32_t watermark = upTo;
  for (const auto& [uid, rec] : records_) {
    if (rec.state == MessageState::kFailed && retryable(rec) && uid < watermark) {
      watermark = uid;
      break;
    }
  }
  store::FolderPairState state;
  state.mailboxKey = options_.mailboxKey;
  state.sourceFolder = sourceName_;
  state.destinationFolder = destinationName_;
  state.sourceUidValidity = sourceStatus_.uidValidity;
  state.sourceUidNext = watermark;
  state.sourceHighestModSeq = sourceStatus_.highestModSeq;
  // A replaced destination folder left to a later run keeps the old value, so that run still
  // sees the change and re-matches.
  state.destinationUidValidity = destinationRematchOwed_ ? saved_->destinationUidValidity
                                                         : destinationInfo_.status.uidValidity;
  return store_.saveFolder(state);
}

std::vector<std::string> FolderCopier::acceptedFlags(const access::MessageMeta& meta) const {
  std::vector<std::string> out;
  for (const auto& flag : meta.flags) {
    if (inListIgnoreCase({"\\Recent"}, flag)) continue;
    if (!options_.includeDeleted && inListIgnoreCase({"\\Deleted"}, flag)) continue;
    if (dropKeywords_ && !isSystemFlag(flag)) continue;
    if (isServerOwnFlag(flag)) continue;  // no client can set it (flags.h)
    // Keywords only where PERMANENTFLAGS allows them (\* = any); system flags always.
    if (!isSystemFlag(flag) && !destinationInfo_.acceptsAnyKeyword &&
        !inListIgnoreCase(destinationInfo_.permanentFlags, flag)) {
      continue;
    }
    out.push_back(flag);
  }
  return out;
}

bool FolderCopier::isUpToDate(const store::FolderPairState& saved, const access::FolderStatus& now,
                              const std::string& destination) {
  return now.uidValidity == saved.sourceUidValidity && now.uidNext != 0 &&
         now.uidNext == saved.sourceUidNext && saved.destinationFolder == destination;
}

bool FolderCopier::isDestinationReplaced(const store::FolderPairState& saved,
                                         const access::FolderStatus& destinationNow) {
  return saved.destinationUidValidity != 0 && destinationNow.uidValidity != 0 &&
         saved.destinationUidValidity != destinationNow.uidValidity;
}

FolderReport FolderCopier::run(const FolderMapping& mapping,
                               const access::Folder& destinationFolder, bool resuming,
                               const access::FolderStatus* plannedStatus,
                               const access::FolderStatus* plannedDestinationStatus,
                               ShareBoard::Ticket* shareTicket) {
  const auto started = std::chrono::steady_clock::now();
  FolderReport report;
  report.source = mapping.source.displayName();
  report.destination = joinPath(mapping.destinationPath);
  report.notes = mapping.notes;
  sourceName_ = report.source;
  destinationName_ = report.destination;
  sourceFolder_ = mapping.source;
  destinationFolder_ = destinationFolder;
  records_.clear();
  rematched_.clear();
  metas_.clear();
  windowStarts_.clear();
  nextWindow_ = 0;
  windowedEstimate_.reset();
  ownFlags_ = ServerOwnFlagTally();
  droppedAsStoredElsewhere_ = 0;
  helpers_.clear();
  splitJudge_ = SplitJudge();
  keywordRetry_.clear();
  singleRetry_.clear();
  recovered_.clear();
  dropKeywords_ = false;
  destinationRematchOwed_ = false;

  auto fail = [&](const Status& s) {
    report.error = s.message();
    report.errorCode = std::string(errcName(s.code()));
    report.errorRetryable = isRetryable(s);
    if (s.retryAfter()) report.retryAfterMs = s.retryAfter()->count();
  };

  Status prepared = prepare(mapping, report, plannedStatus, plannedDestinationStatus);
  if (!prepared) fail(prepared);

  if (prepared && !report.upToDate) {
    bool announced = false;
    for (;;) {
      uint64_t bytes = 0;
      Status chosen;
      std::vector<const access::MessageMeta*> toCopy =
          chooseToCopy(resuming, report, bytes, chosen);
      if (!chosen) fail(chosen);
      report.plannedMessages += toCopy.size();
      report.plannedBytes += bytes;
      const bool lastWindow = nextWindow_ >= windowStarts_.size();
      if (options_.dryRun) {
        if (lastWindow) break;
        if (Status listed = listNextWindow(); !listed) {
          fail(listed);
          break;
        }
        continue;
      }
      if (!announced) {
        // A folder copied a window at a time announces the estimate of its plan.
        announced = true;
        if (windowedEstimate_) {
          progress_.onFolderStart(report.source, report.destination, windowedEstimate_->first,
                                  windowedEstimate_->second);
        } else {
          progress_.onFolderStart(report.source, report.destination, toCopy.size(), bytes);
        }
      }
      // These messages are attempted again now: what earlier runs recorded of them is
      // replaced by this run's outcome (a failure is recorded again, a copy is not kept).
      for (const auto* meta : toCopy) records_.erase(meta->uid);
      Status batchStatus = copyFolder(toCopy, bytes, report, shareTicket);
      if (batchStatus && !chosen) batchStatus = chosen;
      if (!batchStatus) {
        fail(batchStatus);
        // Messages never attempted are neither copied nor failed: count them as failed for
        // this run so the numbers add up; they stay unrecorded and the next run copies them.
        uint64_t handled = report.copied + report.alreadyCopied + report.skippedDeleted +
                           report.skippedVanished + report.failed;
        if (report.seen > handled) report.failed += report.seen - handled;
        break;
      }
      if (!lastWindow) {
        // A window done: a run stopped later resumes from here, not from the folder's start.
        // (--retry-errors never moves the watermark.)
        Status saved =
            options_.retryErrors ? Status::ok() : saveWatermark(windowStarts_[nextWindow_]);
        if (saved) saved = listNextWindow();
        if (!saved) {
          fail(saved);
          break;
        }
        continue;
      }
      uint32_t watermark = sourceStatus_.uidNext;
      if (!watermark && !metas_.empty()) watermark = metas_.back().uid + 1;
      if (options_.retryErrors && saved_) watermark = saved_->sourceUidNext;
      if (Status saved = saveWatermark(watermark); !saved) fail(saved);
      break;
    }
    if (droppedAsStoredElsewhere_) {
      report.notes.push_back(std::to_string(droppedAsStoredElsewhere_) +
                             " message(s) listed here are in other folders too: copied with "
                             "those, not here");
    }
    std::string split = splitNote(splitJudge_, helpers_.size() + 1);
    if (!split.empty()) report.notes.push_back(std::move(split));
    std::string ownFlagsNote = ownFlags_.note("copied without them");
    if (!ownFlagsNote.empty()) report.notes.push_back(std::move(ownFlagsNote));
  }
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!options_.dryRun) progress_.onFolderDone(report);
  return report;
}

std::vector<const access::MessageMeta*> FolderCopier::chooseToCopy(bool resuming,
                                                                   FolderReport& report,
                                                                   uint64_t& bytes, Status& error) {
  std::vector<const access::MessageMeta*> toCopy;
  for (const auto& meta : metas_) {
    if (isRematched(meta.uid)) {
      // A re-match found its copy (recorded kCopied, not held in records_).
      ++report.seen;
      ++report.alreadyCopied;
      continue;
    }
    auto rec = records_.find(meta.uid);
    // --retry-errors touches only messages that failed before.
    if (options_.retryErrors &&
        (rec == records_.end() || rec->second.state != MessageState::kFailed ||
         rec->second.errorCode == "vanished")) {
      if (rec != records_.end() && rec->second.state == MessageState::kCopied) {
        ++report.seen;
        ++report.alreadyCopied;
      }
      continue;
    }
    ++report.seen;
    if (rec != records_.end() && !options_.retryErrors) {
      if (rec->second.state == MessageState::kCopied) {
        if (resuming && recovered_.count(meta.uid)) {
          // Landed just before this run's connection dropped: copied by this run.
          ++report.copied;
          report.bytes += meta.size;
        } else {
          ++report.alreadyCopied;
        }
        continue;
      }
      if (rec->second.state == MessageState::kFailed && !retryable(rec->second)) {
        if (rec->second.errorCode == "vanished") {
          ++report.skippedVanished;
        } else {
          ++report.failed;
          report.failures.push_back(
              {meta.uid, rec->second.errorCode, rec->second.errorClass, rec->second.errorText});
        }
        continue;
      }
    }
    if (!options_.includeDeleted && meta.hasFlag("\\Deleted")) {
      ++report.skippedDeleted;
      continue;
    }
    uint64_t limit = destinationInfo_.appendLimit;
    if (options_.maxMessageBytes && (!limit || options_.maxMessageBytes < limit)) {
      limit = options_.maxMessageBytes;
    }
    if (limit && meta.size > limit && !options_.dryRun) {
      // Checked before sending: no point streaming megabytes the server will refuse.
      Status tooBig(Errc::kTooBig, "message of " + std::to_string(meta.size) +
                                       " bytes is larger than the destination's limit of " +
                                       std::to_string(limit) + " bytes");
      records_[meta.uid] = failedRecord(meta, tooBig);
      Status saved = store_.saveMessages(options_.mailboxKey, sourceName_, {records_[meta.uid]});
      if (!saved) {
        error = saved;
        break;
      }
      report.failures.push_back(failureOf(meta.uid, tooBig));
      ++report.failed;
      continue;
    }
    toCopy.push_back(&meta);
    bytes += meta.size;
  }
  // What earlier runs copied of this window is settled: only failures matter from here on
  // (the watermark stops at the first one worth retrying).
  if (!metas_.empty()) {
    const uint32_t last = metas_.back().uid;
    std::erase_if(records_, [last](const auto& kv) {
      return kv.first <= last && kv.second.state == MessageState::kCopied;
    });
  }
  return toCopy;
}

Status FolderCopier::prepare(const FolderMapping& mapping, FolderReport& report,
                             const access::FolderStatus* plannedStatus,
                             const access::FolderStatus* plannedDestinationStatus) {
  MF_ASSIGN_OR_RETURN(saved_, store_.loadFolder(options_.mailboxKey, sourceName_));
  access::FolderStatus quick;
  if (plannedStatus) {
    quick = *plannedStatus;
  } else {
    MF_ASSIGN_OR_RETURN(quick, source_.folderStatus(mapping.source));
  }
  // A subscription the caller asked for: a refusal is a note, a broken session an error.
  auto settleSubscription = [&]() -> Status {
    if (!subscribeOnOpen_ || subscribed_) return Status::ok();
    if (isRetryable(subscribed_)) return subscribed_;
    report.notes.push_back("could not subscribe: " + subscribed_.message());
    return Status::ok();
  };
  // Work per folder, not per message, when nothing is new (SPEC.md 5) and the destination
  // folder is still the one the records point into.
  if (!options_.retryErrors && saved_ && mapping.existingDestination && plannedDestinationStatus &&
      !isDestinationReplaced(*saved_, *plannedDestinationStatus) &&
      isUpToDate(*saved_, quick, report.destination)) {
    report.upToDate = true;
    if (subscribeOnOpen_) subscribed_ = destination_.subscribe(destinationFolder_);
    return settleSubscription();
  }
  if (options_.dryRun && !mapping.existingDestination) report.willCreate = true;

  // The destination folder is selected on its own connection while the source folder is
  // opened and listed and the records are read: the two servers answer at the same time
  // instead of one after the other (a round trip or two per folder, which is most of what a
  // small increment spread over many folders costs). Nothing else touches the destination
  // connection until `selected` is read.
  std::future<Result<access::DestinationFolderInfo>> selected;
  if (!options_.dryRun) {
    selected = std::async(std::launch::async, [this] {
      return subscribeOnOpen_
                 ? destination_.subscribeAndOpenForAppend(destinationFolder_, subscribed_)
                 : destination_.openForAppend(destinationFolder_);
    });
  }
  auto awaitSelected = [&]() -> Status {
    if (!selected.valid()) return Status::ok();
    auto info = selected.get();
    MF_RETURN_IF_ERROR(settleSubscription());
    if (!info) return info.status();
    destinationInfo_ = std::move(info).value();
    return Status::ok();
  };

  // Where the listing will start unless the records say otherwise (a UIDVALIDITY change or
  // --retry-errors, below): it goes out with the EXAMINE, one round trip for both.
  const uint32_t watermark = saved_ ? saved_->sourceUidNext : 1;
  std::optional<std::vector<access::MessageMeta>> listedWithOpen;
  // A folder bigger than the listing window is listed and copied a window at a time.
  const bool windowed = options_.listingWindow > 0 && quick.messages > options_.listingWindow;
  listedInWindows_ = windowed;
  if (!options_.retryErrors && quick.messages > 0 && !windowed) {
    // Without Message-IDs (the copy path reads them from the streamed headers), unless they
    // tell which messages other folders hold (copyOnlyWhatIsNotIn).
    MF_ASSIGN_OR_RETURN(auto view,
                        source_.openForReadAndList(mapping.source, watermark,
                                                   /*withMessageId=*/storedElsewhere_ != nullptr));
    sourceStatus_ = view.status;
    listedWithOpen = std::move(view.metas);
  } else {
    MF_ASSIGN_OR_RETURN(sourceStatus_, source_.openForRead(mapping.source));
  }
  // Resuming from the watermark needs the records from it on and the unsettled ones below
  // (a re-run reads its increment, not the folder's history). Recovery of pending intents
  // rewrites the folder's records and --retry-errors looks at all of them: those load
  // everything. After a UIDVALIDITY change the re-match reads them itself, a few bytes each.
  const bool sourceRenumbered = saved_ && saved_->sourceUidValidity != sourceStatus_.uidValidity;
  const bool resumable = saved_ && !sourceRenumbered && !options_.retryErrors;
  std::vector<MessageRecord> records;
  if (!sourceRenumbered) {
    MF_ASSIGN_OR_RETURN(records, resumable
                                     ? store_.loadMessagesToResume(options_.mailboxKey, sourceName_,
                                                                   saved_->sourceUidNext)
                                     : store_.loadMessages(options_.mailboxKey, sourceName_));
  }
  if (resumable && std::any_of(records.begin(), records.end(), [](const MessageRecord& r) {
        return r.state == MessageState::kPending;
      })) {
    MF_ASSIGN_OR_RETURN(records, store_.loadMessages(options_.mailboxKey, sourceName_));
  }
  for (auto& r : records) records_[r.sourceUid] = std::move(r);
  records = {};

  bool reselect = false;
  if (sourceRenumbered) {
    // The re-match reads the destination folder too (read-only): select it again after.
    MF_RETURN_IF_ERROR(awaitSelected());
    reselect = true;
    MF_RETURN_IF_ERROR(rematchAfterUidValidityChange(saved_->sourceUidValidity,
                                                     sourceStatus_.uidValidity, report));
  } else {
    uint32_t minUid = watermark;
    if (options_.retryErrors) {
      minUid = UINT32_MAX;
      for (const auto& [uid, rec] : records_) {
        if (rec.state == MessageState::kFailed && rec.errorCode != "vanished") {
          minUid = std::min(minUid, uid);
        }
      }
    }
    if (listedWithOpen && minUid == watermark) {
      metas_ = std::move(*listedWithOpen);
    } else if (sourceStatus_.messages > 0 && minUid != UINT32_MAX && windowed) {
      // Where the windows start, from the UIDs alone; the first window is listed now.
      MF_ASSIGN_OR_RETURN(auto windows, source_.planListingWindows(minUid, options_.listingWindow));
      windowStarts_ = std::move(windows.firstUids);
      windowedEstimate_.emplace(windows.messages, windows.bytes);
    } else if (sourceStatus_.messages > 0 && minUid != UINT32_MAX) {
      // Without Message-IDs: the copy path reads them from the streamed headers.
      MF_ASSIGN_OR_RETURN(metas_, storedElsewhere_ ? source_.listMessages(minUid)
                                                   : source_.listMessagesWithoutMessageId(minUid));
    }
  }
  if (windowStarts_.empty()) {
    dropWhatIsStoredElsewhere();  // listNextWindow() does it for each window
    tallyServerOwnFlags();
  }
  if (options_.dryRun) {
    if (!windowStarts_.empty()) MF_RETURN_IF_ERROR(listNextWindow());
    return Status::ok();
  }

  MF_RETURN_IF_ERROR(awaitSelected());
  if (saved_ && isDestinationReplaced(*saved_, destinationInfo_.status)) {
    if (options_.retryErrors) {
      destinationRematchOwed_ = true;
      report.notes.push_back(
          "the destination folder is not the one earlier runs filled "
          "(UIDVALIDITY changed): run without --retry-errors to copy again "
          "what it lost");
    } else {
      // Whatever was listed or planned from the watermark is replaced by the re-match's
      // listing of the whole folder, counted instead.
      ownFlags_ = ServerOwnFlagTally();
      droppedAsStoredElsewhere_ = 0;
      MF_RETURN_IF_ERROR(rematchAfterDestinationChange(
          saved_->destinationUidValidity, destinationInfo_.status.uidValidity, report));
      reselect = true;  // the re-match examined it
      if (windowStarts_.empty()) {
        dropWhatIsStoredElsewhere();
        tallyServerOwnFlags();
      }
    }
  }
  if (reselect) {
    MF_ASSIGN_OR_RETURN(destinationInfo_, destination_.openForAppend(destinationFolder_));
  }
  destination_.setAppendBatching(options_.multiAppendMessages, options_.multiAppendBytes);
  destinationUidFloor_ = destinationInfo_.status.uidNext;
  bool anyPending = std::any_of(records_.begin(), records_.end(), [](const auto& kv) {
    return kv.second.state == MessageState::kPending;
  });
  if (anyPending) MF_RETURN_IF_ERROR(recoverPendingIntents(report));
  // The first window is listed last: the listing recovery asked for in between would
  // otherwise take its place in the source's sequence number map.
  if (nextWindow_ < windowStarts_.size()) MF_RETURN_IF_ERROR(listNextWindow());
  return Status::ok();
}

Status FolderCopier::copyFolder(const std::vector<const access::MessageMeta*>& toCopy,
                                uint64_t bytes, FolderReport& report,
                                ShareBoard::Ticket* shareTicket) {
  if (!shareTicket || !worthSplitting(toCopy.size(), bytes) ||
      splitJudge_.verdict() == SplitJudge::Verdict::kOneConnection) {
    return copyWithSecondPasses(batchesOf(toCopy), report);
  }
  // A big folder: idle workers of the run may take over parts of it (folder_shares.h), and
  // unless told to split anyway, whether that pays is measured, once per folder (an earlier
  // window's verdict holds for the next).
  FolderShares::Target target{sourceFolder_, destinationFolder_, sourceName_,
                              sourceStatus_.uidValidity, destinationInfo_.status.uidValidity};
  // Measured on folders bigger than a listing window only: below that a split has cost
  // nothing measurable even where it does not pay (docs/performance.md), and the measuring
  // (small batches, helpers held back) would cost more than it could save.
  // The judge is the folder's: a measurement a window did not finish goes on in the next.
  const bool judged = options_.judgeSplits && listedInWindows_ &&
                      splitJudge_.verdict() == SplitJudge::Verdict::kMeasuring;
  auto shares =
      std::make_shared<FolderShares>(std::move(target), toCopy, judged ? &splitJudge_ : nullptr);
  shareTicket->publish(shares);
  auto fromRangeZero = [&shares, shareTicket](size_t maxCount, uint64_t maxBytes) {
    shareTicket->atBatchBoundary();
    return shares->takeBatch(0, maxCount, maxBytes);
  };
  judgedShares_ = shares.get();
  asHelper_ = false;
  Status status = copyWithSecondPasses(fromRangeZero, report);
  shareTicket->withdraw(shares);
  std::vector<ShareOutcome> outcomes = shares->close();
  judgedShares_ = nullptr;
  // A split the judge stopped after this copier's own range was done: the helpers' ranges
  // may hold messages nobody started.
  if (status && splitJudge_.verdict() == SplitJudge::Verdict::kOneConnection) {
    status = copyWithSecondPasses(fromRangeZero, report);
  }

  for (ShareOutcome& part : outcomes) {
    helpers_.insert(part.helper);
    report.copied += part.report.copied;
    report.bytes += part.report.bytes;
    report.failed += part.report.failed;
    report.skippedVanished += part.report.skippedVanished;
    for (auto& f : part.report.failures) report.failures.push_back(std::move(f));
    for (auto& n : part.report.notes) report.notes.push_back(std::move(n));
    for (auto& r : part.records) records_[r.sourceUid] = std::move(r);
    if (status.isOk() && !part.status.isOk()) status = part.status;
  }
  return status;
}

ShareOutcome FolderCopier::copyShare(FolderShares& shares, size_t range) {
  const FolderShares::Target& target = shares.target();
  ShareOutcome outcome;
  outcome.report.source = target.sourceName;
  sourceName_ = target.sourceName;
  destinationFolder_ = target.destination;
  records_.clear();
  keywordRetry_.clear();
  singleRetry_.clear();
  dropKeywords_ = false;
  outcome.status = [&]() -> Status {
    // Both folders open at once: the two round trips are all a part costs before copying.
    auto selected = std::async(std::launch::async,
                               [this] { return destination_.openForAppend(destinationFolder_); });
    auto opened = source_.openForRead(target.source);
    auto info = selected.get();
    MF_RETURN_IF_ERROR(opened.status());
    MF_RETURN_IF_ERROR(info.status());
    sourceStatus_ = std::move(opened).value();
    destinationInfo_ = std::move(info).value();
    if (sourceStatus_.uidValidity != target.sourceUidValidity ||
        destinationInfo_.status.uidValidity != target.destinationUidValidity) {
      // The copier's run ends with this error and its retry re-matches from scratch.
      return Status(
          Errc::kProtocol, ErrorClass::kRetry,
          "folder '" + target.sourceName + "' changed its UIDVALIDITY while it was being copied");
    }
    destination_.setAppendBatching(options_.multiAppendMessages, options_.multiAppendBytes);
    destinationUidFloor_ = destinationInfo_.status.uidNext;
    judgedShares_ = &shares;
    asHelper_ = true;
    Status copied = copyWithSecondPasses(
        [&shares, range](size_t maxCount, uint64_t maxBytes) {
          return shares.takeBatch(range, maxCount, maxBytes);
        },
        outcome.report);
    judgedShares_ = nullptr;
    return copied;
  }();
  for (auto& [uid, record] : records_) outcome.records.push_back(std::move(record));
  records_.clear();
  return outcome;
}

Status FolderCopier::copyWithSecondPasses(const BatchSource& next, FolderReport& report) {
  Status status = copyMessages(next, report);
  if (status && !singleRetry_.empty()) {
    // A MULTIAPPEND is all or nothing: one refused message refuses its whole batch.
    // Send those messages again one per command, so each lands or fails on its own.
    std::vector<const access::MessageMeta*> again;
    again.swap(singleRetry_);
    destination_.setAppendBatching(1, 0);
    status = copyMessages(again, report);
    destination_.setAppendBatching(options_.multiAppendMessages, options_.multiAppendBytes);
  }
  if (status && !keywordRetry_.empty()) {
    // Zimbra and others announce \* yet refuse some keywords: copy those messages again
    // with their system flags only, and say so.
    std::vector<const access::MessageMeta*> again;
    again.swap(keywordRetry_);
    dropKeywords_ = true;
    status = copyMessages(again, report);
    dropKeywords_ = false;
    report.notes.push_back(std::to_string(again.size()) +
                           " message(s) copied without their keywords: the destination "
                           "refused them");
  }
  return status;
}

Status FolderCopier::copyMessages(const std::vector<const access::MessageMeta*>& messages,
                                  FolderReport& report) {
  return copyMessages(batchesOf(messages), report);
}

Status FolderCopier::copyMessages(const BatchSource& nextBatch, FolderReport& report) {
  // Recorded batches are pipelined: batch k+1's intents are written and its bodies streamed
  // while the destination is still saving batch k's last appends, and batch k's outcomes are
  // written once its answers are in. Waiting for every answer before asking the source for
  // the next batch would leave the source idle while the destination finishes, and the
  // destination idle while the source starts the next FETCH (docs/performance.md). Crash
  // safety is unchanged: every message's intent is durable before its body is sent, and
  // appends on one connection land in the order sent, across batches too, which is what
  // recovery relies on. The intents' destination UID floor may lag behind the unanswered
  // appends of the batch before; it is a lower bound, which is all recovery needs.
  std::map<uint32_t, const access::MessageMeta*> unsettledByUid;
  AppendStreamer streamer(
      destination_, unsettledByUid,
      [this](const access::MessageMeta& m) { return acceptedFlags(m); }, options_.appendWindow);
  std::deque<InFlightBatch> unsettled;
  Status status;     // the first error of the source, the destination or the store
  Status throttled;  // the destination asked us to slow down: stop after settling
  auto settleFront = [&]() -> Status {
    MF_RETURN_IF_ERROR(settleBatch(unsettled.front(), streamer, report, throttled));
    if (judgedShares_) judgedShares_->settled(unsettled.front().messages.size(), asHelper_);
    for (const auto* meta : unsettled.front().messages) unsettledByUid.erase(meta->uid);
    unsettled.pop_front();
    return Status::ok();
  };

  while (status.isOk() && throttled.isOk()) {
    InFlightBatch batch;
    batch.messages = nextBatch(options_.batchMessages, options_.batchBytes);
    if (batch.messages.empty()) break;
    // 1. Intent, durable before anything of this batch is sent.
    std::vector<MessageRecord> intents;
    std::vector<uint32_t> uids;
    for (const auto* meta : batch.messages) {
      MessageRecord r;
      r.sourceUid = meta->uid;
      r.state = MessageState::kPending;
      r.destinationUid = destinationUidFloor_;
      r.size = meta->size;
      r.messageId = meta->messageId;
      intents.push_back(std::move(r));
      uids.push_back(meta->uid);
    }
    status = store_.saveMessages(options_.mailboxKey, sourceName_, intents);
    if (!status) break;
    for (const auto* meta : batch.messages) unsettledByUid[meta->uid] = meta;

    // 2. Stream this batch's bodies into the appends, behind the previous batch's.
    batch.fetched = source_.fetchBodies(uids, streamer);
    unsettled.push_back(std::move(batch));
    if (!unsettled.back().fetched) {
      status = unsettled.back().fetched;
      break;
    }
    // 3. Outcomes of the batch before: its answers came in while this one streamed.
    while (unsettled.size() > 1 && status.isOk()) {
      status = streamer.awaitAnswers(unsettled.front().messages);
      if (status) status = settleFront();
    }
  }
  // The last batch: wait for every answer, unless a connection failed (then no answer is
  // coming; what has none stays kPending and the next run's recovery resolves it).
  if (status.isOk()) status = streamer.drain();
  while (!unsettled.empty()) {
    Status settled = settleFront();
    if (!settled) return settled;
  }
  if (!status) return status;
  return throttled;
}

Status FolderCopier::settleBatch(const InFlightBatch& batch, AppendStreamer& streamer,
                                 FolderReport& report, Status& throttled) {
  // Messages without an answer stay kPending: the next run resolves them.
  std::vector<MessageRecord> outcomes;
  for (const auto* meta : batch.messages) {
    // The listing left the Message-ID out; the streamed header gave it.
    std::string messageId = meta->messageId;
    if (auto id = streamer.messageIds_.find(meta->uid); id != streamer.messageIds_.end()) {
      messageId = std::move(id->second);
      streamer.messageIds_.erase(id);
    }
    auto res = streamer.results_.find(meta->uid);
    if (res != streamer.results_.end()) {
      if (res->second.status.isOk()) {
        MessageRecord r;
        r.sourceUid = meta->uid;
        r.state = MessageState::kCopied;
        r.destinationUid = res->second.uid;
        r.size = meta->size;
        outcomes.push_back(r);
        ++report.copied;
        uint64_t bytes = streamer.delivered_[meta->uid];
        report.bytes += bytes;
        if (res->second.uid)
          destinationUidFloor_ = std::max(destinationUidFloor_, res->second.uid + 1);
        progress_.onMessage(bytes, true);
      } else if (res->second.inBatch && res->second.status.code() != Errc::kThrottled) {
        outcomes.push_back(failedRecord(*meta, res->second.status));
        singleRetry_.push_back(meta);
      } else if (res->second.status.code() == Errc::kKeywordRefused && !dropKeywords_) {
        outcomes.push_back(failedRecord(*meta, res->second.status));
        keywordRetry_.push_back(meta);
      } else if (res->second.status.code() == Errc::kThrottled) {
        // Not this message's fault: record it as worth retrying, and stop to wait.
        outcomes.push_back(failedRecord(*meta, res->second.status));
        if (throttled.isOk()) throttled = res->second.status;
      } else {
        outcomes.push_back(failedRecord(*meta, res->second.status));
        report.failures.push_back(failureOf(meta->uid, res->second.status));
        ++report.failed;
        progress_.onMessage(0, false);
      }
      outcomes.back().messageId = std::move(messageId);
      // In memory only what the watermark needs: failures. Copies are in the store.
      if (outcomes.back().state == MessageState::kCopied) {
        records_.erase(meta->uid);
      } else {
        records_[meta->uid] = outcomes.back();
      }
      streamer.results_.erase(res);
      streamer.delivered_.erase(meta->uid);
    } else if (batch.fetched.isOk() && !streamer.delivered_.count(meta->uid)) {
      // The source answered this batch's FETCH without this message: expunged meanwhile (or
      // a phantom UID as iCloud shows). Remember it so it is not asked for again.
      MessageRecord r = failedRecord(*meta, Status(Errc::kNotFound, ErrorClass::kSource,
                                                   "the source no longer has this message"));
      r.errorCode = "vanished";
      outcomes.push_back(r);
      records_[meta->uid] = r;
      ++report.skippedVanished;
      progress_.onMessage(0, true);
    }
  }
  return store_.saveMessages(options_.mailboxKey, sourceName_, outcomes);
}

}  // namespace mf::sync
