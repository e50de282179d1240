// Functional tests of the SQLite Store: round trips, upserts, replaceAll, limits of every
// numeric field, schema versioning and refusal of files that are not ours.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>

#include "store/state_store.h"
#include "store/store_test_util.h"

namespace mf::store {
namespace {

using testing::execSql;
using ::testing::HasSubstr;
using testing::queryText;
using testing::TempDir;

constexpr uint32_t kMaxU32 = std::numeric_limits<uint32_t>::max();
constexpr uint64_t kMaxU64 = std::numeric_limits<uint64_t>::max();

MessageRecord copied(uint32_t uid, uint32_t dest, uint64_t size, std::string id = "") {
  MessageRecord r;
  r.sourceUid = uid;
  r.state = MessageState::kCopied;
  r.destinationUid = dest;
  r.size = size;
  r.messageId = std::move(id);
  return r;
}

FolderPairState folder(std::string key, std::string src) {
  FolderPairState f;
  f.mailboxKey = std::move(key);
  f.sourceFolder = std::move(src);
  f.destinationFolder = "INBOX/Archive";
  f.sourceUidValidity = 1234;
  f.sourceUidNext = 99;
  f.sourceHighestModSeq = 5678;
  f.destinationUidValidity = 4321;
  return f;
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<Store> open() {
    auto store = openSqliteStore(path_);
    EXPECT_TRUE(store.isOk()) << store.status().message();
    return store.isOk() ? std::move(store).value() : nullptr;
  }

  TempDir dir_;
  std::string path_ = dir_.file("state.db");
};

TEST_F(SqliteStoreTest, FolderRoundTripAndMissingFolder) {
  auto store = open();
  ASSERT_TRUE(store);
  auto missing = store->loadFolder("k", "INBOX");
  ASSERT_TRUE(missing.isOk()) << missing.status().message();
  EXPECT_FALSE(missing->has_value());

  FolderPairState f = folder("imaps://alice@old -> imaps://alice@new", "Boîte/Été");
  ASSERT_TRUE(store->saveFolder(f).isOk());
  auto loaded = store->loadFolder(f.mailboxKey, f.sourceFolder);
  ASSERT_TRUE(loaded.isOk()) << loaded.status().message();
  ASSERT_TRUE(loaded->has_value());
  EXPECT_TRUE(**loaded == f);
}

TEST_F(SqliteStoreTest, FolderUpsertReplacesEveryField) {
  auto store = open();
  ASSERT_TRUE(store);
  FolderPairState f = folder("k", "INBOX");
  ASSERT_TRUE(store->saveFolder(f).isOk());
  f.destinationFolder = "Elsewhere";
  f.sourceUidValidity = 7;
  f.sourceUidNext = 1000;
  f.sourceHighestModSeq = 1;
  f.destinationUidValidity = 8;
  ASSERT_TRUE(store->saveFolder(f).isOk());
  auto loaded = store->loadFolder("k", "INBOX");
  ASSERT_TRUE(loaded.isOk() && loaded->has_value());
  EXPECT_TRUE(**loaded == f);
  EXPECT_EQ(queryText(path_, "SELECT COUNT(*) FROM folder_pairs"), "1");
}

TEST_F(SqliteStoreTest, FolderFieldsAtTheirMaximum) {
  auto store = open();
  ASSERT_TRUE(store);
  FolderPairState f = folder("k", "INBOX");
  f.sourceUidValidity = kMaxU32;
  f.sourceUidNext = kMaxU32;
  f.destinationUidValidity = kMaxU32;
  f.sourceHighestModSeq = kMaxU64;  // beyond RFC 7162's 63 bits: still must not be mangled
  ASSERT_TRUE(store->saveFolder(f).isOk());
  auto loaded = store->loadFolder("k", "INBOX");
  ASSERT_TRUE(loaded.isOk() && loaded->has_value());
  EXPECT_TRUE(**loaded == f);
  f.sourceHighestModSeq = (uint64_t{1} << 63) - 1;  // the largest RFC 7162 mod-sequence
  ASSERT_TRUE(store->saveFolder(f).isOk());
  loaded = store->loadFolder("k", "INBOX");
  ASSERT_TRUE(loaded.isOk() && loaded->has_value());
  EXPECT_EQ((*loaded)->sourceHighestModSeq, f.sourceHighestModSeq);
}

TEST_F(SqliteStoreTest, MessagesRoundTripOrderedByUid) {
  auto store = open();
  ASSERT_TRUE(store);
  MessageRecord pending;
  pending.sourceUid = 30;
  pending.size = 12;
  pending.messageId = "<p@x>";
  MessageRecord failed;
  failed.sourceUid = 10;
  failed.state = MessageState::kFailed;
  failed.size = 70 * 1024 * 1024;
  failed.messageId = "<big@x>";
  failed.errorCode = "server_no";
  failed.errorClass = "destination_limit";
  failed.errorText = "NO [LIMIT] message too large; raise the quota or skip it";
  std::vector<MessageRecord> in = {pending, copied(20, 5, 2048, "<c@x>"), failed,
                                   copied(25, 0, 1)};  // dest 0 = no UIDPLUS
  ASSERT_TRUE(store->saveMessages("k", "INBOX", in).isOk());

  auto out = store->loadMessages("k", "INBOX");
  ASSERT_TRUE(out.isOk()) << out.status().message();
  std::vector<MessageRecord> expected = {failed, copied(20, 5, 2048, "<c@x>"), copied(25, 0, 1),
                                         pending};
  EXPECT_EQ(*out, expected);

  auto none = store->loadMessages("k", "Other");
  ASSERT_TRUE(none.isOk());
  EXPECT_TRUE(none->empty());
  EXPECT_TRUE(store->saveMessages("k", "INBOX", {}).isOk());
}

TEST_F(SqliteStoreTest, LoadToResumeSkipsCopiedHistoryBelowTheWatermark) {
  auto store = open();
  ASSERT_TRUE(store);
  MessageRecord pending;
  pending.sourceUid = 3;
  pending.destinationUid = 40;
  pending.size = 12;
  MessageRecord failed;
  failed.sourceUid = 5;
  failed.state = MessageState::kFailed;
  failed.errorCode = "too_big";
  std::vector<MessageRecord> in = {copied(1, 10, 100), copied(2, 11, 100), pending, failed,
                                   copied(7, 12, 100), copied(8, 13, 100)};
  ASSERT_TRUE(store->saveMessages("k", "INBOX", in).isOk());
  ASSERT_TRUE(store->saveMessages("k", "Other", {copied(9, 1, 1)}).isOk());
  ASSERT_TRUE(store->saveMessages("other key", "INBOX", {copied(9, 1, 1)}).isOk());

  auto resumed = store->loadMessagesToResume("k", "INBOX", 7);
  ASSERT_TRUE(resumed.isOk()) << resumed.status().message();
  std::vector<MessageRecord> expected = {pending, failed, copied(7, 12, 100), copied(8, 13, 100)};
  EXPECT_EQ(*resumed, expected);
  // From UID 1 (or 0): everything, like loadMessages.
  auto all = store->loadMessagesToResume("k", "INBOX", 0);
  ASSERT_TRUE(all.isOk());
  EXPECT_EQ(*all, *store->loadMessages("k", "INBOX"));
  auto beyond = store->loadMessagesToResume("k", "INBOX", kMaxU32);
  ASSERT_TRUE(beyond.isOk());
  EXPECT_EQ(*beyond, (std::vector<MessageRecord>{pending, failed}));
}

TEST_F(SqliteStoreTest, SaveMessagesUpserts) {
  auto store = open();
  ASSERT_TRUE(store);
  MessageRecord intent;
  intent.sourceUid = 2;
  intent.size = 100;
  intent.messageId = "<two@x>";
  ASSERT_TRUE(store->saveMessages("k", "INBOX", {copied(1, 11, 10), intent}).isOk());
  // The APPEND completed: the same UID moves from pending to copied; UID 3 is new.
  ASSERT_TRUE(
      store->saveMessages("k", "INBOX", {copied(2, 12, 100, "<two@x>"), copied(3, 13, 30)}).isOk());
  auto out = store->loadMessages("k", "INBOX");
  ASSERT_TRUE(out.isOk());
  std::vector<MessageRecord> expected = {copied(1, 11, 10), copied(2, 12, 100, "<two@x>"),
                                         copied(3, 13, 30)};
  EXPECT_EQ(*out, expected);
}

TEST_F(SqliteStoreTest, DuplicateUidInOneBatchLastWins) {
  auto store = open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->saveMessages("k", "INBOX", {copied(1, 1, 1), copied(1, 2, 2)}).isOk());
  auto out = store->loadMessages("k", "INBOX");
  ASSERT_TRUE(out.isOk());
  EXPECT_EQ(*out, std::vector<MessageRecord>{copied(1, 2, 2)});
}

TEST_F(SqliteStoreTest, MessageFieldsAtTheirMaximum) {
  auto store = open();
  ASSERT_TRUE(store);
  const uint64_t fiveGiB = uint64_t{5} << 30;
  std::vector<MessageRecord> in = {copied(1, kMaxU32, fiveGiB), copied(kMaxU32, 1, kMaxU64),
                                   copied(0, 0, 0)};
  ASSERT_TRUE(store->saveMessages("k", "INBOX", in).isOk());
  auto out = store->loadMessages("k", "INBOX");
  ASSERT_TRUE(out.isOk());
  std::vector<MessageRecord> expected = {copied(0, 0, 0), copied(1, kMaxU32, fiveGiB),
                                         copied(kMaxU32, 1, kMaxU64)};
  EXPECT_EQ(*out, expected);
}

TEST_F(SqliteStoreTest, ReplaceAllTouchesOnlyItsFolderPair) {
  auto store = open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->saveMessages("k", "INBOX", {copied(1, 1, 1), copied(2, 2, 2)}).isOk());
  ASSERT_TRUE(store->saveMessages("k", "Sent", {copied(1, 9, 9)}).isOk());
  ASSERT_TRUE(store->saveMessages("other", "INBOX", {copied(1, 8, 8)}).isOk());
  ASSERT_TRUE(store->saveFolder(folder("k", "INBOX")).isOk());

  // UIDVALIDITY changed: the re-matched records use the new UIDs.
  ASSERT_TRUE(
      store->replaceAllMessages("k", "INBOX", {copied(100, 1, 1), copied(101, 2, 2)}).isOk());
  auto inbox = store->loadMessages("k", "INBOX");
  ASSERT_TRUE(inbox.isOk());
  EXPECT_EQ(*inbox, (std::vector<MessageRecord>{copied(100, 1, 1), copied(101, 2, 2)}));
  EXPECT_EQ(*store->loadMessages("k", "Sent"), std::vector<MessageRecord>{copied(1, 9, 9)});
  EXPECT_EQ(*store->loadMessages("other", "INBOX"), std::vector<MessageRecord>{copied(1, 8, 8)});
  auto f = store->loadFolder("k", "INBOX");
  ASSERT_TRUE(f.isOk());
  EXPECT_TRUE(f->has_value()) << "replaceAllMessages must not drop the folder record";

  ASSERT_TRUE(store->replaceAllMessages("k", "INBOX", {}).isOk());
  EXPECT_TRUE(store->loadMessages("k", "INBOX")->empty());
}

TEST_F(SqliteStoreTest, RecordsStreamOutAndInForABigFolder) {
  auto store = open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->saveMessages("k", "INBOX", {copied(3, 3, 3), copied(1, 1, 1)}).isOk());
  ASSERT_TRUE(store->saveMessages("k", "Sent", {copied(1, 9, 9)}).isOk());
  std::vector<MessageRecord> visited;
  ASSERT_TRUE(
      store->forEachMessage("k", "INBOX", [&](const MessageRecord& r) { visited.push_back(r); })
          .isOk());
  EXPECT_EQ(visited, (std::vector<MessageRecord>{copied(1, 1, 1), copied(3, 3, 3)}));

  // Three chunks, the last one empty: every record of the folder replaced by theirs, at once.
  int calls = 0;
  ASSERT_TRUE(store
                  ->replaceAllMessagesFrom("k", "INBOX",
                                           [&](std::vector<MessageRecord>& chunk) {
                                             EXPECT_TRUE(chunk.empty());
                                             ++calls;
                                             if (calls == 1) chunk = {copied(10, 5, 5)};
                                             if (calls == 2) chunk = {copied(11, 6, 6)};
                                             return calls <= 3;
                                           })
                  .isOk());
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(*store->loadMessages("k", "INBOX"),
            (std::vector<MessageRecord>{copied(10, 5, 5), copied(11, 6, 6)}));
  EXPECT_EQ(*store->loadMessages("k", "Sent"), std::vector<MessageRecord>{copied(1, 9, 9)});
}

TEST_F(SqliteStoreTest, SchemaVersionIsRecordedAndWalIsOn) {
  ASSERT_TRUE(open());
  EXPECT_EQ(queryText(path_, "SELECT MAX(version) FROM schema_version"), "3");
  EXPECT_EQ(queryText(path_, "SELECT COUNT(*) FROM schema_version"), "3");
  EXPECT_EQ(queryText(path_, "PRAGMA journal_mode"), "wal");
  // Opening again must not apply the migrations twice.
  ASSERT_TRUE(open());
  EXPECT_EQ(queryText(path_, "SELECT COUNT(*) FROM schema_version"), "3");
}

// Every message write runs the table's CHECK constraints. An IN list there makes SQLite build a
// temporary b-tree per row written (three quarters of a migration's CPU, docs/performance.md),
// so the schema must let a plain write of a message record run without one.
TEST_F(SqliteStoreTest, WritingAMessageRecordNeedsNoTemporaryTable) {
  ASSERT_TRUE(open());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "EXPLAIN INSERT INTO messages VALUES "
                               "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                               -1, &stmt, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(db);
  int ephemeral = 0;
  int opcodes = 0;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    ++opcodes;
    std::string opcode = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1));
    if (opcode == "OpenEphemeral") ++ephemeral;
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  EXPECT_GT(opcodes, 0);
  EXPECT_EQ(ephemeral, 0);
}

TEST_F(SqliteStoreTest, StateOutsideTheKnownValuesIsRefusedByTheSchema) {
  ASSERT_TRUE(open());
  for (int state : {-1, 3}) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
    std::string sql = "INSERT INTO messages VALUES ('k', 'INBOX', 1, " + std::to_string(state) +
                      ", 0, 0, '', '', '', '')";
    EXPECT_NE(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << state;
    sqlite3_close(db);
  }
  EXPECT_EQ(queryText(path_, "SELECT COUNT(*) FROM messages"), "0");
}

TEST_F(SqliteStoreTest, ReopeningKeepsData) {
  {
    auto store = open();
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->saveFolder(folder("k", "INBOX")).isOk());
    ASSERT_TRUE(store->saveMessages("k", "INBOX", {copied(7, 70, 700, "<m@x>")}).isOk());
  }
  auto store = open();
  ASSERT_TRUE(store);
  auto f = store->loadFolder("k", "INBOX");
  ASSERT_TRUE(f.isOk() && f->has_value());
  EXPECT_TRUE(**f == folder("k", "INBOX"));
  EXPECT_EQ(*store->loadMessages("k", "INBOX"),
            std::vector<MessageRecord>{copied(7, 70, 700, "<m@x>")});
}

TEST_F(SqliteStoreTest, NewerSchemaIsRefused) {
  ASSERT_TRUE(open());
  execSql(path_, "INSERT INTO schema_version (version, applied_at) VALUES (4, 0)");
  auto store = openSqliteStore(path_);
  ASSERT_FALSE(store.isOk());
  EXPECT_EQ(store.status().code(), Errc::kStore);
  EXPECT_EQ(store.status().errorClass(), ErrorClass::kConfiguration);
  EXPECT_EQ(store.status().message(), "state file " + path_ +
                                          " was written by a newer mailferry (schema 4); "
                                          "upgrade mailferry");
}

TEST_F(SqliteStoreTest, GarbageFileIsRefused) {
  {
    std::ofstream out(path_, std::ios::binary);
    for (int i = 0; i < 200; ++i) out << "this is a mailbox list, not a database\n";
  }
  auto store = openSqliteStore(path_);
  ASSERT_FALSE(store.isOk());
  EXPECT_EQ(store.status().code(), Errc::kStore);
  EXPECT_THAT(store.status().message(), HasSubstr(path_));
  EXPECT_THAT(store.status().message(), HasSubstr("is not a mailferry state file"));
  // The file is left as it was.
  std::ifstream in(path_);
  std::string first;
  std::getline(in, first);
  EXPECT_EQ(first, "this is a mailbox list, not a database");
}

TEST_F(SqliteStoreTest, ForeignSqliteDatabaseIsRefused) {
  execSql(path_, "CREATE TABLE contacts (name TEXT)");
  auto store = openSqliteStore(path_);
  ASSERT_FALSE(store.isOk());
  EXPECT_THAT(store.status().message(), HasSubstr("is not a mailferry state file"));
  EXPECT_EQ(queryText(path_, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'messages'"), "0");
}

TEST_F(SqliteStoreTest, MissingDirectoryIsAStoreError) {
  std::string bad = dir_.file("no-such-dir/state.db");
  auto store = openSqliteStore(bad);
  ASSERT_FALSE(store.isOk());
  EXPECT_EQ(store.status().code(), Errc::kStore);
  EXPECT_THAT(store.status().message(), HasSubstr("state file " + bad + ": opening"));
  EXPECT_FALSE(openSqliteStore("").isOk());
}

TEST_F(SqliteStoreTest, TwoStoresOnOneFileSeeEachOthersCommits) {
  auto a = open();
  auto b = open();
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->saveMessages("k", "INBOX", {copied(1, 1, 1)}).isOk());
  ASSERT_TRUE(a->saveFolder(folder("k", "INBOX")).isOk());
  EXPECT_EQ(*b->loadMessages("k", "INBOX"), std::vector<MessageRecord>{copied(1, 1, 1)});
  EXPECT_TRUE(b->loadFolder("k", "INBOX")->has_value());
  ASSERT_TRUE(b->saveMessages("k", "INBOX", {copied(2, 2, 2)}).isOk());
  EXPECT_EQ(a->loadMessages("k", "INBOX")->size(), 2u);
}

TEST_F(SqliteStoreTest, FailedWriteIsAStoreErrorWithoutRecordContents) {
  auto store = open();
  ASSERT_TRUE(store);
  MessageRecord bad = copied(1, 1, 1, "<private-message-id@example>");
  bad.state = static_cast<MessageState>(3);  // rejected by the schema's CHECK
  Status s = store->saveMessages("k", "INBOX", {copied(0, 0, 0), bad});
  ASSERT_FALSE(s.isOk());
  EXPECT_EQ(s.code(), Errc::kStore);
  EXPECT_THAT(s.message(), HasSubstr("state file " + path_ + ": saving messages : "));
  EXPECT_THAT(s.message(), ::testing::Not(HasSubstr("private-message-id")));
  // The batch is one transaction: its valid first record was rolled back too.
  EXPECT_TRUE(store->loadMessages("k", "INBOX")->empty());
  // And the Store is still usable afterwards.
  EXPECT_TRUE(store->saveMessages("k", "INBOX", {copied(0, 0, 0)}).isOk());
}

TEST_F(SqliteStoreTest, ReaderNeverCreatesAFile) {
  auto store = openSqliteStoreForReading(path_);
  ASSERT_FALSE(store.isOk());
  EXPECT_EQ(store.status().code(), Errc::kStore);
  EXPECT_THAT(store.status().message(),
              HasSubstr("state file " + path_ + ": opening to read (does it exist"));
  EXPECT_FALSE(std::filesystem::exists(path_));
}

TEST_F(SqliteStoreTest, ReaderReadsAClosedFileAndCannotWrite) {
  {
    auto writer = open();
    ASSERT_TRUE(writer);
    ASSERT_TRUE(writer->saveFolder(folder("k", "INBOX")).isOk());
  }
  // The writer is gone (its -wal and -shm with it): the reader opens the file alone.
  auto reader = openSqliteStoreForReading(path_);
  ASSERT_TRUE(reader.isOk()) << reader.status().message();
  auto f = (*reader)->loadFolder("k", "INBOX");
  ASSERT_TRUE(f.isOk() && f->has_value()) << f.status().message();
  EXPECT_TRUE(**f == folder("k", "INBOX"));
  FolderPairState changed = folder("k", "INBOX");
  changed.destinationFolder = "Elsewhere";
  Status s = (*reader)->saveFolder(changed);
  ASSERT_FALSE(s.isOk());
  EXPECT_EQ(s.code(), Errc::kStore);
  EXPECT_THAT(s.message(), HasSubstr("readonly"));
  EXPECT_FALSE((*reader)->saveMessages("k", "INBOX", {copied(1, 1, 1)}).isOk());
  EXPECT_EQ(queryText(path_, "SELECT destination_folder FROM folder_pairs"), "INBOX/Archive");
  EXPECT_EQ(queryText(path_, "SELECT COUNT(*) FROM messages"), "0");
}

TEST_F(SqliteStoreTest, ReaderSeesAWritersLaterCommits) {
  auto writer = open();
  ASSERT_TRUE(writer);
  ASSERT_TRUE(writer->saveFolder(folder("k", "INBOX")).isOk());
  auto reader = openSqliteStoreForReading(path_);
  ASSERT_TRUE(reader.isOk()) << reader.status().message();
  ASSERT_TRUE(writer->saveFolder(folder("k", "Sent")).isOk());
  EXPECT_TRUE((*reader)->loadFolder("k", "Sent")->has_value());
  // And the writer goes on writing while the reader is open.
  EXPECT_TRUE(writer->saveMessages("k", "INBOX", {copied(1, 1, 1)}).isOk());
}

TEST_F(SqliteStoreTest, ReaderRefusesAnOlderSchemaAndLeavesItAlone) {
  ASSERT_TRUE(open());
  execSql(path_, "DELETE FROM schema_version WHERE version = 3");
  auto reader = openSqliteStoreForReading(path_);
  ASSERT_FALSE(reader.isOk());
  EXPECT_EQ(reader.status().errorClass(), ErrorClass::kConfiguration);
  EXPECT_EQ(reader.status().message(),
            "state file " + path_ +
                " was written by an older mailferry (schema 2); run `mailferry migrate` once to "
                "upgrade it");
  EXPECT_EQ(queryText(path_, "SELECT MAX(version) FROM schema_version"), "2");
}

TEST_F(SqliteStoreTest, ReaderRefusesNewerSchemaEmptyAndForeignFiles) {
  ASSERT_TRUE(open());
  execSql(path_, "INSERT INTO schema_version (version, applied_at) VALUES (4, 0)");
  auto newer = openSqliteStoreForReading(path_);
  ASSERT_FALSE(newer.isOk());
  EXPECT_THAT(newer.status().message(), HasSubstr("written by a newer mailferry"));

  std::string empty = dir_.file("empty.db");
  std::ofstream{empty};
  auto none = openSqliteStoreForReading(empty);
  ASSERT_FALSE(none.isOk());
  EXPECT_THAT(none.status().message(), HasSubstr("is not a mailferry state file"));

  std::string garbage = dir_.file("garbage.db");
  {
    std::ofstream out(garbage, std::ios::binary);
    for (int i = 0; i < 200; ++i) out << "this is a mailbox list, not a database\n";
  }
  auto foreign = openSqliteStoreForReading(garbage);
  ASSERT_FALSE(foreign.isOk());
  EXPECT_THAT(foreign.status().message(), HasSubstr("is not a mailferry state file"));
}

}  // namespace
}  // namespace mf::store
