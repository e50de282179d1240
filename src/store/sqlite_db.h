// Thin RAII layer over the SQLite C API, private to the store library.
//
// Contract: every failure comes back as Status(Errc::kStore, "state file <path>: <what> :
// <sqlite3_errmsg>"), so callers never format SQLite errors themselves and no error message
// can carry more than the path and what SQLite said (never a bound value). Statements are
// prepared once and cached by their owner; each use goes through Statement::Scope, which
// resets the statement on exit so a half-read SELECT can never keep a read transaction (and
// with it the WAL) pinned.
// Ownership: Connection owns the sqlite3 handle; a Statement must be destroyed before its
// Connection. Threading: one thread at a time per Connection (opened SQLITE_OPEN_NOMUTEX).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace mf::store::sqlite {

class Connection;

class Statement {
 public:
  Statement(Connection& conn, sqlite3_stmt* stmt) : conn_(&conn), stmt_(stmt) {}
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Resets the statement and clears its bindings when the scope ends, whatever happened.
  class Scope {
   public:
    explicit Scope(Statement& s) : s_(s) {}
    ~Scope() { s_.reset(); }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    Statement& s_;
  };

  // Parameter indexes are 1-based, as in sqlite3_bind_*. `what` names the operation for the
  // error message.
  Status bindText(int index, std::string_view value, std::string_view what);
  Status bindInt64(int index, int64_t value, std::string_view what);
  // Stored bit-for-bit as a signed 64-bit integer: values >= 2^63 read back unchanged
  // through columnUint64 (SQLite has no unsigned type).
  Status bindUint64(int index, uint64_t value, std::string_view what) {
    return bindInt64(index, static_cast<int64_t>(value), what);
  }

  // Steps once. Returns true when a row is available, false when the statement is done.
  Result<bool> step(std::string_view what);
  // Steps a statement that returns no rows (or whose rows are ignored) to completion.
  Status run(std::string_view what);

  int64_t columnInt64(int col) const { return sqlite3_column_int64(stmt_, col); }
  uint64_t columnUint64(int col) const { return static_cast<uint64_t>(columnInt64(col)); }
  std::string columnText(int col) const;
  bool columnIsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

 private:
  Connection* conn_;
  sqlite3_stmt* stmt_;
};

// kReadWrite creates a missing file (never its directory); kReadOnly never creates or writes
// anything of the database (a reader of a WAL file may still create its -shm beside it).
enum class OpenMode { kReadWrite, kReadOnly };

class Connection {
 public:
  static Result<std::unique_ptr<Connection>> open(const std::string& path,
                                                  OpenMode mode = OpenMode::kReadWrite);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  const std::string& path() const { return path_; }
  sqlite3* handle() { return db_; }

  Result<std::unique_ptr<Statement>> prepare(std::string_view sql, std::string_view what);
  // Runs one or more statements without parameters (schema DDL, BEGIN/COMMIT, PRAGMAs).
  Status exec(const char* sql, std::string_view what);

  // The error for the connection's most recent failure (rc is that call's result code).
  Status error(int rc, std::string_view what) const;

 private:
  Connection(std::string path, sqlite3* db) : path_(std::move(path)), db_(db) {}
  std::string path_;
  sqlite3* db_;
};

// BEGIN IMMEDIATE on construction via begin(); rolls back in the destructor unless commit()
// succeeded. IMMEDIATE takes the write lock up front, so two processes that both read and
// then write wait on busy_timeout instead of failing with SQLITE_BUSY mid-transaction.
class Transaction {
 public:
  explicit Transaction(Connection& conn) : conn_(conn) {}
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  Status begin(std::string_view what);
  Status commit(std::string_view what);

 private:
  Connection& conn_;
  bool open_ = false;
};

}  // namespace mf::store::sqlite
