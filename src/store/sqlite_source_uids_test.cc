// Tests of Store::allocateSourceUids (POP3 UIDL -> stable 32-bit UIDs) and of the schema
// v1 -> v2 migration that added its table (and v3, which a v1 file goes through as well).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "store/state_store.h"
#include "store/store_test_util.h"

namespace mf::store {
namespace {

using testing::execSql;
using ::testing::HasSubstr;
using testing::queryText;
using testing::TempDir;

using Uids = std::vector<uint32_t>;

// The exact schema version 1 as released (sqlite_schema.cc, migration 1). Frozen here so the
// test keeps proving that a file written by a v1 build migrates, whatever later versions add.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE schema_version (
  version INTEGER PRIMARY KEY,
  applied_at INTEGER NOT NULL
);
CREATE TABLE folder_pairs (
  mailbox_key TEXT NOT NULL,
  source_folder TEXT NOT NULL,
  destination_folder TEXT NOT NULL,
  source_uidvalidity INTEGER NOT NULL CHECK (source_uidvalidity BETWEEN 0 AND 4294967295),
  source_uidnext INTEGER NOT NULL CHECK (source_uidnext BETWEEN 0 AND 4294967295),
  source_highestmodseq INTEGER NOT NULL,
  destination_uidvalidity INTEGER NOT NULL
    CHECK (destination_uidvalidity BETWEEN 0 AND 4294967295),
  PRIMARY KEY (mailbox_key, source_folder)
) WITHOUT ROWID;
CREATE TABLE messages (
  mailbox_key TEXT NOT NULL,
  source_folder TEXT NOT NULL,
  source_uid INTEGER NOT NULL CHECK (source_uid BETWEEN 0 AND 4294967295),
  state INTEGER NOT NULL CHECK (state IN (0, 1, 2)),
  destination_uid INTEGER NOT NULL CHECK (destination_uid BETWEEN 0 AND 4294967295),
  size INTEGER NOT NULL,
  message_id TEXT NOT NULL,
  error_code TEXT NOT NULL,
  error_class TEXT NOT NULL,
  error_text TEXT NOT NULL,
  PRIMARY KEY (mailbox_key, source_folder, source_uid)
) WITHOUT ROWID;
INSERT INTO schema_version (version, applied_at) VALUES (1, 1700000000);
)sql";

class SourceUidsTest : public ::testing::Test {
 protected:
  std::unique_ptr<Store> open() {
    auto store = openSqliteStore(path_);
    EXPECT_TRUE(store.isOk()) << store.status().message();
    return store.isOk() ? std::move(store).value() : nullptr;
  }
  Uids alloc(Store& store, const std::vector<std::string>& keys, const std::string& mailbox = "k",
             const std::string& folder = "INBOX") {
    auto uids = store.allocateSourceUids(mailbox, folder, keys);
    EXPECT_TRUE(uids.isOk()) << uids.status().message();
    return uids.isOk() ? *uids : Uids{};
  }

  TempDir dir_;
  std::string path_ = dir_.file("state.db");
};

TEST_F(SourceUidsTest, NewKeysGetMaxPlusOneInOrderAndKnownKeysKeepTheirUid) {
  auto store = open();
  ASSERT_TRUE(store);
  EXPECT_EQ(alloc(*store, {"uidl-a", "uidl-b", "uidl-c"}), (Uids{1, 2, 3}));
  // Known keys come back unchanged, new ones continue above the largest UID, in call order.
  EXPECT_EQ(alloc(*store, {"uidl-c", "uidl-e", "uidl-a", "uidl-d"}), (Uids{3, 4, 1, 5}));
  EXPECT_EQ(alloc(*store, {}), Uids{});
  auto one = store->allocateSourceUid("k", "INBOX", "uidl-b");
  ASSERT_TRUE(one.isOk()) << one.status().message();
  EXPECT_EQ(*one, 2u);
}

TEST_F(SourceUidsTest, ARepeatedKeyInOneCallGetsOneUid) {
  auto store = open();
  ASSERT_TRUE(store);
  EXPECT_EQ(alloc(*store, {"x", "y", "x", "y", "z"}), (Uids{1, 2, 1, 2, 3}));
}

TEST_F(SourceUidsTest, KeysAreComparedByteForByte) {
  auto store = open();
  ASSERT_TRUE(store);
  // UIDL is case-sensitive (RFC 1939 section 7: "unique-id ... 0x21 to 0x7E").
  EXPECT_EQ(alloc(*store, {"Abc", "abc", "abc ", std::string("a\0b", 3), "a"}),
            (Uids{1, 2, 3, 4, 5}));
  EXPECT_EQ(alloc(*store, {std::string("a\0b", 3)}), (Uids{4}));
}

TEST_F(SourceUidsTest, EachMailboxAndFolderHasItsOwnUidSpace) {
  auto store = open();
  ASSERT_TRUE(store);
  EXPECT_EQ(alloc(*store, {"a", "b"}, "k1", "INBOX"), (Uids{1, 2}));
  EXPECT_EQ(alloc(*store, {"b", "a"}, "k2", "INBOX"), (Uids{1, 2}));
  EXPECT_EQ(alloc(*store, {"c"}, "k1", "Other"), (Uids{1}));
  EXPECT_EQ(alloc(*store, {"a", "c"}, "k1", "INBOX"), (Uids{1, 3}));
}

TEST_F(SourceUidsTest, UidsSurviveReopening) {
  {
    auto store = open();
    ASSERT_TRUE(store);
    EXPECT_EQ(alloc(*store, {"m1", "m2", "m3"}), (Uids{1, 2, 3}));
  }
  auto store = open();
  ASSERT_TRUE(store);
  EXPECT_EQ(alloc(*store, {"m4", "m3", "m2", "m1"}), (Uids{4, 3, 2, 1}));
}

TEST_F(SourceUidsTest, ExhaustedUidSpaceIsAConfigurationError) {
  auto store = open();
  ASSERT_TRUE(store);
  execSql(path_,
          "INSERT INTO source_uids (mailbox_key, source_folder, source_key, uid) "
          "VALUES ('k', 'INBOX', 'last', 4294967295)");
  EXPECT_EQ(alloc(*store, {"last"}), (Uids{4294967295u}));
  auto more = store->allocateSourceUids("k", "INBOX", {"last", "one-too-many"});
  ASSERT_FALSE(more.isOk());
  EXPECT_EQ(more.status().code(), Errc::kStore);
  EXPECT_EQ(more.status().errorClass(), ErrorClass::kConfiguration);
  EXPECT_THAT(more.status().message(), HasSubstr("source UIDs of this folder are used up"));
  EXPECT_THAT(more.status().message(), ::testing::Not(HasSubstr("one-too-many")));
  // Nothing of the failed call was kept, and the store still works.
  EXPECT_EQ(queryText(path_, "SELECT COUNT(*) FROM source_uids"), "1");
  EXPECT_EQ(alloc(*store, {"a"}, "k", "Other"), (Uids{1}));
}

TEST_F(SourceUidsTest, SchemaRefusesZeroAndDuplicateUids) {
  ASSERT_TRUE(open());
  execSql(path_, "INSERT INTO source_uids VALUES ('k', 'INBOX', 'a', 7)");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  EXPECT_NE(sqlite3_exec(db, "INSERT INTO source_uids VALUES ('k', 'INBOX', 'b', 7)", nullptr,
                         nullptr, nullptr),
            SQLITE_OK)
      << "two keys with one UID";
  EXPECT_NE(sqlite3_exec(db, "INSERT INTO source_uids VALUES ('k', 'INBOX', 'c', 0)", nullptr,
                         nullptr, nullptr),
            SQLITE_OK)
      << "UID 0";
  sqlite3_close(db);
}

TEST_F(SourceUidsTest, VersionOneFileMigratesAndKeepsItsData) {
  execSql(path_, kSchemaV1);
  execSql(path_,
          "INSERT INTO folder_pairs VALUES ('k', 'INBOX', 'INBOX', 5, 42, 0, 9);"
          "INSERT INTO messages VALUES ('k', 'INBOX', 41, 1, 7, 1234, '<id@x>', '', '', '');");
  ASSERT_EQ(queryText(path_, "SELECT MAX(version) FROM schema_version"), "1");
  {
    auto store = open();
    ASSERT_TRUE(store);
    EXPECT_EQ(queryText(path_, "SELECT MAX(version) FROM schema_version"), "3");
    EXPECT_EQ(queryText(path_, "SELECT COUNT(*) FROM schema_version"), "3");
    // The v1 row is untouched; v2 and v3 are recorded with their own time.
    EXPECT_EQ(queryText(path_, "SELECT applied_at FROM schema_version WHERE version = 1"),
              "1700000000");
    auto folder = store->loadFolder("k", "INBOX");
    ASSERT_TRUE(folder.isOk() && folder->has_value());
    EXPECT_EQ((*folder)->sourceUidNext, 42u);
    auto messages = store->loadMessages("k", "INBOX");
    ASSERT_TRUE(messages.isOk());
    ASSERT_EQ(messages->size(), 1u);
    EXPECT_EQ((*messages)[0].messageId, "<id@x>");
    EXPECT_EQ(alloc(*store, {"u1", "u2"}), (Uids{1, 2}));
    // v3 rebuilt the messages table with a CHECK that needs no temporary b-tree per write.
    EXPECT_THAT(queryText(path_, "SELECT sql FROM sqlite_master WHERE name = 'messages'"),
                HasSubstr("CHECK (state BETWEEN 0 AND 2)"));
  }
  // Opening the migrated file again changes nothing.
  auto store = open();
  ASSERT_TRUE(store);
  EXPECT_EQ(queryText(path_, "SELECT COUNT(*) FROM schema_version"), "3");
  EXPECT_EQ(alloc(*store, {"u2", "u3"}), (Uids{2, 3}));
  EXPECT_EQ(queryText(path_, "PRAGMA integrity_check"), "ok");
}

// Two processes (here: two Stores on one file, each in its own thread) allocating overlapping
// keys at once must agree: one UID per key, no UID for two keys.
TEST_F(SourceUidsTest, ConcurrentAllocatorsAgree) {
  ASSERT_TRUE(open());
  constexpr int kKeys = 400;
  constexpr int kChunk = 20;
  std::vector<std::map<std::string, uint32_t>> seen(2);
  std::vector<Status> results(2);
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      auto opened = openSqliteStore(path_);
      if (!opened.isOk()) {
        results[t] = opened.status();
        return;
      }
      for (int base = 0; base < kKeys; base += kChunk) {
        std::vector<std::string> keys;
        for (int i = 0; i < kChunk; ++i) {
          // Thread 1 walks the keys backwards, so the two meet in the middle.
          int n = t == 0 ? base + i : kKeys - 1 - base - i;
          keys.push_back("key-" + std::to_string(n));
        }
        auto uids = (*opened)->allocateSourceUids("k", "INBOX", keys);
        if (!uids.isOk()) {
          results[t] = uids.status();
          return;
        }
        for (size_t i = 0; i < keys.size(); ++i) seen[t][keys[i]] = (*uids)[i];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& r : results) ASSERT_TRUE(r.isOk()) << r.message();
  EXPECT_EQ(seen[0], seen[1]);
  std::map<uint32_t, std::string> byUid;
  for (const auto& [key, uid] : seen[0]) {
    EXPECT_TRUE(byUid.emplace(uid, key).second) << "UID " << uid << " given to two keys";
    EXPECT_GE(uid, 1u);
    EXPECT_LE(uid, static_cast<uint32_t>(kKeys));
  }
  EXPECT_EQ(byUid.size(), static_cast<size_t>(kKeys));
}

// A POP3 maildrop of 100,000 messages: the first run allocates every UID, each re-run only
// looks them up. Bounds are loose (10x the target); the figures are printed for tracking.
TEST_F(SourceUidsTest, HundredThousandKeysPerformance) {
  auto store = open();
  ASSERT_TRUE(store);
  std::vector<std::string> keys;
  for (int i = 0; i < 100000; ++i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%08x%08x", i + 1, 0x6b0808ed);
    keys.push_back(buf);
  }
  using Clock = std::chrono::steady_clock;
  auto t0 = Clock::now();
  auto first = store->allocateSourceUids("k", "INBOX", keys);
  auto t1 = Clock::now();
  ASSERT_TRUE(first.isOk()) << first.status().message();
  auto again = store->allocateSourceUids("k", "INBOX", keys);
  auto t2 = Clock::now();
  ASSERT_TRUE(again.isOk()) << again.status().message();
  EXPECT_EQ(*first, *again);
  EXPECT_EQ(first->back(), 100000u);
  double allocMs = std::chrono::duration<double, std::milli>(t1 - t0).count();
  double lookupMs = std::chrono::duration<double, std::milli>(t2 - t1).count();
  std::printf("[ info     ] 100k source UIDs: first allocation %.0f ms, re-run lookup %.0f ms\n",
              allocMs, lookupMs);
  EXPECT_LT(allocMs, 20000);
  EXPECT_LT(lookupMs, 10000);
}

}  // namespace
}  // namespace mf::store
