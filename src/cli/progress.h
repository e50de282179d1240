// Progress output of `mailferry migrate`: a bar on a terminal (messages, bytes, rate,
// ETA), plain lines otherwise, or JSON lines with --json. Writes to stderr for the bar and
// plain lines (stdout stays for the summary), to stdout for JSON.
#pragma once

#include <chrono>
#include <memory>

#include "sync/report.h"

namespace mf::cli {

enum class ProgressMode { kBar, kPlain, kJson, kNone };

std::unique_ptr<sync::ProgressSink> makeProgress(ProgressMode mode);

}  // namespace mf::cli
