#include "cli/state_file.h"

#include <cstdlib>
#include <filesystem>

namespace mf::cli {

std::string defaultStatePath() {
  if (const char* p = std::getenv("MAILFERRY_STATE"); p && *p) return p;
  std::filesystem::path base;
  if (const char* x = std::getenv("XDG_STATE_HOME"); x && *x)
    base = x;
  else if (const char* h = std::getenv("HOME"); h && *h)
    base = std::filesystem::path(h) / ".local/state";
  else
    base = ".";
  return (base / "mailferry" / "state.db").string();
}

}  // namespace mf::cli
