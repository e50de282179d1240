// FolderShares / ShareBoard: every message is handed out exactly once, splits follow bytes
// and the minimum part size, and waiting workers leave when no folder can offer a part.
#include "sync/folder_shares.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

namespace mf::sync {
namespace {

struct Corpus {
  std::vector<access::MessageMeta> metas;
  std::vector<const access::MessageMeta*> pointers;
  Corpus(size_t count, uint64_t size) {
    metas.resize(count);
    for (size_t i = 0; i < count; ++i) {
      metas[i].uid = static_cast<uint32_t>(i + 1);
      metas[i].size = size;
    }
    for (const auto& m : metas) pointers.push_back(&m);
  }
};

FolderShares::Target target() {
  return {{}, {}, "INBOX", 7, 9};
}

// A judged split: no part before one connection's rate is known; a trial that is no faster
// stops the helpers at their next batch, and range 0 copies what they left, each message once.
TEST(FolderSharesTest, AJudgedSplitThatDoesNotPayGoesBackToRangeZero) {
  using namespace std::chrono_literals;
  Corpus c(3000, 1000);
  SplitJudge::Limits limits;
  limits.minSpan = 0ms;
  SplitJudge judge(limits);
  FolderShares shares(target(), c.pointers, &judge);
  std::set<uint32_t> taken;
  auto take = [&](size_t range) {
    auto batch = shares.takeBatch(range, 500, UINT64_MAX);
    for (const auto* m : batch) EXPECT_TRUE(taken.insert(m->uid).second) << m->uid;
    return batch.size();
  };
  EXPECT_TRUE(shares.mayOfferLater());
  EXPECT_EQ(take(0), kMeasuringBatchMessages);  // small batches while measuring
  EXPECT_FALSE(shares.split());
  shares.settled(100, false);
  std::this_thread::sleep_for(20ms);
  shares.settled(100, false);  // one connection: about 5,000 messages/s
  EXPECT_FALSE(shares.mayOfferLater());
  auto helper = shares.split();
  ASSERT_TRUE(helper);
  EXPECT_EQ(take(*helper), kMeasuringBatchMessages);
  shares.settled(100, true);
  for (int i = 0; i < 4; ++i) {  // all together: about 2,500 messages/s
    std::this_thread::sleep_for(40ms);
    shares.settled(100, i % 2 == 0);
  }
  EXPECT_EQ(judge.verdict(), SplitJudge::Verdict::kOneConnection);
  EXPECT_FALSE(shares.split());
  EXPECT_EQ(take(*helper), 0u);  // the helper stops
  while (take(0) > 0) {
  }
  EXPECT_EQ(taken.size(), 3000u);  // range 0 took what the helper left
  shares.finish({});
  EXPECT_EQ(shares.close().size(), 1u);
}

TEST(FolderSharesTest, SmallFoldersAreNotSplit) {
  EXPECT_FALSE(worthSplitting(999, 999 * 1000));
  EXPECT_TRUE(worthSplitting(1000, 1000));
  EXPECT_TRUE(worthSplitting(2, 2 * kMinShareBytes));
  EXPECT_FALSE(worthSplitting(1, 10 * kMinShareBytes));
  Corpus c(999, 1000);
  FolderShares shares(target(), c.pointers);
  EXPECT_FALSE(shares.split());
  EXPECT_EQ(shares.parts(), 1u);
}

TEST(FolderSharesTest, SplitsAtHalfTheUnstartedBytes) {
  Corpus c(3000, 1000);
  c.metas[2999].size = 1000 * 1000;  // the last message weighs a third of the folder
  FolderShares shares(target(), c.pointers);
  auto first = shares.takeBatch(0, 500, UINT64_MAX);
  ASSERT_EQ(first.size(), 500u);
  EXPECT_EQ(first.front()->uid, 1u);
  auto range = shares.split();
  ASSERT_TRUE(range);
  // Unstarted: uids 501..3000, 3,499,000 bytes: the upper part reaches half of it with the
  // big message and 750 others, so the new range starts at uid 2250.
  auto part = shares.takeBatch(*range, 1, UINT64_MAX);
  ASSERT_EQ(part.size(), 1u);
  EXPECT_EQ(part.front()->uid, 2250u);
  shares.finish({});  // the helper that took the range
  EXPECT_EQ(shares.close().size(), 1u);
}

TEST(FolderSharesTest, HelpersWaitingTogetherGetEqualParts) {
  Corpus c(3000, 1000);
  FolderShares shares(target(), c.pointers);
  // Three helpers waiting: each takes a quarter of what is left for the owner and the rest.
  auto first = shares.split(3), second = shares.split(2), third = shares.split(1);
  ASSERT_TRUE(first && second && third);
  EXPECT_EQ(shares.takeBatch(*first, 1, UINT64_MAX).front()->uid, 2251u);
  EXPECT_EQ(shares.takeBatch(*second, 1, UINT64_MAX).front()->uid, 1501u);
  EXPECT_EQ(shares.takeBatch(*third, 1, UINT64_MAX).front()->uid, 751u);
  EXPECT_EQ(shares.takeBatch(0, 10000, UINT64_MAX).size(), 750u);  // the owner's part
  // 750 unstarted are too few for a 500-message minimum on both sides.
  EXPECT_FALSE(shares.split(1));
  // Many helpers waiting on 1,000 messages: still no part below the minimum.
  Corpus small(1000, 1000);
  FolderShares two(target(), small.pointers);
  auto only = two.split(8);
  ASSERT_TRUE(only);
  EXPECT_EQ(two.takeBatch(*only, 10000, UINT64_MAX).size(), 500u);
  for (int i = 0; i < 3; ++i) shares.finish({});
  two.finish({});
  EXPECT_EQ(shares.close().size(), 3u);
  EXPECT_EQ(two.close().size(), 1u);
}

TEST(FolderSharesTest, EveryMessageIsHandedOutOnceAcrossConcurrentSplits) {
  Corpus c(20000, 100);
  auto shares = std::make_shared<FolderShares>(target(), c.pointers);
  std::mutex seenMutex;
  std::multiset<uint32_t> seen;
  auto drain = [&](size_t range) {
    for (;;) {
      auto batch = shares->takeBatch(range, 37, UINT64_MAX);
      if (batch.empty()) return;
      std::lock_guard lock(seenMutex);
      for (const auto* m : batch) seen.insert(m->uid);
    }
  };
  std::vector<std::thread> helpers;
  std::atomic<size_t> helped{0};
  for (int h = 0; h < 6; ++h) {
    helpers.emplace_back([&] {
      while (auto range = shares->split()) {
        drain(*range);
        ++helped;
        shares->finish({});
      }
    });
  }
  drain(0);
  auto outcomes = shares->close();
  for (auto& t : helpers) t.join();
  EXPECT_EQ(outcomes.size(), helped.load());
  EXPECT_EQ(shares->parts(), helped.load() + 1);
  ASSERT_EQ(seen.size(), c.metas.size());
  uint32_t expected = 1;
  for (uint32_t uid : seen) EXPECT_EQ(uid, expected++);
  EXPECT_FALSE(shares->split());  // closed
}

TEST(FolderSharesTest, CloseWaitsForHelpers) {
  Corpus c(2000, 100);
  FolderShares shares(target(), c.pointers);
  auto range = shares.split();
  ASSERT_TRUE(range);
  std::atomic<bool> finished{false};
  std::thread helper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ShareOutcome outcome;
    outcome.report.copied = 1000;
    finished = true;
    shares.finish(std::move(outcome));
  });
  auto outcomes = shares.close();
  EXPECT_TRUE(finished.load());
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].report.copied, 1000u);
  helper.join();
}

TEST(ShareBoardTest, WaitingWorkersTakePublishedPartsOrLeaveWhenNoneCanCome) {
  ShareBoard board;
  // No folder in progress: nothing to wait for.
  board.expectHelper();
  EXPECT_FALSE(board.awaitShare());

  Corpus c(3000, 100);
  auto shares = std::make_shared<FolderShares>(target(), c.pointers);
  auto ticket = board.expectFolder();
  std::optional<std::pair<std::shared_ptr<FolderShares>, size_t>> got;
  board.expectHelper();
  std::thread waiter([&] { got = board.awaitShare(); });  // blocks: the folder may publish
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  ticket->publish(shares);
  waiter.join();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->first, shares);
  shares->finish({});

  // A folder that ends without publishing releases the waiters.
  auto small = board.expectFolder();
  ticket->withdraw(shares);
  (void)shares->close();
  std::optional<std::pair<std::shared_ptr<FolderShares>, size_t>> none{{nullptr, 0}};
  board.expectHelper();
  std::thread leaver([&] { none = board.awaitShare(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  small.reset();
  leaver.join();
  EXPECT_FALSE(none);
}

}  // namespace
}  // namespace mf::sync
