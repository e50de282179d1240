// Timing checks of the SQLite Store. The bounds are loose (10x the target) so a loaded CI
// machine or a sanitizer build does not flake; the measured figures are printed for tracking.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "store/state_store.h"
#include "store/store_test_util.h"

namespace mf::store {
namespace {

using testing::TempDir;
using Clock = std::chrono::steady_clock;

MessageRecord record(uint32_t uid) {
  MessageRecord r;
  r.sourceUid = uid;
  r.state = MessageState::kCopied;
  r.destinationUid = uid + 7;
  r.size = 40000 + uid;
  r.messageId = "<" + std::to_string(uid) + ".1712345678@mail.example.com>";
  return r;
}

double msSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

TEST(SqliteStorePerf, SaveBatchOfThousandAndLoadHundredThousand) {
  TempDir dir;
  auto opened = openSqliteStore(dir.file("state.db"));
  ASSERT_TRUE(opened.isOk()) << opened.status().message();
  Store& store = **opened;
  const std::string key = "imaps://alice@old.example.com -> imaps://alice@new.example.com";

  constexpr uint32_t kBatch = 1000;
  constexpr uint32_t kTotal = 100000;
  double worstMs = 0, totalMs = 0;
  for (uint32_t base = 0; base < kTotal; base += kBatch) {
    std::vector<MessageRecord> batch;
    batch.reserve(kBatch);
    for (uint32_t uid = base; uid < base + kBatch; ++uid) batch.push_back(record(uid));
    auto start = Clock::now();
    ASSERT_TRUE(store.saveMessages(key, "INBOX", batch).isOk());
    double ms = msSince(start);
    totalMs += ms;
    worstMs = std::max(worstMs, ms);
  }
  double meanMs = totalMs / (kTotal / kBatch);

  // Upserting records that already exist (the pending -> copied path) costs about the same.
  std::vector<MessageRecord> again;
  for (uint32_t uid = 5000; uid < 5000 + kBatch; ++uid) again.push_back(record(uid));
  auto start = Clock::now();
  ASSERT_TRUE(store.saveMessages(key, "INBOX", again).isOk());
  double upsertMs = msSince(start);

  start = Clock::now();
  auto all = store.loadMessages(key, "INBOX");
  double loadMs = msSince(start);
  ASSERT_TRUE(all.isOk());
  ASSERT_EQ(all->size(), kTotal);
  EXPECT_EQ(all->back(), record(kTotal - 1));

  std::printf("[ info     ] saveMessages(1000): mean %.2f ms, worst %.2f ms, upsert %.2f ms\n",
              meanMs, worstMs, upsertMs);
  std::printf("[ info     ] loadMessages(100000): %.1f ms\n", loadMs);
  // No time limits here: speed is measured by bench/, this test checks that big batches and
  // big loads are correct (a timed test fails on a busy machine, not on slow code).
}

}  // namespace
}  // namespace mf::store
