// Builds POP3 command lines (DESIGN.md practice 3: never concatenate user data into a command
// by hand).
//
//   Command c("USER"); c.arg(user);           -> "USER alice\r\n"
//   Command c("PASS"); c.trailing(password);  -> "PASS pass word\r\n"
//   Command c("RETR"); c.number(7);           -> "RETR 7\r\n"
//
// RFC 1939 section 3: a keyword of 3 or 4 characters, arguments separated by single spaces,
// CRLF; RFC 2449 section 4: at most 255 octets including CRLF. build() refuses:
// - an argument containing CR, LF or NUL (it would end the command early: command injection),
//   an empty argument, or a space inside arg() (it would become two arguments): kUsage;
// - a line longer than 255 octets: kLimit;
// - a keyword that is not 3-4 ASCII letters: kInternal;
// - the keyword DELE, in any case: kInternal. mailferry never deletes from a POP3 source
//   (SPEC.md section 3); refusing the verb here makes that true by construction.
// Error messages never contain an argument's value (it may be a password).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace mf::pop3 {

// RFC 2449 section 4: "Commands ... MUST NOT exceed 255 octets, including the terminating
// CRLF".
inline constexpr size_t kMaxCommandLength = 255;

class Command {
 public:
  explicit Command(std::string_view keyword);
  ~Command();  // zeroes the arguments: one of them may be a password
  Command(const Command&) = default;
  Command& operator=(const Command&) = default;

  Command& arg(std::string_view word);  // one argument without spaces
  Command& number(uint64_t value);
  // The last argument, which may contain spaces (RFC 1939 section 7: a PASS argument is the
  // rest of the line, "since spaces in passwords are allowed").
  Command& trailing(std::string_view text);

  // The full line, CRLF included.
  Result<std::string> build() const;
  const std::string& keyword() const { return keyword_; }  // upper-cased

  // True for DELE (any case): such a command is never built nor sent.
  static bool isForbidden(std::string_view keyword);

 private:
  std::string keyword_;
  std::vector<std::string> args_;
  bool hasTrailing_ = false;
  Status problem_;  // the first problem found while adding arguments
};

// A line of a SASL exchange (RFC 5034 section 4): the client's base64 response, or "*" to
// cancel. Refuses CR, LF and NUL like Command; not bound to 255 octets (responses are not
// commands).
Result<std::string> saslResponseLine(std::string_view response);

}  // namespace mf::pop3
