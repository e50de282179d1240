#include "sync/split_judge.h"

namespace mf::sync {

void SplitJudge::Span::add(size_t n, Clock::time_point at) {
  if (!started) {
    // The first batch's time includes the start of the pipeline: the rate counts from it.
    started = true;
    first = last = at;
    return;
  }
  ++settles;
  messages += n;
  last = at;
}

double SplitJudge::Span::rate() const {
  const double seconds = std::chrono::duration<double>(last - first).count();
  return seconds > 0 ? double(messages) / seconds : 0;
}

bool SplitJudge::Span::enough(size_t settlesNeeded, Clock::duration minSpan) const {
  return started && settles >= settlesNeeded && last - first >= minSpan;
}

void SplitJudge::settled(size_t messages, bool byHelper, Clock::time_point at) {
  if (verdict_ != Verdict::kMeasuring) return;
  if (!baselineDone_) {
    // Helpers are not let in before the baseline is done; one that came before (a copier
    // that cannot hold them back) leaves nothing to compare with: no verdict then.
    if (byHelper) {
      verdict_ = Verdict::kSplit;
      return;
    }
    alone_.add(messages, at);
    if (alone_.enough(limits_.baselineSettles, limits_.minSpan)) {
      baselineDone_ = true;
      oneRate_ = alone_.rate();
    }
    return;
  }
  // The trial starts with a helper's first batch: until then the folder is still copied
  // alone (helpers log in and open the folder first).
  if (!together_.started && !byHelper) return;
  together_.add(messages, at);
  if (!together_.enough(limits_.trialSettles, limits_.minSpan)) return;
  splitRate_ = together_.rate();
  verdict_ = splitRate_ >= limits_.minGain * oneRate_ ? Verdict::kSplit : Verdict::kOneConnection;
}

}  // namespace mf::sync
