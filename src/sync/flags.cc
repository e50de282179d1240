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

void ServerOwnFlagTally::add(const std::vector<std::string>& messageFlags) {
  bool any = false;
  for (const auto& flag : messageFlags) {
    if (!isServerOwnFlag(flag)) continue;
    flags_.insert(flag);
    any = true;
  }
  if (any) ++messages_;
}

std::string ServerOwnFlagTally::note(std::string_view tail) const {
  if (messages_ == 0) return {};
  std::string names;
  for (const auto& f : flags_) names += (names.empty() ? "" : ", ") + f;
  return std::to_string(messages_) + " message(s) carry flags of the source server's own that " +
         "no IMAP client can set (" + names + "): " + std::string(tail);
}

}  // namespace mf::sync
