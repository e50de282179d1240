// Where `mailferry migrate` keeps its state file when --state does not say, shared with
// `mailferry verify`, which reads the same file. No I/O beyond reading the environment.
#pragma once

#include <string>

namespace mf::cli {

// $MAILFERRY_STATE, else $XDG_STATE_HOME/mailferry/state.db, else
// ~/.local/state/mailferry/state.db (the current directory's without HOME).
std::string defaultStatePath();

inline constexpr const char* kDefaultStatePathHelp =
    "default: $MAILFERRY_STATE, else $XDG_STATE_HOME/mailferry/state.db, else "
    "~/.local/state/mailferry/state.db";

}  // namespace mf::cli
