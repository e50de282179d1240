// libFuzzer target for the POP3 ReplyParser (DESIGN.md practice 2). Seed corpus:
// fuzz/corpus/pop3_reply.
//
// Input: the first two bytes choose the shapes of the 8 replies expected (2 bits each:
// single-line, multi-line, message data; 3 = single-line), the rest is what the server sent.
// Each input is parsed with default and with tight limits, whole and cut into pieces whose
// sizes come from the input's own bytes. Checked invariants:
//  - no crash, leak or undefined behaviour (ASan/UBSan);
//  - next() only consumes from the front of its input, kNeedMore only once it is all used;
//  - every kData/kLine view is non-empty (kData) and lies inside the piece just fed or inside
//    the parser (each piece is an exact-size heap copy, so an over-read also trips ASan);
//  - events come in the order kStatus (kLine | kData)* kEnd, kLine only for multi-line
//    shapes and kData only for message shapes, and pending() drops by one at each kEnd;
//  - no more than maxDataBytes of data per reply, and no line longer than maxLineLength;
//  - the whole and the split runs produce the same transcript (status lines, lines, data
//    bytes, error), i.e. the result does not depend on how the bytes were cut.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "pop3/wire/reply_parser.h"

namespace {

using mf::pop3::ReplyEvent;
using mf::pop3::ReplyLimits;
using mf::pop3::ReplyParser;
using mf::pop3::ReplyShape;
using mf::pop3::StatusLine;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

std::string run(const std::vector<ReplyShape>& shapes, const uint8_t* data, size_t size, bool split,
                const ReplyLimits& limits) {
  ReplyParser parser(limits);
  for (auto s : shapes) parser.expect(s);
  std::string transcript;
  size_t replyIndex = 0;
  bool inReply = false;  // between kStatus and kEnd
  uint64_t replyData = 0;
  size_t off = 0;
  while (off < size) {
    size_t n = size - off;
    if (split) n = std::min<size_t>(n, 1 + data[(off * 31 + 7) % size] % 37);
    std::unique_ptr<char[]> piece(new char[n]);
    std::copy(data + off, data + off + n, piece.get());
    off += n;
    std::string_view in(piece.get(), n);
    for (;;) {
      const char* before = in.data();
      const size_t beforeSize = in.size();
      const size_t pendingBefore = parser.pending();
      ReplyEvent ev = parser.next(in);
      check(in.data() + in.size() == before + beforeSize && in.size() <= beforeSize,
            "consumes only from the front");
      if (ev.kind == ReplyEvent::kNeedMore) {
        check(in.empty(), "kNeedMore with input left");
        break;
      }
      if (ev.kind == ReplyEvent::kError) {
        check(!parser.error().isOk(), "kError without a status");
        transcript += "E" + parser.error().message() + "\n";
        return transcript;
      }
      check(replyIndex < shapes.size(), "an event with no reply expected");
      const ReplyShape shape = shapes[replyIndex];
      switch (ev.kind) {
        case ReplyEvent::kStatus: {
          check(!inReply, "two status lines in one reply");
          inReply = true;
          replyData = 0;
          const StatusLine& st = parser.status();
          transcript += "S" + std::to_string(static_cast<int>(st.kind)) + "[" + st.code + "]" +
                        st.text + "\n";
          break;
        }
        case ReplyEvent::kLine:
          check(inReply && shape == ReplyShape::kMultiLine, "kLine outside a listing");
          check(ev.data.size() <= limits.maxLineLength, "line over maxLineLength");
          transcript += "L" + std::string(ev.data) + "\n";
          break;
        case ReplyEvent::kData: {
          check(inReply && shape == ReplyShape::kMultiLineData, "kData outside a message");
          check(!ev.data.empty(), "empty data event");
          bool inPiece = ev.data.data() >= piece.get() && ev.data.data() < piece.get() + n;
          if (inPiece) {
            check(ev.data.data() + ev.data.size() <= piece.get() + n, "data view in bounds");
          }
          replyData += ev.data.size();
          check(replyData <= limits.maxDataBytes, "data over maxDataBytes");
          // Chunk boundaries depend on how the input was cut: merge consecutive chunks.
          if (replyData == ev.data.size()) transcript += "D";
          transcript.append(ev.data);
          break;
        }
        case ReplyEvent::kEnd:
          check(inReply, "kEnd without kStatus");
          check(parser.pending() + 1 == pendingBefore, "kEnd ends one reply");
          inReply = false;
          ++replyIndex;
          transcript += "\nEND\n";
          break;
        default:
          break;
      }
    }
  }
  return transcript;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  std::vector<ReplyShape> shapes;
  const unsigned bits = data[0] | (data[1] << 8);
  for (int i = 0; i < 8; ++i) {
    switch ((bits >> (2 * i)) & 3) {
      case 1:
        shapes.push_back(ReplyShape::kMultiLine);
        break;
      case 2:
        shapes.push_back(ReplyShape::kMultiLineData);
        break;
      default:
        shapes.push_back(ReplyShape::kSingleLine);
        break;
    }
  }
  data += 2;
  size -= 2;
  ReplyLimits tight;
  tight.maxLineLength = 40;
  tight.maxLines = 5;
  tight.maxDataBytes = 100;
  for (const ReplyLimits& limits : {ReplyLimits{}, tight}) {
    std::string whole = run(shapes, data, size, false, limits);
    std::string pieces = run(shapes, data, size, true, limits);
    check(whole == pieces, "whole and split parses differ");
  }
  return 0;
}
