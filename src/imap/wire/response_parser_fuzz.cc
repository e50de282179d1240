// libFuzzer target for ResponseParser (DESIGN.md practice 2). Seed corpus:
// fuzz/corpus/imap_response.
//
// Each input is parsed twice per limit set: whole, and cut into pieces whose sizes come from
// the input's own bytes. Every literal above 100 bytes is streamed. Checked invariants:
//  - no crash, leak or undefined behaviour (ASan/UBSan);
//  - next() only consumes from the front of its input, kNeedMore only once it is all used;
//  - every kLiteralData view is non-empty and lies inside the piece just fed (each piece is
//    an exact-size heap copy, so an over-read also trips ASan), and a streamed literal
//    delivers exactly its announced size;
//  - the whole and the split runs produce the same transcript (responses, literal bytes,
//    error), i.e. the result does not depend on how the bytes were cut.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "imap/wire/response_parser.h"

namespace {

using mf::imap::ParseEvent;
using mf::imap::ParserLimits;
using mf::imap::Response;
using mf::imap::ResponseParser;
using mf::imap::Value;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

void describe(const Value& v, std::string& out) {
  out += static_cast<char>('0' + static_cast<int>(v.kind));
  out += std::to_string(v.number);
  out += ':';
  out += v.text;
  out += '(';
  for (const Value& item : v.items) describe(item, out);
  out += ')';
}

void describe(const Response& r, std::string& out) {
  out += "R" + std::to_string(static_cast<int>(r.type)) + "|" + r.tag + "|" + r.status + "|" +
         r.code + "|" + r.codeArgs + "|" + r.text + "|" +
         (r.number ? std::to_string(*r.number) : "-") + "|" + r.name + "|";
  for (const Value& v : r.values) describe(v, out);
  out += '\n';
}

std::string run(const uint8_t* data, size_t size, bool split, const ParserLimits& limits) {
  ResponseParser parser(limits);
  parser.setStreamPredicate(
      [](const Response&, std::string_view, uint64_t literalSize) { return literalSize > 100; });
  std::string transcript;
  bool inLiteral = false;
  uint64_t literalLeft = 0;
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
      ParseEvent ev = parser.next(in);
      check(in.data() + in.size() == before + beforeSize && in.size() <= beforeSize,
            "consumes only from the front");
      switch (ev.kind) {
        case ParseEvent::kNeedMore:
          check(in.empty(), "kNeedMore with input left");
          break;
        case ParseEvent::kError:
          check(!parser.error().isOk(), "kError without a status");
          transcript += "E" + parser.error().message() + "\n";
          return transcript;
        case ParseEvent::kResponse: {
          check(!inLiteral, "response inside a literal");
          describe(parser.takeResponse(), transcript);
          break;
        }
        case ParseEvent::kLiteralBegin:
          check(!inLiteral, "nested literal");
          check(ev.size > 100, "streamed a literal the predicate declined");
          inLiteral = true;
          literalLeft = ev.size;
          transcript +=
              "B" + std::to_string(ev.size) + ":" + std::string(parser.literalKey()) + "\n";
          break;
        case ParseEvent::kLiteralData:
          check(inLiteral, "data outside a literal");
          check(!ev.data.empty(), "empty data event");
          check(ev.data.data() == before, "data is the front of the input");
          check(ev.data.data() >= piece.get() && ev.data.data() + ev.data.size() <= piece.get() + n,
                "data view in bounds");
          check(ev.data.size() <= literalLeft, "more data than announced");
          literalLeft -= ev.data.size();
          transcript.append(ev.data);
          break;
        case ParseEvent::kLiteralEnd:
          check(inLiteral && literalLeft == 0, "literal ended early");
          inLiteral = false;
          transcript += "\nL\n";
          break;
      }
      if (ev.kind == ParseEvent::kNeedMore) break;
    }
  }
  return transcript;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ParserLimits tight;
  tight.maxLineLength = 200;
  tight.maxInlineLiteral = 300;
  tight.maxLiteral = 1 << 16;
  tight.maxNesting = 5;
  tight.maxValuesPerResponse = 50;
  tight.maxResponseBytes = 1000;
  for (const ParserLimits& limits : {ParserLimits{}, tight}) {
    std::string whole = run(data, size, false, limits);
    std::string pieces = run(data, size, true, limits);
    check(whole == pieces, "whole and split parses differ");
  }
  return 0;
}
