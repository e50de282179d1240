// A minimal POP3 reply reader for probing: the status line (RFC 1939 section 3) and the
// multi-line body of CAPA (RFC 2449 section 5). No I/O: the caller feeds bytes.
//
// Private to src/probe: the full POP3 wire layer lives in src/pop3/wire. This one only knows
// what a probe needs before login (greeting, CAPA, STLS, QUIT).
//
// Contract:
// - start(multiLine) prepares for one reply. feed() consumes bytes from the front of its
//   input and answers kNeedMore (all input used), kDone (the reply is complete; bytes after
//   it are left in the input) or kError (error() says why; drop the connection).
// - A status line starts with "+OK" or "-ERR" (case-insensitive, RFC 2449 section 8); anything
//   else is Errc::kProtocol "not a POP3 reply". A multi-line body follows only a "+OK"; its
//   lines are dot-unstuffed and end at the lone "." line.
// - Tolerated: bare LF line ends. Limits: maxLineLength bytes per line (RFC 1939 allows 512
//   including CRLF; servers send longer) and maxLines per body; exceeding one is
//   Errc::kLimit, distinct from a syntax error.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace mf::probe {

struct Pop3Limits {
  size_t maxLineLength = 4096;
  size_t maxLines = 1000;
};

class Pop3ReplyReader {
 public:
  enum class Event { kNeedMore, kDone, kError };

  explicit Pop3ReplyReader(Pop3Limits limits = {}) : limits_(limits) {}

  void start(bool multiLine);
  Event feed(std::string_view& input);

  bool ok() const { return ok_; }                                   // "+OK" (after kDone)
  const std::string& text() const { return text_; }                 // status text after +OK/-ERR
  const std::vector<std::string>& lines() const { return lines_; }  // multi-line body
  const Status& error() const { return error_; }

 private:
  Event fail(Errc code, std::string message);
  Event takeLine(std::string line);

  Pop3Limits limits_;
  bool multiLine_ = false;
  bool haveStatus_ = false;
  bool done_ = false;
  bool ok_ = false;
  std::string partial_;
  std::string text_;
  std::vector<std::string> lines_;
  Status error_;
};

}  // namespace mf::probe
