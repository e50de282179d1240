#include "pop3/wire/reply_parser.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace mf::pop3 {
namespace {

// ---- Harness ----------------------------------------------------------------------------
// Every test runs its input whole, byte by byte and in 3-byte pieces, each piece copied into
// its own heap buffer of exactly its size (so a view past the piece trips ASan), and checks
// that all runs tell the same story.

struct Transcript {
  std::vector<std::string> log;  // "S ok [CODE] text", "L line", "D data" (merged), "END"
  bool failed = false;
  Status error;
};

Transcript parse(std::string_view input, const std::vector<ReplyShape>& shapes, size_t chunk,
                 ReplyLimits limits = {}) {
  ReplyParser parser(limits);
  for (auto s : shapes) parser.expect(s);
  Transcript run;
  size_t off = 0;
  bool lastWasData = false;
  while (off < input.size() || off == 0) {
    size_t n = chunk == 0 ? input.size() - off : std::min(chunk, input.size() - off);
    std::unique_ptr<char[]> piece(new char[n + 1]);
    std::copy(input.data() + off, input.data() + off + n, piece.get());
    off += n;
    std::string_view in(piece.get(), n);
    for (;;) {
      const char* before = in.data();
      ReplyEvent ev = parser.next(in);
      if (ev.kind == ReplyEvent::kNeedMore) {
        EXPECT_TRUE(in.empty()) << "kNeedMore with input left";
        break;
      }
      if (ev.kind == ReplyEvent::kError) {
        run.failed = true;
        run.error = parser.error();
        return run;
      }
      if (ev.kind == ReplyEvent::kData) {
        EXPECT_FALSE(ev.data.empty()) << "empty data event";
        // Either the front of what was fed, or a copy in the parser's own buffers.
        bool inPiece = ev.data.data() >= piece.get() && ev.data.data() < piece.get() + n;
        if (inPiece) {
          EXPECT_LE(ev.data.data() + ev.data.size(), piece.get() + n) << "view past the piece";
          EXPECT_GE(ev.data.data(), before);
        }
        if (lastWasData) {
          run.log.back().append(ev.data);
        } else {
          run.log.push_back("D " + std::string(ev.data));
        }
        lastWasData = true;
        continue;
      }
      lastWasData = false;
      switch (ev.kind) {
        case ReplyEvent::kStatus: {
          const StatusLine& st = parser.status();
          std::string kind = st.kind == StatusLine::kOk    ? "ok"
                             : st.kind == StatusLine::kErr ? "err"
                                                           : "cont";
          run.log.push_back("S " + kind + " [" + st.code + "] " + st.text);
          break;
        }
        case ReplyEvent::kLine:
          run.log.push_back("L " + std::string(ev.data));
          break;
        case ReplyEvent::kEnd:
          run.log.push_back("END");
          break;
        default:
          break;
      }
    }
    if (input.empty()) break;
  }
  return run;
}

// Parses whole, byte by byte and in threes; expects the same result from all.
Transcript parseAllWays(std::string_view input, const std::vector<ReplyShape>& shapes,
                        ReplyLimits limits = {}) {
  Transcript whole = parse(input, shapes, 0, limits);
  for (size_t chunk : {1, 2, 3, 7}) {
    Transcript split = parse(input, shapes, chunk, limits);
    EXPECT_EQ(split.log, whole.log) << "chunk " << chunk;
    EXPECT_EQ(split.failed, whole.failed) << "chunk " << chunk;
    EXPECT_EQ(split.error.code(), whole.error.code()) << "chunk " << chunk;
    EXPECT_EQ(split.error.message(), whole.error.message()) << "chunk " << chunk;
  }
  return whole;
}

using Log = std::vector<std::string>;
constexpr auto kSingle = ReplyShape::kSingleLine;
constexpr auto kLines = ReplyShape::kMultiLine;
constexpr auto kData = ReplyShape::kMultiLineData;

// ---- Status lines -------------------------------------------------------------------------

TEST(Pop3ReplyParser, StatusLines) {
  Transcript r = parseAllWays(
      "+OK Dovecot ready. <123.4@host>\r\n"
      "-ERR [AUTH] Authentication failed.\r\n"
      "+ok\r\n"
      "-err\n"
      "-ERR [SYS/TEMP] try later\r\n"
      "-ERR [in-use] locked\r\n"
      "+OK [unclosed code\r\n"
      "+OK 2 320\r\n",
      {kSingle, kSingle, kSingle, kSingle, kSingle, kSingle, kSingle, kSingle});
  EXPECT_FALSE(r.failed) << r.error.message();
  EXPECT_EQ(r.log,
            (Log{"S ok [] Dovecot ready. <123.4@host>", "END",
                 "S err [AUTH] Authentication failed.", "END", "S ok [] ", "END", "S err [] ",
                 "END", "S err [SYS/TEMP] try later", "END", "S err [IN-USE] locked", "END",
                 "S ok [] [unclosed code", "END", "S ok [] 2 320", "END"}));
}

TEST(Pop3ReplyParser, SaslContinuations) {
  Transcript r = parseAllWays("+ \r\n+\r\n+ dGVzdA==\r\n+OK Logged in.\r\n",
                              {kSingle, kSingle, kSingle, kSingle});
  EXPECT_FALSE(r.failed);
  EXPECT_EQ(r.log, (Log{"S cont [] ", "END", "S cont [] ", "END", "S cont [] dGVzdA==", "END",
                        "S ok [] Logged in.", "END"}));
}

TEST(Pop3ReplyParser, StatusWordsForMessages) {
  StatusLine st;
  st.text = "Authentication failed.";
  EXPECT_EQ(st.words(), "Authentication failed.");
  st.code = "AUTH";
  EXPECT_EQ(st.words(), "[AUTH] Authentication failed.");
  st.text.clear();
  EXPECT_EQ(st.words(), "[AUTH]");
}

TEST(Pop3ReplyParser, GarbageStatusIsAProtocolError) {
  for (const char* bad : {"* OK IMAP4rev1 ready\r\n", "+OKAY\r\n", "-ERRATIC\r\n",
                          "HTTP/1.1 400 Bad Request\r\n", "+FOO\r\n", "\r\n"}) {
    Transcript r = parseAllWays(bad, {kSingle});
    EXPECT_TRUE(r.failed) << bad;
    EXPECT_EQ(r.error.code(), Errc::kProtocol) << bad;
    EXPECT_NE(r.error.message().find("does not start with +OK or -ERR"), std::string::npos);
  }
  Transcript r = parseAllWays("\x01\xff garbage\r\n", {kSingle});
  EXPECT_EQ(r.error.message(),
            "POP3 reply does not start with +OK or -ERR: \"\\x01\\xff garbage\"");
}

TEST(Pop3ReplyParser, DataWhileNothingIsExpectedIsRefused) {
  Transcript r = parseAllWays("+OK hello\r\n+OK unsolicited\r\n", {kSingle});
  EXPECT_TRUE(r.failed);
  EXPECT_EQ(r.error.code(), Errc::kProtocol);
  EXPECT_EQ(r.error.message(), "POP3 server sent data while no command was waiting for an answer");
  EXPECT_EQ(r.log, (Log{"S ok [] hello", "END"}));
  ReplyParser idle;
  std::string_view empty;
  EXPECT_EQ(idle.next(empty).kind, ReplyEvent::kNeedMore);
}

// ---- Multi-line listings ------------------------------------------------------------------

TEST(Pop3ReplyParser, ListingLines) {
  Transcript r = parseAllWays(
      "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nSASL PLAIN LOGIN\r\n.\r\n"
      "+OK 2 messages\r\n1 120\r\n2 200\r\n.\r\n"
      "-ERR no UIDL here\r\n"
      "+OK\r\n.\r\n",
      {kLines, kLines, kLines, kLines});
  EXPECT_FALSE(r.failed) << r.error.message();
  EXPECT_EQ(r.log, (Log{"S ok [] ", "L CAPA", "L TOP", "L UIDL", "L SASL PLAIN LOGIN", "END",
                        "S ok [] 2 messages", "L 1 120", "L 2 200", "END", "S err [] no UIDL here",
                        "END", "S ok [] ", "END"}));
}

TEST(Pop3ReplyParser, ListingLinesAreUnstuffedAndBareLfTolerated) {
  Transcript r = parseAllWays("+OK\n..starts with dot\n.lonely dot kept\n\n..\n.\n", {kLines});
  EXPECT_FALSE(r.failed);
  EXPECT_EQ(r.log,
            (Log{"S ok [] ", "L .starts with dot", "L .lonely dot kept", "L ", "L .", "END"}));
}

TEST(Pop3ReplyParser, ListingLimits) {
  ReplyLimits limits;
  limits.maxLineLength = 10;
  limits.maxLines = 2;
  Transcript ok = parseAllWays("+OK\r\n0123456789\r\n1\r\n.\r\n", {kLines}, limits);
  EXPECT_FALSE(ok.failed) << ok.error.message();
  Transcript longLine = parseAllWays("+OK\r\n01234567890\r\n.\r\n", {kLines}, limits);
  EXPECT_TRUE(longLine.failed);
  EXPECT_EQ(longLine.error.code(), Errc::kLimit);
  EXPECT_EQ(longLine.error.message(), "POP3 reply line longer than maxLineLength (10 bytes)");
  Transcript many = parseAllWays("+OK\r\n1\r\n2\r\n3\r\n.\r\n", {kLines}, limits);
  EXPECT_TRUE(many.failed);
  EXPECT_EQ(many.error.code(), Errc::kLimit);
  EXPECT_EQ(many.error.message(), "POP3 reply with more than maxLines (2) lines");
  Transcript longStatus = parseAllWays("+OK 0123456789\r\n", {kSingle}, limits);
  EXPECT_EQ(longStatus.error.code(), Errc::kLimit);
  // A line without its LF is bounded too (the server never ends it).
  Transcript endless = parse(std::string(1000, 'x'), {kSingle}, 1, limits);
  EXPECT_EQ(endless.error.code(), Errc::kLimit);
}

// ---- Message data ---------------------------------------------------------------------------

TEST(Pop3ReplyParser, MessageDataIsDotUnstuffed) {
  const std::string wire =
      "+OK 120 octets\r\n"
      "Subject: dots\r\n"
      "\r\n"
      "..\r\n"
      "...three\r\n"
      "..leading dot\r\n"
      "middle . dot\r\n"
      "..\r\n"
      ".\r\n";
  Transcript r = parseAllWays(wire, {kData});
  EXPECT_FALSE(r.failed) << r.error.message();
  EXPECT_EQ(r.log, (Log{"S ok [] 120 octets",
                        "D Subject: dots\r\n\r\n.\r\n..three\r\n.leading dot\r\nmiddle . dot\r\n"
                        ".\r\n",
                        "END"}));
}

TEST(Pop3ReplyParser, MessageDataEdgeCases) {
  // Empty message; a message of one empty line; bare LF terminator; a final line without a
  // line end is impossible in POP3, but ".\r" + other and "." + other are kept as data.
  Transcript r = parseAllWays(
      "+OK\r\n.\r\n"
      "+OK\r\n\r\n.\r\n"
      "+OK\nline\n.\n"
      "+OK\r\n.x unstuffed\r\n.\rz\r\n.\r\n"
      "-ERR no such message\r\n"
      "+OK\r\n..\r\n..\r\n.\r\n",
      {kData, kData, kData, kData, kData, kData});
  EXPECT_FALSE(r.failed) << r.error.message();
  EXPECT_EQ(r.log, (Log{"S ok [] ", "END", "S ok [] ", "D \r\n", "END", "S ok [] ", "D line\n",
                        "END", "S ok [] ", "D .x unstuffed\r\n.\rz\r\n", "END",
                        "S err [] no such message", "END", "S ok [] ", "D .\r\n.\r\n", "END"}));
}

TEST(Pop3ReplyParser, PipelinedRepliesOfMixedShapes) {
  Transcript r = parseAllWays(
      "+OK 2 300\r\n"
      "+OK\r\n1 000000016b0808ed\r\n.\r\n"
      "+OK\r\nA: b\r\n\r\n.\r\n"
      "+OK\r\nA: b\r\n\r\nbody\r\n.\r\n",
      {kSingle, kLines, kData, kData});
  EXPECT_FALSE(r.failed);
  EXPECT_EQ(r.log,
            (Log{"S ok [] 2 300", "END", "S ok [] ", "L 1 000000016b0808ed", "END", "S ok [] ",
                 "D A: b\r\n\r\n", "END", "S ok [] ", "D A: b\r\n\r\nbody\r\n", "END"}));
}

TEST(Pop3ReplyParser, DataChunksAreViewsIntoTheInputWhenPossible) {
  ReplyParser parser;
  parser.expect(kData);
  std::string wire = "+OK\r\nline one\r\nline two\r\n..dot\r\nafter\r\n.\r\n";
  std::string_view in = wire;
  ASSERT_EQ(parser.next(in).kind, ReplyEvent::kStatus);
  ReplyEvent ev = parser.next(in);
  ASSERT_EQ(ev.kind, ReplyEvent::kData);
  // One chunk for the two lines: no copy, no per-line event.
  EXPECT_EQ(ev.data, "line one\r\nline two\r\n");
  EXPECT_EQ(ev.data.data(), wire.data() + 5);
  ev = parser.next(in);
  ASSERT_EQ(ev.kind, ReplyEvent::kData);
  EXPECT_EQ(ev.data, ".dot\r\nafter\r\n");
  EXPECT_EQ(ev.data.data(), wire.data() + 26);
  EXPECT_EQ(parser.next(in).kind, ReplyEvent::kEnd);
  EXPECT_TRUE(in.empty());
  EXPECT_EQ(parser.pending(), 0u);
}

TEST(Pop3ReplyParser, BigMessageStreamsInBoundedMemory) {
  // 8 MB of lines, every tenth starting with a stuffed dot, fed in 64 KB pieces.
  std::string body, wire = "+OK\r\n";
  for (int i = 0; i < 100000; ++i) {
    std::string line = (i % 10 == 0 ? "." : "") + std::string(78, static_cast<char>('a' + i % 26));
    body += line + "\r\n";
    wire += (line[0] == '.' ? "." : "") + line + "\r\n";
  }
  wire += ".\r\n";
  ReplyParser parser;
  parser.expect(kData);
  std::string got;
  size_t events = 0;
  for (size_t off = 0; off < wire.size(); off += 65536) {
    std::string_view in = std::string_view(wire).substr(off, 65536);
    for (;;) {
      ReplyEvent ev = parser.next(in);
      ASSERT_NE(ev.kind, ReplyEvent::kError) << parser.error().message();
      if (ev.kind == ReplyEvent::kNeedMore) break;
      if (ev.kind == ReplyEvent::kData) {
        got.append(ev.data);
        ++events;
      }
    }
  }
  EXPECT_EQ(got, body);
  EXPECT_EQ(parser.pending(), 0u);
  // One event per stuffed line (plus piece boundaries), not one per line.
  EXPECT_LT(events, 10000u + wire.size() / 65536 + 2);
}

TEST(Pop3ReplyParser, DataLimit) {
  ReplyLimits limits;
  limits.maxDataBytes = 10;
  Transcript ok = parseAllWays("+OK\r\n12345678\r\n.\r\n", {kData}, limits);
  EXPECT_FALSE(ok.failed) << ok.error.message();
  Transcript big = parseAllWays("+OK\r\n123456789\r\n.\r\n", {kData}, limits);
  EXPECT_TRUE(big.failed);
  EXPECT_EQ(big.error.code(), Errc::kLimit);
  EXPECT_EQ(big.error.message(), "POP3 reply message larger than maxDataBytes (10 bytes)");
  // Exactly the limit was handed out before the error, however the input was split.
  EXPECT_EQ(big.log, (Log{"S ok [] ", "D 123456789\r"}));
  // Long lines inside a message are fine: only the data total is bounded.
  limits.maxDataBytes = 1 << 20;
  limits.maxLineLength = 16;
  Transcript longLine =
      parseAllWays("+OK\r\n" + std::string(100000, 'x') + "\r\n.\r\n", {kData}, limits);
  EXPECT_FALSE(longLine.failed) << longLine.error.message();
}

TEST(Pop3ReplyParser, ErrorIsSticky) {
  ReplyParser parser;
  parser.expect(kSingle);
  std::string_view in = "garbage\r\n";
  EXPECT_EQ(parser.next(in).kind, ReplyEvent::kError);
  std::string_view more = "+OK\r\n";
  EXPECT_EQ(parser.next(more).kind, ReplyEvent::kError);
  EXPECT_EQ(parser.error().code(), Errc::kProtocol);
}

}  // namespace
}  // namespace mf::pop3
