#include "store/sqlite_schema.h"

#include <chrono>
#include <string>
#include <thread>

namespace mf::store::sqlite {

namespace {

// Several mailferry processes may share one file; a writer holds the lock for one batch
// (milliseconds), so 10 s only runs out when something is really stuck.
constexpr int kBusyTimeoutMs = 10000;

struct Migration {
  int version;
  const char* sql;
};

// Forward-only: a migration, once released, is never edited; the next change appends one.
// Each runs inside the transaction that also records its row in schema_version.
constexpr Migration kMigrations[] = {
    {1, R"sql(
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
)sql"},
    // Version 2: stable 32-bit UIDs for sources that name messages by strings (POP3 UIDL).
    // The unique index makes MAX(uid) per folder a single b-tree seek and guarantees that two
    // keys never share a UID, whatever a buggy writer does.
    {2, R"sql(
CREATE TABLE source_uids (
  mailbox_key TEXT NOT NULL,
  source_folder TEXT NOT NULL,
  source_key TEXT NOT NULL,
  uid INTEGER NOT NULL CHECK (uid BETWEEN 1 AND 4294967295),
  PRIMARY KEY (mailbox_key, source_folder, source_key)
) WITHOUT ROWID;
CREATE UNIQUE INDEX source_uids_by_uid ON source_uids (mailbox_key, source_folder, uid);
)sql"},
    // Version 3: the same messages table with `state BETWEEN 0 AND 2` instead of
    // `state IN (0, 1, 2)`. SQLite evaluates an IN list in a CHECK by building a temporary
    // b-tree for every row written: that was three quarters of mailferry's CPU during a
    // migration (docs/performance.md). A CHECK cannot be altered in place, so the table is
    // rebuilt the way SQLite documents (new table, copy, drop, rename) inside this
    // migration's transaction; no index, trigger or view refers to it.
    {3, R"sql(
CREATE TABLE messages_v3 (
  mailbox_key TEXT NOT NULL,
  source_folder TEXT NOT NULL,
  source_uid INTEGER NOT NULL CHECK (source_uid BETWEEN 0 AND 4294967295),
  state INTEGER NOT NULL CHECK (state BETWEEN 0 AND 2),
  destination_uid INTEGER NOT NULL CHECK (destination_uid BETWEEN 0 AND 4294967295),
  size INTEGER NOT NULL,
  message_id TEXT NOT NULL,
  error_code TEXT NOT NULL,
  error_class TEXT NOT NULL,
  error_text TEXT NOT NULL,
  PRIMARY KEY (mailbox_key, source_folder, source_uid)
) WITHOUT ROWID;
INSERT INTO messages_v3 SELECT mailbox_key, source_folder, source_uid, state, destination_uid,
  size, message_id, error_code, error_class, error_text FROM messages;
DROP TABLE messages;
ALTER TABLE messages_v3 RENAME TO messages;
)sql"},
};

static_assert(sizeof(kMigrations) / sizeof(kMigrations[0]) == kSchemaVersion,
              "one migration per schema version");

Status notAStateFile(const Connection& conn, const std::string& why) {
  return Status(Errc::kStore, ErrorClass::kConfiguration,
                "state file " + conn.path() + " is not a mailferry state file (" + why + ")");
}

// Runs "PRAGMA journal_mode=WAL" once. Returns the SQLite result code itself (not a Status)
// because the caller retries on SQLITE_BUSY; on SQLITE_OK `mode` holds the resulting mode.
int switchToWal(Connection& conn, std::string& mode) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(conn.handle(), "PRAGMA journal_mode=WAL", -1, &stmt, nullptr);
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(stmt, 0);
      mode = text != nullptr ? reinterpret_cast<const char*>(text) : "";
      rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
      rc = SQLITE_OK;
    }
  }
  sqlite3_finalize(stmt);
  return rc;
}

Status setPragmas(Connection& conn) {
  sqlite3_busy_timeout(conn.handle(), kBusyTimeoutMs);

  // Switching a fresh file to WAL needs an exclusive lock, and SQLite does not call the busy
  // handler for it: two processes opening a new file at once would see "database is locked"
  // at once. So this one step retries by itself, for as long as busy_timeout would have.
  // (Once the file is in WAL mode the pragma is a no-op and never waits.)
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(kBusyTimeoutMs);
  std::string mode;
  for (;;) {
    int rc = switchToWal(conn, mode);
    if (rc == SQLITE_OK) break;
    // The first statement reads the file header, so a foreign file shows up here.
    if ((rc & 0xff) == SQLITE_NOTADB) return notAStateFile(conn, "not an SQLite database");
    bool busy = (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
    if (!busy || std::chrono::steady_clock::now() >= deadline) {
      return conn.error(rc, "setting journal_mode=WAL");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // "memory" is what an in-memory database (path ":memory:", tests only) reports.
  if (mode != "wal" && mode != "memory") {
    return Status(Errc::kStore, ErrorClass::kConfiguration,
                  "state file " + conn.path() + ": cannot use WAL journal mode (got '" + mode +
                      "'); put the state file on a local file system");
  }

  // WAL + NORMAL: a commit is durable against a killed process (the WAL is written before
  // COMMIT returns); only a power loss can drop the last commits, never corrupt the file.
  MF_RETURN_IF_ERROR(conn.exec("PRAGMA synchronous=NORMAL", "setting synchronous=NORMAL"));
  MF_RETURN_IF_ERROR(conn.exec("PRAGMA foreign_keys=ON", "setting foreign_keys=ON"));
  return Status::ok();
}

// Returns the version recorded in the file, 0 for a fresh (empty) database.
Result<int> currentVersion(Connection& conn) {
  constexpr std::string_view kWhat = "reading schema_version";
  MF_ASSIGN_OR_RETURN(auto tables,
                      conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND "
                                   "name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
                                   kWhat));
  bool hasVersionTable = false;
  bool hasOtherTables = false;
  {
    Statement::Scope scope(*tables);
    for (;;) {
      MF_ASSIGN_OR_RETURN(bool row, tables->step(kWhat));
      if (!row) break;
      if (tables->columnText(0) == "schema_version") {
        hasVersionTable = true;
      } else {
        hasOtherTables = true;
      }
    }
  }
  if (!hasVersionTable) {
    // Never build our tables beside someone else's: the path is probably a mistake.
    if (hasOtherTables) return notAStateFile(conn, "an SQLite database without schema_version");
    return 0;
  }

  MF_ASSIGN_OR_RETURN(auto max, conn.prepare("SELECT MAX(version) FROM schema_version", kWhat));
  Statement::Scope scope(*max);
  MF_ASSIGN_OR_RETURN(bool row, max->step(kWhat));
  if (!row || max->columnIsNull(0)) return notAStateFile(conn, "schema_version is empty");
  int64_t version = max->columnInt64(0);
  if (version < 1) return notAStateFile(conn, "schema_version holds no valid version");
  if (version > kSchemaVersion) {
    return Status(Errc::kStore, ErrorClass::kConfiguration,
                  "state file " + conn.path() + " was written by a newer mailferry (schema " +
                      std::to_string(version) + "); upgrade mailferry");
  }
  return static_cast<int>(version);
}

}  // namespace

Status prepareSchema(Connection& conn) {
  MF_RETURN_IF_ERROR(setPragmas(conn));

  // IMMEDIATE: two processes opening a fresh file at once serialize here, and the second one
  // then sees the first one's schema instead of creating it again.
  Transaction tx(conn);
  MF_RETURN_IF_ERROR(tx.begin("starting schema migration"));
  MF_ASSIGN_OR_RETURN(int version, currentVersion(conn));
  if (version == kSchemaVersion) return tx.commit("finishing schema check");

  for (const Migration& m : kMigrations) {
    if (m.version <= version) continue;
    std::string what = "migrating to schema " + std::to_string(m.version);
    MF_RETURN_IF_ERROR(conn.exec(m.sql, what));
    // Prepared only now: before migration 1 the schema_version table does not exist.
    MF_ASSIGN_OR_RETURN(auto record,
                        conn.prepare("INSERT INTO schema_version (version, applied_at) "
                                     "VALUES (?1, CAST(strftime('%s', 'now') AS INTEGER))",
                                     what));
    Statement::Scope scope(*record);
    MF_RETURN_IF_ERROR(record->bindInt64(1, m.version, what));
    MF_RETURN_IF_ERROR(record->run(what));
  }
  return tx.commit("committing schema migration");
}

Status checkSchemaForReading(Connection& conn) {
  sqlite3_busy_timeout(conn.handle(), kBusyTimeoutMs);
  // The first statement reads the file header, so a foreign file shows up here.
  if (int rc = sqlite3_exec(conn.handle(), "SELECT 1 FROM sqlite_master LIMIT 1", nullptr, nullptr,
                            nullptr);
      (rc & 0xff) == SQLITE_NOTADB) {
    return notAStateFile(conn, "not an SQLite database");
  }
  MF_ASSIGN_OR_RETURN(int version, currentVersion(conn));
  if (version == 0) return notAStateFile(conn, "it holds no tables yet");
  if (version < kSchemaVersion) {
    return Status(Errc::kStore, ErrorClass::kConfiguration,
                  "state file " + conn.path() + " was written by an older mailferry (schema " +
                      std::to_string(version) + "); run `mailferry migrate` once to upgrade it");
  }
  return Status::ok();
}

}  // namespace mf::store::sqlite
