// Whether a big folder copies faster over several connections than over one, measured while
// it is copied (internal to the sync layer; used by FolderShares).
//
// Splitting a folder between connections pays where each session is held back (a hosted
// service that throttles each one, a long link: 3x faster in docs/performance.md run 3) and
// costs where the destination itself is the limit (several Dovecot sessions appending to one
// big Maildir folder rescan it: 2x slower, run 6). Which of the two a run faces cannot be
// told from the outside, so it is measured: the folder's own copier copies alone until
// `baselineSettles` batches past its first have settled over at least `minSpan` (the rate of
// one connection); then helpers may join, and once `trialSettles` batches have settled over
// at least `minSpan` after the first helper's first one, the folder's rate over all its
// connections is compared with that: at least `minGain` times faster keeps the split,
// anything less copies the rest over one connection.
//
// Pure: the caller supplies the times (tests use made-up ones).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace mf::sync {

class SplitJudge {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Verdict { kMeasuring, kSplit, kOneConnection };
  struct Limits {
    size_t baselineSettles = 1;
    size_t trialSettles = 4;
    Clock::duration minSpan = std::chrono::seconds(1);
    double minGain = 1.2;
  };

  SplitJudge() = default;
  explicit SplitJudge(Limits limits) : limits_(limits) {}

  // A batch of `messages` settled at `at`, by the folder's own copier or by a helper.
  void settled(size_t messages, bool byHelper, Clock::time_point at);
  // True once the one-connection rate is known: helpers may join from then on.
  bool helpersAllowed() const { return baselineDone_; }
  Verdict verdict() const { return verdict_; }
  // Messages per second over one connection, and over all of them during the trial (0 until
  // measured).
  double oneConnectionRate() const { return oneRate_; }
  double splitRate() const { return splitRate_; }

 private:
  struct Span {
    bool started = false;
    Clock::time_point first{};
    Clock::time_point last{};
    size_t settles = 0;     // after the first
    uint64_t messages = 0;  // settled after the first
    void add(size_t n, Clock::time_point at);
    double rate() const;
    bool enough(size_t settlesNeeded, Clock::duration minSpan) const;
  };

  Limits limits_;
  Span alone_;
  Span together_;
  bool baselineDone_ = false;
  Verdict verdict_ = Verdict::kMeasuring;
  double oneRate_ = 0;
  double splitRate_ = 0;
};

}  // namespace mf::sync
