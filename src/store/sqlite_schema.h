// Schema of the SQLite state file and its forward-only migrations, private to the store
// library. The format is documented in docs/formats/state-sqlite.md; change both together.
#pragma once

#include "base/status.h"
#include "store/sqlite_db.h"

namespace mf::store::sqlite {

// The schema version this build writes. Bump it only by appending a migration.
inline constexpr int kSchemaVersion = 3;

// Sets the per-connection pragmas (busy_timeout, WAL, synchronous, foreign_keys), then, in one
// IMMEDIATE transaction, reads schema_version and applies every missing migration. Refuses a
// file written by a newer schema, a file that is not an SQLite database and an SQLite database
// that is not a mailferry state file.
Status prepareSchema(Connection& conn);

}  // namespace mf::store::sqlite
