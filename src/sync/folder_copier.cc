#include "sync/folder_copier.h"

#include <strings.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <set>
#include <thread>

#include "sync/content_hash.h"
#include "sync/remedies.h"

namespace mf::sync {
namespace {

using store::MessageRecord;
using store::MessageState;

bool isSystemFlag(const std::string& flag) { return !flag.empty() && flag[0] == '\\'; }

bool containsNoCase(const std::vector<std::string>& list, const std::string& item) {
  for (const auto& x : list) {
    if (x.size() == item.size() && strncasecmp(x.data(), item.data(), x.size()) == 0) return true;
  }
  return false;
}

MessageFailure failureOf(uint32_t uid, const Status& status) {
  return MessageFailure{uid, std::string(errcName(status.code())),
                        std::string(errorClassName(status.errorClass())),
                        describeFailure(status)};
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

// Streams each fetched body into a pipelined APPEND and gathers the outcomes.
class AppendStreamer : public access::BodyConsumer {
 public:
  AppendStreamer(access::MailDestination& destination,
                 const std::map<uint32_t, const access::MessageMeta*>& batch,
                 std::function<std::vector<std::string>(const access::MessageMeta&)> flagsFor,
                 size_t window)
      : destination_(destination), batch_(batch), flagsFor_(std::move(flagsFor)), window_(window) {}

  Status begin(uint32_t uid, uint64_t size) override {
    auto it = batch_.find(uid);
    if (it == batch_.end() || delivered_.count(uid)) {
      skipping_ = true;  // a body we did not ask for (or twice): ignore it
      return Status::ok();
    }
    skipping_ = false;
    delivered_[uid] = size;
    access::AppendRequest request;
    request.ticket = uid;
    request.flags = flagsFor_(*it->second);
    request.internalDate = it->second->internalDate;
    request.size = size;
    return destination_.beginAppend(request);
  }
  Status data(std::string_view chunk) override {
    if (skipping_) return Status::ok();
    return destination_.appendData(chunk);
  }
  Status end() override {
    if (skipping_) return Status::ok();
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

  std::map<uint32_t, uint64_t> delivered_;  // uid -> body size
  std::map<uint32_t, access::AppendResult> results_;

 private:
  access::MailDestination& destination_;
  const std::map<uint32_t, const access::MessageMeta*>& batch_;
  std::function<std::vector<std::string>(const access::MessageMeta&)> flagsFor_;
  size_t window_;
  bool skipping_ = false;
};

}  // namespace

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

std::vector<std::string> FolderCopier::acceptedFlags(const access::MessageMeta& meta) const {
  std::vector<std::string> out;
  for (const auto& flag : meta.flags) {
    if (containsNoCase({"\\Recent"}, flag)) continue;
    if (!options_.includeDeleted && containsNoCase({"\\Deleted"}, flag)) continue;
    if (dropKeywords_ && !isSystemFlag(flag)) continue;
    // Keywords only where PERMANENTFLAGS allows them (\* = any); system flags always.
    if (!isSystemFlag(flag) && !destinationInfo_.acceptsAnyKeyword &&
        !containsNoCase(destinationInfo_.permanentFlags, flag)) {
      continue;
    }
    out.push_back(flag);
  }
  return out;
}

bool FolderCopier::isUpToDate(const store::FolderPairState& saved,
                              const access::FolderStatus& now, const std::string& destination) {
  return now.uidValidity == saved.sourceUidValidity && now.uidNext != 0 &&
         now.uidNext == saved.sourceUidNext && saved.destinationFolder == destination;
}

FolderReport FolderCopier::run(const FolderMapping& mapping, const access::Folder& destinationFolder,
                               bool resuming) {
  const auto started = std::chrono::steady_clock::now();
  FolderReport report;
  report.source = mapping.source.displayName();
  report.destination = joinPath(mapping.destinationPath);
  report.notes = mapping.notes;
  sourceName_ = report.source;
  destinationFolder_ = destinationFolder;
  records_.clear();
  metas_.clear();
  keywordRetry_.clear();
  singleRetry_.clear();
  recovered_.clear();
  dropKeywords_ = false;

  auto fail = [&](const Status& s) {
    report.error = s.message();
    report.errorCode = std::string(errcName(s.code()));
    report.errorRetryable = isRetryable(s);
    if (s.retryAfter()) report.retryAfterMs = s.retryAfter()->count();
  };

  Status prepared = prepare(mapping, report);
  if (!prepared) fail(prepared);

  if (prepared && !report.upToDate) {
    // Decide what to copy.
    std::vector<const access::MessageMeta*> toCopy;
    uint64_t bytes = 0;
    for (const auto& meta : metas_) {
      auto rec = records_.find(meta.uid);
      // --retry-errors touches only messages that failed before.
      if (options_.retryErrors && (rec == records_.end() || rec->second.state != MessageState::kFailed ||
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
            report.failures.push_back({meta.uid, rec->second.errorCode, rec->second.errorClass,
                                       rec->second.errorText});
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
          fail(saved);
          break;
        }
        report.failures.push_back(failureOf(meta.uid, tooBig));
        ++report.failed;
        continue;
      }
      toCopy.push_back(&meta);
      bytes += meta.size;
    }
    report.plannedMessages = toCopy.size();
    report.plannedBytes = bytes;
    if (!options_.dryRun) {
      progress_.onFolderStart(report.source, report.destination, toCopy.size(), bytes);
      Status batchStatus;
      for (size_t i = 0; i < toCopy.size() && batchStatus.isOk();) {
        std::vector<const access::MessageMeta*> batch;
        uint64_t batchBytes = 0;
        while (i < toCopy.size() && batch.size() < options_.batchMessages &&
               (batch.empty() || batchBytes + toCopy[i]->size <= options_.batchBytes)) {
          batchBytes += toCopy[i]->size;
          batch.push_back(toCopy[i++]);
        }
        batchStatus = copyBatch(batch, report);
      }
      if (batchStatus && !singleRetry_.empty()) {
        // A MULTIAPPEND is all or nothing: one refused message refuses its whole batch.
        // Send those messages again one per command, so each lands or fails on its own.
        std::vector<const access::MessageMeta*> again;
        again.swap(singleRetry_);
        destination_.setAppendBatching(1, 0);
        batchStatus = copyBatch(again, report);
        destination_.setAppendBatching(options_.multiAppendMessages, options_.multiAppendBytes);
      }
      if (batchStatus && !keywordRetry_.empty()) {
        // Zimbra and others announce \* yet refuse some keywords: copy those messages again
        // with their system flags only, and say so.
        std::vector<const access::MessageMeta*> again;
        again.swap(keywordRetry_);
        dropKeywords_ = true;
        batchStatus = copyBatch(again, report);
        dropKeywords_ = false;
        report.notes.push_back(std::to_string(again.size()) +
                               " message(s) copied without their keywords: the destination "
                               "refused them");
      }
      if (!batchStatus) {
        fail(batchStatus);
        // Messages never attempted are neither copied nor failed: count them as failed for
        // this run so the numbers add up; they stay unrecorded and the next run copies them.
        uint64_t handled = report.copied + report.alreadyCopied + report.skippedDeleted +
                           report.skippedVanished + report.failed;
        if (report.seen > handled) report.failed += report.seen - handled;
      } else {
        // Advance the watermark: everything below UIDNEXT is handled, except messages
        // whose failure is worth retrying, which the next run must list again.
        uint32_t watermark = sourceStatus_.uidNext;
        if (!watermark && !metas_.empty()) watermark = metas_.back().uid + 1;
        if (options_.retryErrors && saved_) watermark = saved_->sourceUidNext;
        for (const auto& [uid, rec] : records_) {
          if (rec.state == MessageState::kFailed && retryable(rec) && uid < watermark) {
            watermark = uid;
            break;
          }
        }
        store::FolderPairState state;
        state.mailboxKey = options_.mailboxKey;
        state.sourceFolder = sourceName_;
        state.destinationFolder = report.destination;
        state.sourceUidValidity = sourceStatus_.uidValidity;
        state.sourceUidNext = watermark;
        state.sourceHighestModSeq = sourceStatus_.highestModSeq;
        state.destinationUidValidity = destinationInfo_.status.uidValidity;
        Status saved = store_.saveFolder(state);
        if (!saved) fail(saved);
      }
    }
  }
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!options_.dryRun) progress_.onFolderDone(report);
  return report;
}

Status FolderCopier::prepare(const FolderMapping& mapping, FolderReport& report) {
  MF_ASSIGN_OR_RETURN(saved_, store_.loadFolder(options_.mailboxKey, sourceName_));
  MF_ASSIGN_OR_RETURN(access::FolderStatus quick, source_.folderStatus(mapping.source));
  // Work per folder, not per message, when nothing is new (SPEC.md 5).
  if (!options_.retryErrors && saved_ && mapping.existingDestination &&
      isUpToDate(*saved_, quick, report.destination)) {
    report.upToDate = true;
    return Status::ok();
  }
  if (options_.dryRun && !mapping.existingDestination) report.willCreate = true;

  MF_ASSIGN_OR_RETURN(sourceStatus_, source_.openForRead(mapping.source));
  MF_ASSIGN_OR_RETURN(auto records, store_.loadMessages(options_.mailboxKey, sourceName_));
  for (auto& r : records) records_[r.sourceUid] = std::move(r);

  if (saved_ && saved_->sourceUidValidity != sourceStatus_.uidValidity) {
    MF_RETURN_IF_ERROR(rematchAfterUidValidityChange(saved_->sourceUidValidity,
                                                     sourceStatus_.uidValidity, report));
  } else {
    uint32_t minUid = saved_ ? saved_->sourceUidNext : 1;
    if (options_.retryErrors) {
      minUid = UINT32_MAX;
      for (const auto& [uid, rec] : records_) {
        if (rec.state == MessageState::kFailed && rec.errorCode != "vanished") {
          minUid = std::min(minUid, uid);
        }
      }
    }
    if (sourceStatus_.messages > 0 && minUid != UINT32_MAX) {
      MF_ASSIGN_OR_RETURN(metas_, source_.listMessages(minUid));
    }
  }
  if (options_.dryRun) return Status::ok();

  MF_ASSIGN_OR_RETURN(destinationInfo_, destination_.openForAppend(destinationFolder_));
  destination_.setAppendBatching(options_.multiAppendMessages, options_.multiAppendBytes);
  destinationUidFloor_ = destinationInfo_.status.uidNext;
  bool anyPending = std::any_of(records_.begin(), records_.end(), [](const auto& kv) {
    return kv.second.state == MessageState::kPending;
  });
  if (anyPending) MF_RETURN_IF_ERROR(recoverPendingIntents(report));
  return Status::ok();
}

Status FolderCopier::copyBatch(const std::vector<const access::MessageMeta*>& batch,
                               FolderReport& report) {
  // 1. Intent, durable before anything is sent.
  std::vector<MessageRecord> intents;
  std::map<uint32_t, const access::MessageMeta*> byUid;
  std::vector<uint32_t> uids;
  for (const auto* meta : batch) {
    MessageRecord r;
    r.sourceUid = meta->uid;
    r.state = MessageState::kPending;
    r.destinationUid = destinationUidFloor_;
    r.size = meta->size;
    r.messageId = meta->messageId;
    intents.push_back(r);
    byUid[meta->uid] = meta;
    uids.push_back(meta->uid);
  }
  MF_RETURN_IF_ERROR(store_.saveMessages(options_.mailboxKey, sourceName_, intents));

  // 2. Stream.
  AppendStreamer streamer(
      destination_, byUid, [this](const access::MessageMeta& m) { return acceptedFlags(m); },
      options_.appendWindow);
  Status fetched = source_.fetchBodies(uids, streamer);
  Status drained = fetched.isOk() ? streamer.drain() : Status::ok();

  // 3. Outcomes. Messages without an answer stay kPending: the next run resolves them.
  std::vector<MessageRecord> outcomes;
  Status throttled;
  for (const auto* meta : batch) {
    auto res = streamer.results_.find(meta->uid);
    if (res != streamer.results_.end()) {
      if (res->second.status.isOk()) {
        MessageRecord r;
        r.sourceUid = meta->uid;
        r.state = MessageState::kCopied;
        r.destinationUid = res->second.uid;
        r.size = meta->size;
        r.messageId = meta->messageId;
        outcomes.push_back(r);
        ++report.copied;
        uint64_t bytes = streamer.delivered_[meta->uid];
        report.bytes += bytes;
        if (res->second.uid) destinationUidFloor_ = std::max(destinationUidFloor_, res->second.uid + 1);
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
      records_[meta->uid] = outcomes.back();
    } else if (fetched.isOk() && drained.isOk() && !streamer.delivered_.count(meta->uid)) {
      // The source listed it but did not deliver it: expunged meanwhile (or a phantom UID
      // as iCloud shows). Remember it so it is not asked for again.
      MessageRecord r = failedRecord(*meta, Status(Errc::kNotFound, ErrorClass::kSource,
                                                   "the source no longer has this message"));
      r.errorCode = "vanished";
      outcomes.push_back(r);
      records_[meta->uid] = r;
      ++report.skippedVanished;
      progress_.onMessage(0, true);
    }
  }
  MF_RETURN_IF_ERROR(store_.saveMessages(options_.mailboxKey, sourceName_, outcomes));
  if (!fetched) return fetched;
  if (!drained) return drained;
  return throttled;
}

}  // namespace mf::sync
