#include "base/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>

namespace mf::log {
namespace {
std::atomic<Level> g_level{Level::kWarn};
std::mutex g_mutex;
const char* levelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warning";
    case Level::kError:
      return "error";
    case Level::kOff:
      break;
  }
  return "";
}
}  // namespace

void setLevel(Level level) {
  g_level = level;
}
Level level() {
  return g_level;
}

void write(Level lvl, std::string_view message) {
  if (lvl < g_level.load()) return;
  std::lock_guard lock(g_mutex);
  std::fprintf(stderr, "mailferry: %s: %.*s\n", levelName(lvl), static_cast<int>(message.size()),
               message.data());
}

}  // namespace mf::log
