#include "store/sqlite_db.h"

#include <climits>

namespace mf::store::sqlite {

namespace {

// Errors the user has to act on (disk full, permissions, a damaged or foreign file) are
// configuration problems; everything else (mostly SQLITE_BUSY after busy_timeout, I/O
// hiccups) may pass on a retry.
ErrorClass classOf(int rc) {
  switch (rc & 0xff) {
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return ErrorClass::kConfiguration;
    default:
      return ErrorClass::kRetry;
  }
}

}  // namespace

Status Statement::bindText(int index, std::string_view value, std::string_view what) {
  if (value.size() > static_cast<size_t>(INT_MAX)) {
    return Status(Errc::kStore, "state file " + conn_->path() + ": " + std::string(what) +
                                    " : text value too large");
  }
  // SQLITE_TRANSIENT: SQLite copies the bytes, so the caller's string may die before step().
  int rc = sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()),
                             SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) return conn_->error(rc, what);
  return Status::ok();
}

Status Statement::bindInt64(int index, int64_t value, std::string_view what) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) return conn_->error(rc, what);
  return Status::ok();
}

Result<bool> Statement::step(std::string_view what) {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return conn_->error(rc, what);
}

Status Statement::run(std::string_view what) {
  for (;;) {
    MF_ASSIGN_OR_RETURN(bool row, step(what));
    if (!row) return Status::ok();
  }
}

std::string Statement::columnText(int col) const {
  const unsigned char* text = sqlite3_column_text(stmt_, col);
  if (text == nullptr) return {};
  // Bytes, not strlen: a value may legitimately contain NUL.
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
}

Result<std::unique_ptr<Connection>> Connection::open(const std::string& path, OpenMode mode) {
  if (path.empty()) {
    // SQLite would silently open a private temporary database, losing all state at exit.
    return Status(Errc::kStore, ErrorClass::kConfiguration, "state file path is empty");
  }
  sqlite3* db = nullptr;
  // NOMUTEX: the Store contract is one thread at a time, so SQLite's own mutexes buy nothing.
  // No SQLITE_OPEN_URI: the path is a file name, never a "file:" URI with options.
  const int access = mode == OpenMode::kReadOnly ? SQLITE_OPEN_READONLY
                                                 : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  int rc = sqlite3_open_v2(path.c_str(), &db, access | SQLITE_OPEN_NOMUTEX, nullptr);
  if (db == nullptr) {
    return Status(Errc::kStore, "state file " + path + ": opening : out of memory");
  }
  std::unique_ptr<Connection> conn(new Connection(path, db));
  if (rc != SQLITE_OK) {
    return conn->error(rc, mode == OpenMode::kReadOnly
                               ? "opening to read (does it exist and is it readable?)"
                               : "opening (does its directory exist and is it writable?)");
  }
  sqlite3_extended_result_codes(db, 1);
  return conn;
}

Connection::~Connection() {
  // Statements are finalized by their owners first; close_v2 tolerates stragglers anyway.
  sqlite3_close_v2(db_);
}

Result<std::unique_ptr<Statement>> Connection::prepare(std::string_view sql,
                                                       std::string_view what) {
  sqlite3_stmt* stmt = nullptr;
  // PREPARE_PERSISTENT: these statements live as long as the Store, so SQLite may place them
  // outside its lookaside allocator.
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return error(rc, what);
  }
  return std::make_unique<Statement>(*this, stmt);
}

Status Connection::exec(const char* sql, std::string_view what) {
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return error(rc, what);
  return Status::ok();
}

Status Connection::error(int rc, std::string_view what) const {
  std::string message = "state file " + path_ + ": " + std::string(what) + " : ";
  // sqlite3_errmsg describes the latest failing call on this connection; for a code that
  // did not come from the connection (e.g. a failed open) errstr is the safer text.
  const char* detail = sqlite3_errcode(db_) == rc ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  message += detail != nullptr ? detail : sqlite3_errstr(rc);
  return Status(Errc::kStore, classOf(rc), std::move(message));
}

Transaction::~Transaction() {
  if (open_) {
    // Best effort: if ROLLBACK fails the connection is closing or SQLite already rolled back.
    sqlite3_exec(conn_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

Status Transaction::begin(std::string_view what) {
  MF_RETURN_IF_ERROR(conn_.exec("BEGIN IMMEDIATE", what));
  open_ = true;
  return Status::ok();
}

Status Transaction::commit(std::string_view what) {
  MF_RETURN_IF_ERROR(conn_.exec("COMMIT", what));
  open_ = false;
  return Status::ok();
}

}  // namespace mf::store::sqlite
