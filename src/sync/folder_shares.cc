#include "sync/folder_shares.h"

#include <algorithm>

namespace mf::sync {

std::vector<const access::MessageMeta*> takeBatchFrom(
    const std::vector<const access::MessageMeta*>& messages, size_t& i, size_t end, size_t maxCount,
    uint64_t maxBytes) {
  std::vector<const access::MessageMeta*> batch;
  uint64_t bytes = 0;
  while (i < end && batch.size() < maxCount &&
         (batch.empty() || bytes + messages[i]->size <= maxBytes)) {
    bytes += messages[i]->size;
    batch.push_back(messages[i++]);
  }
  return batch;
}

FolderShares::FolderShares(Target target, const std::vector<const access::MessageMeta*>& messages,
                           SplitJudge* judge)
    : target_(std::move(target)), messages_(messages), judge_(judge) {
  ranges_.push_back({0, messages.size()});
}

std::vector<const access::MessageMeta*> FolderShares::takeBatch(size_t range, size_t maxCount,
                                                                uint64_t maxBytes) {
  std::lock_guard lock(mutex_);
  if (stopped_ && range != 0) return {};
  if (judge_ && judge_->verdict() == SplitJudge::Verdict::kMeasuring) {
    maxCount = std::min(maxCount, kMeasuringBatchMessages);
    maxBytes = std::min(maxBytes, kMeasuringBatchBytes);
  }
  Range& r = ranges_.at(range);
  auto batch = takeBatchFrom(messages_, r.next, r.end, maxCount, maxBytes);
  // Helpers take nothing once the split stopped: what their ranges left is range 0's.
  for (size_t k = 1; batch.empty() && stopped_ && range == 0 && k < ranges_.size(); ++k) {
    batch = takeBatchFrom(messages_, ranges_[k].next, ranges_[k].end, maxCount, maxBytes);
  }
  return batch;
}

void FolderShares::settled(size_t messages, bool byHelper) {
  std::lock_guard lock(mutex_);
  if (!judge_) return;
  judge_->settled(messages, byHelper, SplitJudge::Clock::now());
  if (judge_->verdict() == SplitJudge::Verdict::kOneConnection) stopped_ = true;
}

bool FolderShares::mayOfferLater() const {
  std::lock_guard lock(mutex_);
  return judge_ && !closed_ && !stopped_ && !judge_->helpersAllowed();
}

bool worthSplitting(size_t messages, uint64_t bytes) {
  return messages >= 2 && (messages >= 2 * kMinShareMessages || bytes >= 2 * kMinShareBytes);
}

std::pair<size_t, uint64_t> FolderShares::rangeToSplit() const {
  size_t best = ranges_.size();
  uint64_t bestBytes = 0;
  if (closed_ || stopped_ || (judge_ && !judge_->helpersAllowed())) return {best, bestBytes};
  for (size_t k = 0; k < ranges_.size(); ++k) {
    const Range& r = ranges_[k];
    uint64_t bytes = 0;
    for (size_t i = r.next; i < r.end; ++i) bytes += messages_[i]->size;
    if (worthSplitting(r.end - r.next, bytes) && (best == ranges_.size() || bytes > bestBytes)) {
      best = k;
      bestBytes = bytes;
    }
  }
  return {best, bestBytes};
}

bool FolderShares::splittable() const {
  std::lock_guard lock(mutex_);
  return rangeToSplit().first != ranges_.size();
}

std::optional<size_t> FolderShares::split(size_t waiting) {
  std::lock_guard lock(mutex_);
  const auto [best, bestBytes] = rangeToSplit();
  if (best == ranges_.size()) return std::nullopt;
  Range& r = ranges_[best];
  // Cut off 1/ways of the unstarted bytes from the top, so the owner and the `waiting`
  // helpers that come one after the other end up with equal parts (halving each time would
  // leave the last ones too little to split), while each part keeps the minimum.
  const size_t count = r.end - r.next;
  size_t ways = std::max<size_t>(2, waiting + 1);
  while (ways > 2 && count / ways < kMinShareMessages && bestBytes / ways < kMinShareBytes) {
    --ways;
  }
  size_t cut = r.end;
  uint64_t upper = 0;
  while (cut > r.next + 1 && upper < bestBytes / ways) upper += messages_[--cut]->size;
  if (cut == r.end) cut = r.end - 1;
  const size_t end = r.end;
  r.end = cut;
  ranges_.push_back({cut, end});
  ++helpersRunning_;
  return ranges_.size() - 1;
}

void FolderShares::finish(ShareOutcome outcome) {
  std::lock_guard lock(mutex_);
  outcomes_.push_back(std::move(outcome));
  --helpersRunning_;
  helpersDone_.notify_all();
}

std::vector<ShareOutcome> FolderShares::close() {
  std::unique_lock lock(mutex_);
  closed_ = true;
  helpersDone_.wait(lock, [this] { return helpersRunning_ == 0; });
  return std::move(outcomes_);
}

size_t FolderShares::parts() const {
  std::lock_guard lock(mutex_);
  return ranges_.size();
}

ShareBoard::Ticket::~Ticket() {
  std::lock_guard lock(board_->mutex_);
  if (counted_) --board_->unpublished_;
  board_->changed_.notify_all();
}

void ShareBoard::Ticket::publish(const std::shared_ptr<FolderShares>& shares) {
  std::lock_guard lock(board_->mutex_);
  if (counted_) --board_->unpublished_;
  counted_ = false;
  board_->published_.push_back(shares);
  board_->changed_.notify_all();
}

void ShareBoard::Ticket::withdraw(const std::shared_ptr<FolderShares>& shares) {
  std::lock_guard lock(board_->mutex_);
  auto& p = board_->published_;
  p.erase(std::remove(p.begin(), p.end(), shares), p.end());
  board_->changed_.notify_all();
}

void ShareBoard::Ticket::atBatchBoundary() {
  {
    // A judged folder may have just measured one connection's rate: waiting helpers look
    // again.
    std::lock_guard lock(board_->mutex_);
    board_->changed_.notify_all();
  }
  if (board_->onBatch_) board_->onBatch_();
}

bool ShareBoard::wantsHelper() {
  std::lock_guard lock(mutex_);
  if (waiting_ > 0) return false;
  for (const auto& shares : published_) {
    if (shares->splittable()) return true;
  }
  return false;
}

void ShareBoard::expectHelper() {
  std::lock_guard lock(mutex_);
  ++waiting_;
}

void ShareBoard::helperLeft() {
  std::lock_guard lock(mutex_);
  --waiting_;
}

std::unique_ptr<ShareBoard::Ticket> ShareBoard::expectFolder() {
  std::lock_guard lock(mutex_);
  ++unpublished_;
  return std::make_unique<Ticket>(this);
}

std::optional<std::pair<std::shared_ptr<FolderShares>, size_t>> ShareBoard::awaitShare() {
  std::unique_lock lock(mutex_);
  std::optional<std::pair<std::shared_ptr<FolderShares>, size_t>> found;
  while (!found) {
    bool later = false;  // a judged folder still measuring one connection's rate
    for (const auto& shares : published_) {
      if (auto range = shares->split(waiting_)) {
        found = std::make_pair(shares, *range);
        break;
      }
      later = later || shares->mayOfferLater();
    }
    if (found || (unpublished_ == 0 && !later)) break;
    changed_.wait(lock);
  }
  --waiting_;
  return found;
}

}  // namespace mf::sync
