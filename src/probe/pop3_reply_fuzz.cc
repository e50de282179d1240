// libFuzzer target for the probe's Pop3ReplyReader (DESIGN.md practice 2). Seed corpus:
// fuzz/corpus/probe_pop3_reply. Registered in fuzz/CMakeLists.txt.
//
// The first input byte chooses single- or multi-line replies and tight or default limits;
// the rest is fed as a sequence of replies, whole and cut into pieces whose sizes come from
// the input. Checked invariants:
//  - no crash, leak or undefined behaviour (ASan/UBSan);
//  - feed() only consumes from the front of its input, kNeedMore only once it is all used,
//    and kDone leaves the bytes after the reply in the input;
//  - a line longer than the limit is never accepted; a body never exceeds maxLines;
//  - the whole and the split runs give the same transcript.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "probe/pop3_reply.h"

namespace {

using mf::probe::Pop3Limits;
using mf::probe::Pop3ReplyReader;
using Event = Pop3ReplyReader::Event;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

std::string run(const uint8_t* data, size_t size, bool split, bool multiLine,
                const Pop3Limits& limits) {
  Pop3ReplyReader reader(limits);
  reader.start(multiLine);
  std::string transcript;
  size_t off = 0;
  while (off < size) {
    size_t n = size - off;
    if (split) n = std::min<size_t>(n, 1 + data[(off * 31 + 7) % size] % 23);
    std::unique_ptr<char[]> piece(new char[n]);
    std::copy(data + off, data + off + n, piece.get());
    off += n;
    std::string_view in(piece.get(), n);
    while (!in.empty()) {
      const char* before = in.data();
      const size_t beforeSize = in.size();
      Event event = reader.feed(in);
      check(in.data() + in.size() == before + beforeSize && in.size() <= beforeSize,
            "consumes only from the front");
      if (event == Event::kNeedMore) {
        check(in.empty(), "kNeedMore with input left");
      } else if (event == Event::kError) {
        check(!reader.error().isOk(), "kError without a status");
        transcript += "E" + reader.error().message() + "\n";
        return transcript;
      } else {
        check(reader.text().size() <= limits.maxLineLength, "status line over the limit");
        check(reader.lines().size() <= limits.maxLines, "too many lines");
        for (const std::string& line : reader.lines()) {
          check(line.size() <= limits.maxLineLength, "body line over the limit");
        }
        transcript += std::string(reader.ok() ? "+" : "-") + reader.text() + "\n";
        for (const std::string& line : reader.lines()) transcript += " " + line + "\n";
        reader.start(multiLine);
      }
    }
  }
  return transcript;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool multiLine = data[0] & 1;
  Pop3Limits limits;
  if (data[0] & 2) limits = Pop3Limits{40, 5};
  ++data;
  --size;
  std::string whole = run(data, size, false, multiLine, limits);
  std::string pieces = run(data, size, true, multiLine, limits);
  check(whole == pieces, "whole and split parses differ");
  return 0;
}
