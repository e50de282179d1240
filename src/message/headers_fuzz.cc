// libFuzzer target for the RFC 5322 header helpers (message/headers.h): any bytes, including
// NUL, bare CR/LF and 8-bit, must be handled without crashing or reading out of bounds, and
// the results must stay inside the input's header block.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "message/headers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t header = mf::message::headerBlockLength(input);
  if (header > input.size()) std::abort();
  for (std::string_view name : {"Message-ID", "Received", "Date", "Subject", ""}) {
    std::string value = mf::message::headerField(input, name);
    // An unfolded value never grows beyond the header block it came from.
    if (value.size() > header) std::abort();
  }
  return 0;
}
