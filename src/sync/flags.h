// Which flags a migration can carry (RFC 3501 section 2.3.2). Pure; no I/O.
//
// A client can set the five system flags \Seen \Answered \Flagged \Deleted \Draft and
// keywords (atoms without a backslash). \Recent belongs to the server's session. Some servers
// also show backslash flags of their own (\X-EON-HAS-ATTACHMENT, \Indexed, \FORWARDED,
// \ATTACHED: QUIRKS.md, imapsync FAQ.Flags) that no client can set; Dovecot answers an APPEND
// carrying one "BAD Invalid system flag". Copies go without such flags (the wire layer never
// sends one: imap/wire/command_builder.cc), the report names them, and verify leaves them out.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace mf::sync {

// \Seen \Answered \Flagged \Deleted \Draft, any case.
bool isSettableSystemFlag(std::string_view flag);
// A backslash flag that is neither one of those five nor \Recent.
bool isServerOwnFlag(std::string_view flag);
// Counts the messages that carry such flags, and which flags, for the report's note.
class ServerOwnFlagTally {
 public:
  void add(const std::vector<std::string>& messageFlags);
  // "N message(s) carry flags of the source server's own that no IMAP client can set (\A, \B):
  // <tail>", `tail` saying what became of them; empty when no message had one.
  std::string note(std::string_view tail) const;

 private:
  size_t messages_ = 0;
  std::set<std::string> flags_;
};

}  // namespace mf::sync
