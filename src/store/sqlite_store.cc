// SQLite implementation of state::Store (contract in state_store.h, file format in
// docs/formats/state-sqlite.md).
//
// Every statement is prepared once per Store and reused; values only ever reach SQL as bound
// parameters. Every public write is a single BEGIN IMMEDIATE ... COMMIT, committed before the
// call returns, so a kill -9 at any moment leaves each call's effect all there or not at all.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "store/sqlite_db.h"
#include "store/sqlite_schema.h"
#include "store/state_store.h"

namespace mf::store {

namespace {

using sqlite::Connection;
using sqlite::Statement;
using sqlite::Transaction;

constexpr const char* kLoadFolderSql =
    "SELECT destination_folder, source_uidvalidity, source_uidnext, source_highestmodseq, "
    "destination_uidvalidity FROM folder_pairs WHERE mailbox_key = ?1 AND source_folder = ?2";

constexpr const char* kSaveFolderSql =
    "INSERT INTO folder_pairs (mailbox_key, source_folder, destination_folder, "
    "source_uidvalidity, source_uidnext, source_highestmodseq, destination_uidvalidity) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
    "ON CONFLICT (mailbox_key, source_folder) DO UPDATE SET "
    "destination_folder = excluded.destination_folder, "
    "source_uidvalidity = excluded.source_uidvalidity, "
    "source_uidnext = excluded.source_uidnext, "
    "source_highestmodseq = excluded.source_highestmodseq, "
    "destination_uidvalidity = excluded.destination_uidvalidity";

// ORDER BY follows the primary key, so SQLite walks the WITHOUT ROWID b-tree in order and
// never sorts.
constexpr const char* kLoadMessagesSql =
    "SELECT source_uid, state, destination_uid, size, message_id, error_code, error_class, "
    "error_text FROM messages WHERE mailbox_key = ?1 AND source_folder = ?2 "
    "ORDER BY source_uid";

// The records a resuming run needs (Store::loadMessagesToResume): a range of the primary key
// from ?3 on, and below it only what is not copied (state 1); SQLite skips those rows without
// materializing them, so an unchanged history costs a scan of integers, not a record each.
constexpr const char* kLoadMessagesToResumeSql =
    "SELECT source_uid, state, destination_uid, size, message_id, error_code, error_class, "
    "error_text FROM messages WHERE mailbox_key = ?1 AND source_folder = ?2 "
    "AND (source_uid >= ?3 OR state <> 1) ORDER BY source_uid";
static_assert(static_cast<int>(MessageState::kCopied) == 1, "kLoadMessagesToResumeSql");

// An upsert rather than INSERT OR REPLACE: REPLACE deletes and reinserts the row, which would
// fire delete side effects (foreign keys, triggers) added by a later schema.
constexpr const char* kUpsertMessageSql =
    "INSERT INTO messages (mailbox_key, source_folder, source_uid, state, destination_uid, size, "
    "message_id, error_code, error_class, error_text) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
    "ON CONFLICT (mailbox_key, source_folder, source_uid) DO UPDATE SET "
    "state = excluded.state, destination_uid = excluded.destination_uid, size = excluded.size, "
    "message_id = excluded.message_id, error_code = excluded.error_code, "
    "error_class = excluded.error_class, error_text = excluded.error_text";

constexpr const char* kDeleteMessagesSql =
    "DELETE FROM messages WHERE mailbox_key = ?1 AND source_folder = ?2";

constexpr const char* kLookupSourceUidSql =
    "SELECT uid FROM source_uids WHERE mailbox_key = ?1 AND source_folder = ?2 AND "
    "source_key = ?3";

// One seek in the source_uids_by_uid index.
constexpr const char* kMaxSourceUidSql =
    "SELECT MAX(uid) FROM source_uids WHERE mailbox_key = ?1 AND source_folder = ?2";

constexpr const char* kInsertSourceUidSql =
    "INSERT INTO source_uids (mailbox_key, source_folder, source_key, uid) "
    "VALUES (?1, ?2, ?3, ?4)";

// A deferred (read) transaction: one consistent snapshot for many lookups, and one read lock
// instead of one per statement. Ends with COMMIT when done, ROLLBACK if abandoned.
class ReadTransaction {
 public:
  explicit ReadTransaction(Connection& conn) : conn_(conn) {}
  ~ReadTransaction() {
    if (open_) (void)conn_.exec("ROLLBACK", "ending read transaction");
  }
  ReadTransaction(const ReadTransaction&) = delete;
  ReadTransaction& operator=(const ReadTransaction&) = delete;

  Status begin(std::string_view what) {
    MF_RETURN_IF_ERROR(conn_.exec("BEGIN", what));
    open_ = true;
    return Status::ok();
  }
  Status end(std::string_view what) {
    open_ = false;
    return conn_.exec("COMMIT", what);
  }

 private:
  Connection& conn_;
  bool open_ = false;
};

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(std::unique_ptr<Connection> conn) : conn_(std::move(conn)) {}

  Status prepareStatements() {
    MF_ASSIGN_OR_RETURN(loadFolder_, conn_->prepare(kLoadFolderSql, "preparing loadFolder"));
    MF_ASSIGN_OR_RETURN(saveFolder_, conn_->prepare(kSaveFolderSql, "preparing saveFolder"));
    MF_ASSIGN_OR_RETURN(loadMessages_, conn_->prepare(kLoadMessagesSql, "preparing loadMessages"));
    MF_ASSIGN_OR_RETURN(loadMessagesToResume_,
                        conn_->prepare(kLoadMessagesToResumeSql, "preparing loadMessages"));
    MF_ASSIGN_OR_RETURN(upsertMessage_,
                        conn_->prepare(kUpsertMessageSql, "preparing saveMessages"));
    MF_ASSIGN_OR_RETURN(deleteMessages_,
                        conn_->prepare(kDeleteMessagesSql, "preparing replaceAllMessages"));
    MF_ASSIGN_OR_RETURN(lookupSourceUid_,
                        conn_->prepare(kLookupSourceUidSql, "preparing allocateSourceUids"));
    MF_ASSIGN_OR_RETURN(maxSourceUid_,
                        conn_->prepare(kMaxSourceUidSql, "preparing allocateSourceUids"));
    MF_ASSIGN_OR_RETURN(insertSourceUid_,
                        conn_->prepare(kInsertSourceUidSql, "preparing allocateSourceUids"));
    return Status::ok();
  }

  Result<std::optional<FolderPairState>> loadFolder(const std::string& mailboxKey,
                                                    const std::string& sourceFolder) override {
    constexpr std::string_view kWhat = "loading folder pair";
    Statement& s = *loadFolder_;
    Statement::Scope scope(s);
    MF_RETURN_IF_ERROR(s.bindText(1, mailboxKey, kWhat));
    MF_RETURN_IF_ERROR(s.bindText(2, sourceFolder, kWhat));
    MF_ASSIGN_OR_RETURN(bool row, s.step(kWhat));
    if (!row) return std::optional<FolderPairState>();
    FolderPairState state;
    state.mailboxKey = mailboxKey;
    state.sourceFolder = sourceFolder;
    state.destinationFolder = s.columnText(0);
    state.sourceUidValidity = static_cast<uint32_t>(s.columnInt64(1));
    state.sourceUidNext = static_cast<uint32_t>(s.columnInt64(2));
    state.sourceHighestModSeq = s.columnUint64(3);
    state.destinationUidValidity = static_cast<uint32_t>(s.columnInt64(4));
    return std::optional<FolderPairState>(std::move(state));
  }

  Status saveFolder(const FolderPairState& state) override {
    constexpr std::string_view kWhat = "saving folder pair";
    Transaction tx(*conn_);
    MF_RETURN_IF_ERROR(tx.begin(kWhat));
    {
      Statement& s = *saveFolder_;
      Statement::Scope scope(s);
      MF_RETURN_IF_ERROR(s.bindText(1, state.mailboxKey, kWhat));
      MF_RETURN_IF_ERROR(s.bindText(2, state.sourceFolder, kWhat));
      MF_RETURN_IF_ERROR(s.bindText(3, state.destinationFolder, kWhat));
      MF_RETURN_IF_ERROR(s.bindInt64(4, state.sourceUidValidity, kWhat));
      MF_RETURN_IF_ERROR(s.bindInt64(5, state.sourceUidNext, kWhat));
      MF_RETURN_IF_ERROR(s.bindUint64(6, state.sourceHighestModSeq, kWhat));
      MF_RETURN_IF_ERROR(s.bindInt64(7, state.destinationUidValidity, kWhat));
      MF_RETURN_IF_ERROR(s.run(kWhat));
    }
    return tx.commit(kWhat);
  }

  Result<std::vector<MessageRecord>> loadMessages(const std::string& mailboxKey,
                                                  const std::string& sourceFolder) override {
    constexpr std::string_view kWhat = "loading messages";
    Statement& s = *loadMessages_;
    Statement::Scope scope(s);
    MF_RETURN_IF_ERROR(s.bindText(1, mailboxKey, kWhat));
    MF_RETURN_IF_ERROR(s.bindText(2, sourceFolder, kWhat));
    return readRecords(s, kWhat);
  }

  Result<std::vector<MessageRecord>> loadMessagesToResume(const std::string& mailboxKey,
                                                          const std::string& sourceFolder,
                                                          uint32_t fromUid) override {
    constexpr std::string_view kWhat = "loading messages";
    Statement& s = *loadMessagesToResume_;
    Statement::Scope scope(s);
    MF_RETURN_IF_ERROR(s.bindText(1, mailboxKey, kWhat));
    MF_RETURN_IF_ERROR(s.bindText(2, sourceFolder, kWhat));
    MF_RETURN_IF_ERROR(s.bindInt64(3, fromUid, kWhat));
    return readRecords(s, kWhat);
  }

  Status forEachMessage(const std::string& mailboxKey, const std::string& sourceFolder,
                        const RecordVisitor& visit) override {
    constexpr std::string_view kWhat = "loading messages";
    Statement& s = *loadMessages_;
    Statement::Scope scope(s);
    MF_RETURN_IF_ERROR(s.bindText(1, mailboxKey, kWhat));
    MF_RETURN_IF_ERROR(s.bindText(2, sourceFolder, kWhat));
    return visitRecords(s, kWhat, [&visit](MessageRecord& r) { visit(r); });
  }

  // The rows of a statement selecting the columns of kLoadMessagesSql.
  Result<std::vector<MessageRecord>> readRecords(Statement& s, std::string_view kWhat) {
    std::vector<MessageRecord> records;
    MF_RETURN_IF_ERROR(
        visitRecords(s, kWhat, [&records](MessageRecord& r) { records.push_back(std::move(r)); }));
    return records;
  }

  // Each row of such a statement, one at a time, in one record that `visit` may move from
  // (every field is set again for the next row).
  template <typename Visit>
  Status visitRecords(Statement& s, std::string_view kWhat, Visit&& visit) {
    MessageRecord r;
    for (;;) {
      MF_ASSIGN_OR_RETURN(bool row, s.step(kWhat));
      if (!row) break;
      r.sourceUid = static_cast<uint32_t>(s.columnInt64(0));
      int64_t state = s.columnInt64(1);
      if (state < 0 || state > static_cast<int64_t>(MessageState::kFailed)) {
        // The CHECK constraint prevents this in files we wrote; refuse rather than guess.
        return Status(Errc::kStore, "state file " + conn_->path() + ": " + std::string(kWhat) +
                                        " : unknown message state " + std::to_string(state) +
                                        " for source UID " + std::to_string(r.sourceUid));
      }
      r.state = static_cast<MessageState>(state);
      r.destinationUid = static_cast<uint32_t>(s.columnInt64(2));
      r.size = s.columnUint64(3);
      r.messageId = s.columnText(4);
      r.errorCode = s.columnText(5);
      r.errorClass = s.columnText(6);
      r.errorText = s.columnText(7);
      visit(r);
    }
    return Status::ok();
  }

  Status saveMessages(const std::string& mailboxKey, const std::string& sourceFolder,
                      const std::vector<MessageRecord>& records) override {
    constexpr std::string_view kWhat = "saving messages";
    if (records.empty()) return Status::ok();
    Transaction tx(*conn_);
    MF_RETURN_IF_ERROR(tx.begin(kWhat));
    MF_RETURN_IF_ERROR(upsertAll(mailboxKey, sourceFolder, records, kWhat));
    return tx.commit(kWhat);
  }

  Status replaceAllMessages(const std::string& mailboxKey, const std::string& sourceFolder,
                            const std::vector<MessageRecord>& records) override {
    return replaceWith(mailboxKey, sourceFolder, [&](std::string_view kWhat) {
      return upsertAll(mailboxKey, sourceFolder, records, kWhat);
    });
  }

  Status replaceAllMessagesFrom(const std::string& mailboxKey, const std::string& sourceFolder,
                                const RecordChunks& next) override {
    return replaceWith(mailboxKey, sourceFolder, [&](std::string_view kWhat) -> Status {
      std::vector<MessageRecord> chunk;
      while (next(chunk)) {
        MF_RETURN_IF_ERROR(upsertAll(mailboxKey, sourceFolder, chunk, kWhat));
        chunk.clear();
      }
      return Status::ok();
    });
  }

  // In one transaction: a folder pair's message records deleted, then `write` run.
  Status replaceWith(const std::string& mailboxKey, const std::string& sourceFolder,
                     const std::function<Status(std::string_view)>& write) {
    constexpr std::string_view kWhat = "replacing messages";
    Transaction tx(*conn_);
    MF_RETURN_IF_ERROR(tx.begin(kWhat));
    {
      Statement& s = *deleteMessages_;
      Statement::Scope scope(s);
      MF_RETURN_IF_ERROR(s.bindText(1, mailboxKey, kWhat));
      MF_RETURN_IF_ERROR(s.bindText(2, sourceFolder, kWhat));
      MF_RETURN_IF_ERROR(s.run(kWhat));
    }
    MF_RETURN_IF_ERROR(write(kWhat));
    return tx.commit(kWhat);
  }

  Result<std::vector<uint32_t>> allocateSourceUids(
      const std::string& mailboxKey, const std::string& sourceFolder,
      const std::vector<std::string>& sourceKeys) override {
    constexpr std::string_view kWhat = "allocating source UIDs";
    std::vector<uint32_t> uids(sourceKeys.size(), 0);
    if (sourceKeys.empty()) return uids;

    // Phase 1, reads only: on a re-run every key is known and nothing is locked for writing.
    bool anyMissing = false;
    {
      ReadTransaction rtx(*conn_);
      MF_RETURN_IF_ERROR(rtx.begin(kWhat));
      for (size_t i = 0; i < sourceKeys.size(); ++i) {
        MF_ASSIGN_OR_RETURN(std::optional<uint32_t> uid,
                            lookupSourceUid(mailboxKey, sourceFolder, sourceKeys[i], kWhat));
        if (uid) {
          uids[i] = *uid;
        } else {
          anyMissing = true;
        }
      }
      MF_RETURN_IF_ERROR(rtx.end(kWhat));
    }
    if (!anyMissing) return uids;

    // Phase 2, one write transaction: look the missing keys up again (another process may
    // have allocated them meanwhile), then hand out max + 1, max + 2, ... in the given order.
    Transaction tx(*conn_);
    MF_RETURN_IF_ERROR(tx.begin(kWhat));
    uint64_t next = 1;
    {
      Statement& s = *maxSourceUid_;
      Statement::Scope scope(s);
      MF_RETURN_IF_ERROR(s.bindText(1, mailboxKey, kWhat));
      MF_RETURN_IF_ERROR(s.bindText(2, sourceFolder, kWhat));
      MF_ASSIGN_OR_RETURN(bool row, s.step(kWhat));
      if (row && !s.columnIsNull(0)) next = static_cast<uint64_t>(s.columnInt64(0)) + 1;
    }
    for (size_t i = 0; i < sourceKeys.size(); ++i) {
      if (uids[i] != 0) continue;
      MF_ASSIGN_OR_RETURN(std::optional<uint32_t> uid,
                          lookupSourceUid(mailboxKey, sourceFolder, sourceKeys[i], kWhat));
      if (!uid) {
        if (next > UINT32_MAX) {
          return Status(Errc::kStore, ErrorClass::kConfiguration,
                        "state file " + conn_->path() + ": " + std::string(kWhat) +
                            " : all 2^32-1 source UIDs of this folder are used up; start a new "
                            "state file for this mailbox");
        }
        Statement& s = *insertSourceUid_;
        Statement::Scope scope(s);
        MF_RETURN_IF_ERROR(s.bindText(1, mailboxKey, kWhat));
        MF_RETURN_IF_ERROR(s.bindText(2, sourceFolder, kWhat));
        MF_RETURN_IF_ERROR(s.bindText(3, sourceKeys[i], kWhat));
        MF_RETURN_IF_ERROR(s.bindInt64(4, static_cast<int64_t>(next), kWhat));
        MF_RETURN_IF_ERROR(s.run(kWhat));
        uid = static_cast<uint32_t>(next++);
      }
      uids[i] = *uid;
      // The same key later in this call: the lookup above finds the row just inserted.
    }
    MF_RETURN_IF_ERROR(tx.commit(kWhat));
    return uids;
  }

 private:
  Result<std::optional<uint32_t>> lookupSourceUid(const std::string& mailboxKey,
                                                  const std::string& sourceFolder,
                                                  const std::string& sourceKey,
                                                  std::string_view what) {
    Statement& s = *lookupSourceUid_;
    Statement::Scope scope(s);
    MF_RETURN_IF_ERROR(s.bindText(1, mailboxKey, what));
    MF_RETURN_IF_ERROR(s.bindText(2, sourceFolder, what));
    MF_RETURN_IF_ERROR(s.bindText(3, sourceKey, what));
    MF_ASSIGN_OR_RETURN(bool row, s.step(what));
    if (!row) return std::optional<uint32_t>();
    return std::optional<uint32_t>(static_cast<uint32_t>(s.columnInt64(0)));
  }

  // Runs inside the caller's transaction. Duplicate source UIDs in one batch: the last wins.
  Status upsertAll(const std::string& mailboxKey, const std::string& sourceFolder,
                   const std::vector<MessageRecord>& records, std::string_view what) {
    Statement& s = *upsertMessage_;
    for (const MessageRecord& r : records) {
      Statement::Scope scope(s);
      MF_RETURN_IF_ERROR(s.bindText(1, mailboxKey, what));
      MF_RETURN_IF_ERROR(s.bindText(2, sourceFolder, what));
      MF_RETURN_IF_ERROR(s.bindInt64(3, r.sourceUid, what));
      MF_RETURN_IF_ERROR(s.bindInt64(4, static_cast<int64_t>(r.state), what));
      MF_RETURN_IF_ERROR(s.bindInt64(5, r.destinationUid, what));
      MF_RETURN_IF_ERROR(s.bindUint64(6, r.size, what));
      MF_RETURN_IF_ERROR(s.bindText(7, r.messageId, what));
      MF_RETURN_IF_ERROR(s.bindText(8, r.errorCode, what));
      MF_RETURN_IF_ERROR(s.bindText(9, r.errorClass, what));
      MF_RETURN_IF_ERROR(s.bindText(10, r.errorText, what));
      MF_RETURN_IF_ERROR(s.run(what));
    }
    return Status::ok();
  }

  // Declared first so it is destroyed last, after every statement prepared on it.
  std::unique_ptr<Connection> conn_;
  std::unique_ptr<Statement> loadFolder_;
  std::unique_ptr<Statement> saveFolder_;
  std::unique_ptr<Statement> loadMessages_;
  std::unique_ptr<Statement> loadMessagesToResume_;
  std::unique_ptr<Statement> upsertMessage_;
  std::unique_ptr<Statement> deleteMessages_;
  std::unique_ptr<Statement> lookupSourceUid_;
  std::unique_ptr<Statement> maxSourceUid_;
  std::unique_ptr<Statement> insertSourceUid_;
};

}  // namespace

Result<std::unique_ptr<Store>> openSqliteStore(const std::string& path) {
  MF_ASSIGN_OR_RETURN(auto conn, Connection::open(path));
  MF_RETURN_IF_ERROR(sqlite::prepareSchema(*conn));
  auto store = std::make_unique<SqliteStore>(std::move(conn));
  MF_RETURN_IF_ERROR(store->prepareStatements());
  return std::unique_ptr<Store>(std::move(store));
}

Result<std::unique_ptr<Store>> openSqliteStoreForReading(const std::string& path) {
  MF_ASSIGN_OR_RETURN(auto conn, Connection::open(path, sqlite::OpenMode::kReadOnly));
  MF_RETURN_IF_ERROR(sqlite::checkSchemaForReading(*conn));
  auto store = std::make_unique<SqliteStore>(std::move(conn));
  // The writing statements are prepared too (preparing writes nothing); running one fails
  // with SQLite's "attempt to write a readonly database".
  MF_RETURN_IF_ERROR(store->prepareStatements());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace mf::store
