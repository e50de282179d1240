#include "sync/flags.h"

#include <array>

#include "base/ascii.h"

namespace mf::sync {

bool isSettableSystemFlag(std::string_view flag) {
  static constexpr std::array<std::string_view, 5> kSettable = {"\\Seen", "\\Answered", "\\Flagged",
                                                                "\\Deleted", "\\Draft"};
  for (std::string_view f : kSettable) {
    if (equalsIgnoreCase(f, flag)) return true;
  }
  return false;
}

bool isServerOwnFlag(std::string_view flag) {
  return !flag.empty() && flag[0] == '\\' && !isSettableSystemFlag(flag) &&
         !equalsIgnoreCase(flag, "\\Recent");
}

std::string serverOwnFlagsNote(size_t messages, const std::vector<std::string>& flags,
                               std::string_view tail) {
  if (messages == 0) return {};
  std::string names;
  for (const auto& f : flags) names += (names.empty() ? "" : ", ") + f;
  return std::to_string(messages) + " message(s) carry flags of the source server's own that " +
         "no IMAP client can set (" + names + "): " + std::string(tail);
}

}  // namespace mf::sync
