// Plain-language remedies for message-level failures (SPEC.md 6: each failure is recorded
// with a stable error code, a class and a remedy). Keyed by the stable error code.
#pragma once

#include <string>

#include "base/status.h"

namespace mf::sync {

// "What to do" for a failed message: one sentence, no secrets.
std::string remedyFor(Errc code);

// The failure text stored and shown: the server's words followed by the remedy.
std::string describeFailure(const Status& status);

}  // namespace mf::sync
