// Incremental POP3 reply parser. No I/O: the caller feeds bytes, the parser returns events.
// Every reply may arrive split at any byte boundary (tests feed byte by byte).
//
// POP3 replies carry no marker saying whether lines follow the status line: that depends on
// the command (RFC 1939: "LIST" is multi-line, "LIST 3" is not). So the caller tells the
// parser, with expect(), the shape of each reply it is waiting for, in the order the
// commands were sent (pipelining, RFC 2449 section 6.6). Bytes that arrive while no reply is
// expected are an error: a server speaking out of turn cannot be trusted.
//
// Usage:
//   ReplyParser parser(limits);
//   parser.expect(ReplyShape::kSingleLine);              // e.g. the greeting
//   for (;;) {
//     ReplyEvent ev = parser.next(in);                   // consumes from the front of `in`
//     switch (ev.kind) {
//       case ReplyEvent::kNeedMore: read more bytes into `in`, continue
//       case ReplyEvent::kStatus:   parser.status() is the status line (+OK / -ERR / "+ ")
//       case ReplyEvent::kLine:     kMultiLine: ev.data is one line, dot-unstuffed, no CRLF
//       case ReplyEvent::kData:     kMultiLineData: ev.data is the next chunk of the message,
//                                   dot-unstuffed, line ends kept as sent
//       case ReplyEvent::kEnd:      the reply is complete (after the status line of a
//                                   single-line or -ERR reply, after "." of a multi-line one)
//       case ReplyEvent::kError:    parser.error() says why; the connection must be dropped
//     }
//   }
// Every reply gives kStatus, then lines or data (only after +OK of a multi-line shape), then
// kEnd. ev.data is a view into the caller's input or into the parser's own small buffers,
// valid until the next call to next().
//
// Dot-stuffing (RFC 1939 section 3): in a multi-line reply a line starting with "." has
// had a "." prepended by the server; it is removed. The line "." alone ends the reply.
// Streaming: message data is handed out in chunks as large as the input allows; only the
// one to three bytes at a line start that decide between "..", "." CRLF and data are ever
// held back, so memory is bounded whatever the message size.
//
// Tolerance (QUIRKS.md): bare LF line ends ("." LF ends a reply too); "+ok" / "-err" in any
// case; a status without text; a line starting with a single "." that is not the
// terminator is kept as data rather than refused (an unstuffed line from a broken server).
// Limits are explicit: exceeding one is Errc::kLimit, distinct from a syntax error
// (Errc::kProtocol). A message over maxDataBytes is handed out up to exactly the limit, then
// kError follows.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

#include "base/status.h"

namespace mf::pop3 {

enum class ReplyShape {
  kSingleLine,     // the status line only (USER, PASS, STAT, STLS, "LIST n", greeting, ...)
  kMultiLine,      // +OK, then lines handed out one by one (CAPA, LIST, UIDL)
  kMultiLineData,  // +OK, then a message streamed in chunks (RETR, TOP)
};

struct ReplyLimits {
  // RFC 2449 section 4 allows 512 octets for a status line; real servers send longer texts,
  // and a CAPA or UIDL line is short, so 8 KB is generous and still bounded.
  size_t maxLineLength = 8 * 1024;
  // Lines of one kMultiLine reply: a UIDL listing of a maildrop with 10 million messages.
  uint64_t maxLines = 10'000'000;
  // Unstuffed bytes of one kMultiLineData reply (a message): 4 GB.
  uint64_t maxDataBytes = 4ull << 30;
};

struct StatusLine {
  enum Kind { kOk, kErr, kContinuation };
  Kind kind = kErr;
  // RFC 2449 section 8 response code, upper-cased: "IN-USE", "LOGIN-DELAY", "SYS/TEMP",
  // "SYS/PERM", "AUTH" (RFC 3206); empty if none.
  std::string code;
  std::string text;  // the rest of the line (for kContinuation: the base64 challenge)

  bool isOk() const { return kind == kOk; }
  // "[CODE] text", or "text": what the server said, for error messages.
  std::string words() const;
};

struct ReplyEvent {
  enum Kind { kNeedMore, kStatus, kLine, kData, kEnd, kError };
  Kind kind = kNeedMore;
  std::string_view data;  // kLine, kData
};

class ReplyParser {
 public:
  explicit ReplyParser(ReplyLimits limits = {});

  // Queues the shape of one more reply.
  void expect(ReplyShape shape);
  // Replies expected and not yet ended (the one being parsed included).
  size_t pending() const { return expected_.size(); }

  ReplyEvent next(std::string_view& input);

  const StatusLine& status() const { return status_; }  // the latest status line
  const Status& error() const { return error_; }        // after kError

 private:
  enum class State { kStatusLine, kLines, kData, kEnd, kError };

  ReplyEvent fail(Status status);
  ReplyEvent limit(std::string what);
  // Gathers the next line (without its line end) into `line`; false when more input is
  // needed (everything consumed) or on error (state_ becomes kError).
  bool readLine(std::string_view& input, std::string_view& line);
  ReplyEvent onStatusLine(std::string_view line);
  ReplyEvent onListLine(std::string_view line);
  ReplyEvent nextData(std::string_view& input);
  ReplyEvent data(std::string_view chunk);
  ReplyEvent dataLimit();

  const ReplyLimits limits_;
  std::deque<ReplyShape> expected_;
  State state_ = State::kStatusLine;
  StatusLine status_;
  Status error_;

  std::string lineBuf_;     // a line split across next() calls
  uint64_t lines_ = 0;      // lines of the current kMultiLine reply
  uint64_t dataBytes_ = 0;  // unstuffed bytes of the current kMultiLineData reply
  bool overLimit_ = false;  // the last chunk was cut at maxDataBytes: fail next
  bool atLineStart_ = true;
  std::string held_;  // kData: the undecided bytes at a line start ("." or ".\r")
  std::string out_;   // kData: bytes handed out from held_
};

}  // namespace mf::pop3
