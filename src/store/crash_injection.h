// Test hook for kill-at-every-step tests (DESIGN.md practice 9): wraps a Store and kills the
// process with SIGKILL right after the k-th committed write (saveFolder, saveMessages,
// replaceAllMessages), exactly as a crash at that moment would.
//
// Enabled only when the environment variable MAILFERRY_CRASH_AFTER_STATE_WRITES=k is set
// (documented in docs/formats/state-sqlite.md); never in normal use.
#pragma once

#include <memory>

#include "store/state_store.h"

namespace mf::store {

// Returns `inner` unchanged unless MAILFERRY_CRASH_AFTER_STATE_WRITES is set to a positive
// number, in which case it returns a wrapper that dies after that many writes.
std::unique_ptr<Store> withCrashInjectionFromEnvironment(std::unique_ptr<Store> inner);

}  // namespace mf::store
