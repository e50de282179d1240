// Durability and sharing tests of the SQLite Store: a writer process is SIGKILLed at random
// moments (DESIGN.md practice 9) and the file must stay consistent; several connections write
// one file at the same time.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <string>
#include <thread>

#include "store/state_store.h"
#include "store/store_test_util.h"

namespace mf::store {
namespace {

using testing::queryText;
using testing::TempDir;

constexpr const char* kKey = "imaps://alice@old -> imaps://alice@new";
constexpr uint32_t kBatch = 100;

// Record i of batch k; every field derives from (k, i) so the checker can recompute it.
// Sizes go past 4 GiB on purpose.
MessageRecord batchRecord(uint32_t k, uint32_t i) {
  MessageRecord r;
  r.sourceUid = k * kBatch + i;
  r.state = static_cast<MessageState>(r.sourceUid % 3);
  r.destinationUid = r.sourceUid + 1;
  r.size = (uint64_t{k} << 32) | i;
  r.messageId = "<" + std::to_string(k) + "." + std::to_string(i) + "@kill>";
  if (r.state == MessageState::kFailed) {
    r.errorCode = "server_no";
    r.errorClass = "destination_limit";
    r.errorText = "NO quota";
  }
  return r;
}

// replaceAllMessages generation g: a count that changes with g, so a replace that left older
// rows behind would show.
uint32_t generationCount(uint32_t g) {
  return kBatch / 2 + (g % 7) * 10;
}

MessageRecord generationRecord(uint32_t g, uint32_t i) {
  MessageRecord r;
  r.sourceUid = i;
  r.state = MessageState::kCopied;
  r.destinationUid = g;
  r.size = g;
  return r;
}

// The child: resumes where the file says it stopped and writes until killed. It only ever
// leaves through _exit, never back into gtest.
// `ready`: a pipe to write one byte to once the first batch of this round is committed, so the
// parent kills at a random moment *after* work began, however slow the machine is.
[[noreturn]] void writeUntilKilled(const std::string& path, int ready) {
  auto opened = openSqliteStore(path);
  if (!opened.isOk()) _exit(10);
  Store& store = **opened;
  auto inbox = store.loadMessages(kKey, "INBOX");
  auto replaced = store.loadMessages(kKey, "Replaced");
  if (!inbox.isOk() || !replaced.isOk()) _exit(11);
  uint32_t k = static_cast<uint32_t>(inbox->size() / kBatch);
  uint32_t g = replaced->empty() ? 0 : replaced->front().destinationUid + 1;
  for (;; ++k, ++g) {
    std::vector<MessageRecord> batch;
    for (uint32_t i = 0; i < kBatch; ++i) batch.push_back(batchRecord(k, i));
    if (!store.saveMessages(kKey, "INBOX", batch).isOk()) _exit(12);
    if (ready >= 0) {
      char one = 1;
      if (write(ready, &one, 1) != 1) _exit(15);
      close(ready);
      ready = -1;
    }

    FolderPairState f;
    f.mailboxKey = kKey;
    f.sourceFolder = "INBOX";
    f.destinationFolder = "INBOX";
    f.sourceUidValidity = 0xFFFFFFFF;
    f.sourceUidNext = (k + 1) * kBatch;
    if (!store.saveFolder(f).isOk()) _exit(13);

    std::vector<MessageRecord> gen;
    for (uint32_t i = 0; i < generationCount(g); ++i) gen.push_back(generationRecord(g, i));
    if (!store.replaceAllMessages(kKey, "Replaced", gen).isOk()) _exit(14);
  }
}

// Checks the file after a kill; returns the number of INBOX records.
size_t checkConsistent(const std::string& path) {
  EXPECT_EQ(queryText(path, "PRAGMA integrity_check"), "ok");
  auto opened = openSqliteStore(path);
  EXPECT_TRUE(opened.isOk()) << opened.status().message();
  if (!opened.isOk()) return 0;
  Store& store = **opened;

  // Every committed batch is fully present, none partially, and they form a prefix.
  auto inbox = store.loadMessages(kKey, "INBOX");
  EXPECT_TRUE(inbox.isOk());
  if (!inbox.isOk()) return 0;
  const size_t n = inbox->size();
  EXPECT_EQ(n % kBatch, 0u) << "a batch was committed partially";
  for (size_t idx = 0; idx < n; ++idx) {
    uint32_t uid = static_cast<uint32_t>(idx);
    if (!((*inbox)[idx] == batchRecord(uid / kBatch, uid % kBatch))) {
      ADD_FAILURE() << "record " << idx << " differs from what was written";
      break;
    }
  }

  // The folder record is written after its batch, so it trails the records by at most one.
  auto folder = store.loadFolder(kKey, "INBOX");
  EXPECT_TRUE(folder.isOk());
  if (folder.isOk() && folder->has_value()) {
    uint32_t next = (*folder)->sourceUidNext;
    EXPECT_LE(next, n);
    EXPECT_GE(next + kBatch, n);
    EXPECT_EQ((*folder)->sourceUidValidity, 0xFFFFFFFFu);
  } else {
    EXPECT_LE(n, kBatch);
  }

  // A replaceAll is all or nothing: one generation, complete.
  auto replaced = store.loadMessages(kKey, "Replaced");
  EXPECT_TRUE(replaced.isOk());
  if (replaced.isOk() && !replaced->empty()) {
    uint32_t g = replaced->front().destinationUid;
    EXPECT_EQ(replaced->size(), generationCount(g)) << "generation " << g;
    for (uint32_t i = 0; i < replaced->size(); ++i) {
      if (!((*replaced)[i] == generationRecord(g, i))) {
        ADD_FAILURE() << "replaced record " << i << " is not from generation " << g;
        break;
      }
    }
  }
  return n;
}

TEST(SqliteStoreKill, KilledWriterLeavesConsistentFile) {
  TempDir dir;
  const std::string path = dir.file("state.db");
  const unsigned seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  // 0 ms can land in the very first schema migration; later delays land mid-batch.
  std::uniform_int_distribution<int> delayUs(0, 60000);

  size_t last = 0;
  for (int round = 0; round < 10; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0) << "fork failed";
    if (pid == 0) {
      close(fds[0]);
      writeUntilKilled(path, fds[1]);
    }
    close(fds[1]);
    char one = 0;
    ASSERT_EQ(read(fds[0], &one, 1), 1) << "the writer died before its first commit";
    close(fds[0]);
    std::this_thread::sleep_for(std::chrono::microseconds(delayUs(rng)));
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "writer stopped by itself, exit code " << (WIFEXITED(status) ? WEXITSTATUS(status) : -1);

    size_t n = checkConsistent(path);
    EXPECT_GE(n, last) << "committed records disappeared";
    last = n;
    if (::testing::Test::HasFailure()) return;
  }
  EXPECT_GT(last, 0u) << "the writer never committed anything; the test proved nothing";
  std::printf("[ info     ] %zu records survived 10 kills\n", last);
}

// Several writers on one file (several mailferry processes share one state file): SQLite's
// lock plus busy_timeout must serialize them without a single failed write.
TEST(SqliteStoreSharing, ConcurrentWritersAllSucceed) {
  TempDir dir;
  const std::string path = dir.file("state.db");
  constexpr int kWriters = 3;
  constexpr uint32_t kBatches = 100;
  std::vector<std::thread> threads;
  std::vector<Status> results(kWriters);
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      auto opened = openSqliteStore(path);
      if (!opened.isOk()) {
        results[w] = opened.status();
        return;
      }
      Store& store = **opened;
      const std::string folder = "F" + std::to_string(w);
      for (uint32_t k = 0; k < kBatches; ++k) {
        std::vector<MessageRecord> batch;
        for (uint32_t i = 0; i < 10; ++i) batch.push_back(batchRecord(k, i));
        Status s = store.saveMessages(kKey, folder, batch);
        if (s.isOk()) {
          FolderPairState f;
          f.mailboxKey = kKey;
          f.sourceFolder = "shared";
          f.sourceUidNext = k;
          s = store.saveFolder(f);
        }
        if (!s.isOk()) {
          results[w] = s;
          return;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int w = 0; w < kWriters; ++w) {
    EXPECT_TRUE(results[w].isOk()) << "writer " << w << ": " << results[w].message();
  }
  auto opened = openSqliteStore(path);
  ASSERT_TRUE(opened.isOk());
  for (int w = 0; w < kWriters; ++w) {
    auto records = (*opened)->loadMessages(kKey, "F" + std::to_string(w));
    ASSERT_TRUE(records.isOk());
    EXPECT_EQ(records->size(), kBatches * 10);
  }
  EXPECT_EQ(queryText(path, "PRAGMA integrity_check"), "ok");
}

}  // namespace
}  // namespace mf::store
