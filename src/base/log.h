// Minimal leveled logging to stderr. Thread-safe (one mutex around each line).
// Never log a Secret's revealed value; Secret itself prints "***".
#pragma once

#include <string_view>

namespace mf::log {

enum class Level { kDebug = 0, kInfo, kWarn, kError, kOff };

void setLevel(Level level);
Level level();
void write(Level level, std::string_view message);

inline void debug(std::string_view m) {
  write(Level::kDebug, m);
}
inline void info(std::string_view m) {
  write(Level::kInfo, m);
}
inline void warn(std::string_view m) {
  write(Level::kWarn, m);
}
inline void error(std::string_view m) {
  write(Level::kError, m);
}

}  // namespace mf::log
