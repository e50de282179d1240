// Process exit codes that scripts can rely on (documented in README.md).
#pragma once

namespace mf::cli {

constexpr int kExitOk = 0;          // everything copied / verified identical
constexpr int kExitPartial = 1;     // some messages or folders failed, or verify differs
constexpr int kExitUsage = 2;       // bad command line
constexpr int kExitConnection = 3;  // cannot connect or log in (source or destination)
constexpr int kExitInternal = 4;    // state store or unexpected internal failure

}  // namespace mf::cli
