// SplitJudge: one connection's rate first, then the folder's over all, then the verdict.
#include "sync/split_judge.h"

#include <gtest/gtest.h>

namespace mf::sync {
namespace {

using namespace std::chrono_literals;
using Clock = SplitJudge::Clock;

// The tests' own limits, whatever the defaults: two batches past the first over 300 ms, then
// four over 300 ms, 1.2 times faster to keep the split.
SplitJudge::Limits limits() {
  SplitJudge::Limits l;
  l.baselineSettles = 2;
  l.trialSettles = 4;
  l.minSpan = 300ms;
  l.minGain = 1.2;
  return l;
}

TEST(SplitJudge, HelpersWaitForTheOneConnectionRate) {
  SplitJudge judge(limits());
  const Clock::time_point t0{};
  judge.settled(500, false, t0);  // the pipeline's start: not counted
  EXPECT_FALSE(judge.helpersAllowed());
  judge.settled(500, false, t0 + 100ms);
  judge.settled(500, false, t0 + 200ms);
  EXPECT_FALSE(judge.helpersAllowed());  // two batches, but not 300 ms yet
  judge.settled(500, false, t0 + 400ms);
  ASSERT_TRUE(judge.helpersAllowed());
  EXPECT_DOUBLE_EQ(judge.oneConnectionRate(), 1500 / 0.4);
  EXPECT_EQ(judge.verdict(), SplitJudge::Verdict::kMeasuring);
}

SplitJudge measured() {
  SplitJudge judge(limits());
  const Clock::time_point t0{};
  for (int i = 0; i <= 4; ++i) judge.settled(100, false, t0 + i * 100ms);  // 1,000/s
  EXPECT_TRUE(judge.helpersAllowed());
  return judge;
}

TEST(SplitJudge, HeldBackConnectionsKeepTheSplit) {
  SplitJudge judge = measured();
  const Clock::time_point t{std::chrono::seconds(1)};
  judge.settled(100, false, t);  // the owner alone still: no trial yet
  judge.settled(100, true, t + 10ms);
  for (int i = 1; i <= 6; ++i) judge.settled(100, i % 3 == 0, t + 10ms + i * 60ms);
  EXPECT_EQ(judge.verdict(), SplitJudge::Verdict::kSplit);
  EXPECT_DOUBLE_EQ(judge.splitRate(), 600 / 0.36);  // 1,667/s against 1,000/s
}

TEST(SplitJudge, ABusyDestinationGoesBackToOneConnection) {
  SplitJudge judge = measured();
  const Clock::time_point t{std::chrono::seconds(1)};
  judge.settled(100, true, t);
  for (int i = 1; i <= 3; ++i) judge.settled(100, i % 2 == 0, t + i * 90ms);
  EXPECT_EQ(judge.verdict(), SplitJudge::Verdict::kMeasuring);  // three batches only
  judge.settled(100, false, t + 400ms);                         // 1,000/s: no faster
  EXPECT_EQ(judge.verdict(), SplitJudge::Verdict::kOneConnection);
  EXPECT_DOUBLE_EQ(judge.splitRate(), 400 / 0.4);
  // Settled: later batches change nothing.
  judge.settled(100000, true, t + 500ms);
  EXPECT_EQ(judge.verdict(), SplitJudge::Verdict::kOneConnection);
}

TEST(SplitJudge, AHelperBeforeTheBaselineLeavesNothingToJudge) {
  SplitJudge judge(limits());
  const Clock::time_point t0{};
  judge.settled(100, false, t0);
  judge.settled(100, true, t0 + 10ms);
  EXPECT_EQ(judge.verdict(), SplitJudge::Verdict::kSplit);
  EXPECT_EQ(judge.oneConnectionRate(), 0);
}

}  // namespace
}  // namespace mf::sync
