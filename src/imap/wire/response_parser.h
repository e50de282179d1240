// Incremental IMAP response parser. No I/O: the caller feeds bytes, the parser returns
// events. Every response may arrive split at any byte boundary (tests feed byte by byte).
//
// Usage:
//   ResponseParser parser(limits);
//   std::string_view in = bytesJustRead;
//   for (;;) {
//     ParseEvent ev = parser.next(in);   // consumes from the front of `in`
//     switch (ev.kind) {
//       case ParseEvent::kNeedMore: read more bytes into `in`, continue
//       case ParseEvent::kResponse: Response r = parser.takeResponse(); ...
//       case ParseEvent::kLiteralBegin: parser.partial() is the response so far,
//            parser.literalKey() the atom before the literal (e.g. "BODY[]"), ev.size its size
//       case ParseEvent::kLiteralData: ev.data is the next chunk (a view into `in`, valid until
//            the caller changes the buffer)
//       case ParseEvent::kLiteralEnd: the streamed literal is complete
//       case ParseEvent::kError: parser.error() says why; the connection must be dropped
//     }
//   }
//
// Streaming: a literal is streamed (LiteralBegin/Data/End events, then a Value of kind
// kStreamed in the final response) when the StreamPredicate says so; otherwise it is
// collected into a kString Value, subject to limits.maxInlineLiteral. The predicate sees the
// partial response and the preceding atom, so a client streams only BODY[...] contents.
//
// Tolerance (QUIRKS.md): lowercase "ok"/"fetch", extra spaces between tokens, atoms with
// 8-bit bytes and ']' inside section specs (BODY[HEADER.FIELDS (A B)]), a missing text after
// a status, bare LF line endings, a LIST/LSUB mailbox name sent unquoted with spaces (the
// name is then the rest of the line: one kAtom value with the raw bytes). Message data in
// any order (a body literal before the UID: partial().number is the sequence number, so a
// client can map it) and untagged responses between FETCH responses need no tolerance here.
// Limits are explicit: exceeding one is Errc::kLimit, distinct from a syntax error
// (Errc::kProtocol).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "imap/wire/response.h"

namespace mf::imap {

struct ParserLimits {
  size_t maxLineLength = 1 << 20;         // bytes of one line outside literals
  uint64_t maxInlineLiteral = 16u << 20;  // literal kept in memory (not streamed)
  uint64_t maxLiteral = 4ull << 30;       // any literal, streamed or not
  size_t maxNesting = 64;                 // list depth
  size_t maxValuesPerResponse = 1 << 20;  // e.g. a SEARCH with many numbers
  // Bytes one response keeps in memory: its lines plus the literals collected (not streamed)
  // into it. Without it a server could send many inline literals, each under
  // maxInlineLiteral, and grow one response without bound. Raise it with maxInlineLiteral.
  uint64_t maxResponseBytes = 64u << 20;
};

struct ParseEvent {
  enum Kind { kNeedMore, kResponse, kLiteralBegin, kLiteralData, kLiteralEnd, kError };
  Kind kind = kNeedMore;
  uint64_t size = 0;      // kLiteralBegin
  std::string_view data;  // kLiteralData
};

using StreamPredicate =
    std::function<bool(const Response& partial, std::string_view precedingAtom, uint64_t size)>;

class ResponseParser {
 public:
  explicit ResponseParser(ParserLimits limits = {});

  void setStreamPredicate(StreamPredicate predicate);

  ParseEvent next(std::string_view& input);

  Response takeResponse();  // after kResponse
  // During a streamed literal: the response so far; its last value (in the innermost open
  // list) is the kStreamed placeholder for the literal being streamed.
  const Response& partial() const;
  std::string_view literalKey() const;  // during a streamed literal
  const Status& error() const;          // after kError

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace mf::imap
