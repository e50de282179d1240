// libFuzzer target for modified UTF-7 (DESIGN.md practice 2). Seed corpus: fuzz/corpus/mutf7.
//
// Invariants: whatever decodes is valid UTF-8, so it re-encodes, and that encoding decodes
// back to the same text; whatever is valid UTF-8 encodes to printable ASCII that decodes
// back to the input, and encoding is canonical (encode(decode(e)) == e).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "imap/wire/mutf7.h"

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);

  mf::Result<std::string> decoded = mf::imap::decodeMutf7(input);
  if (decoded.isOk()) {
    mf::Result<std::string> again = mf::imap::encodeMutf7(*decoded);
    check(again.isOk(), "decoded text does not re-encode");
    mf::Result<std::string> back = mf::imap::decodeMutf7(*again);
    check(back.isOk() && *back == *decoded, "re-encoded text does not decode to the same");
  }

  mf::Result<std::string> encoded = mf::imap::encodeMutf7(input);
  if (encoded.isOk()) {
    for (char c : *encoded) check(c >= 0x20 && c <= 0x7e, "encoding is not printable ASCII");
    mf::Result<std::string> back = mf::imap::decodeMutf7(*encoded);
    check(back.isOk() && *back == input, "encode/decode does not round-trip");
    mf::Result<std::string> canonical = mf::imap::encodeMutf7(*back);
    check(canonical.isOk() && *canonical == *encoded, "encoding is not canonical");
  }
  return 0;
}
