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

// For a reader that must not change the file (a connection opened OpenMode::kReadOnly): sets
// busy_timeout and checks that the file holds exactly this build's schema. An older schema
// is refused with what to do (a migrate run upgrades it), as are a newer one, an empty file
// and a file that is not ours.
Status checkSchemaForReading(Connection& conn);

}  // namespace mf::store::sqlite
