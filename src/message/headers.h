// RFC 5322 header helpers. Pure functions over bytes, no I/O.
//
// Tolerant by design (QUIRKS.md): accepts bare LF line ends, 8-bit bytes, and a message
// that has no body separator (header-only message).
#pragma once

#include <string>
#include <string_view>

namespace mf::message {

// The unfolded, trimmed value of the first header field named `name` (case-insensitive),
// searching only the header block (up to the first empty line). Empty if absent.
std::string headerField(std::string_view message, std::string_view name);

// Length of the header block including the empty line that ends it (or the whole input
// if there is none).
size_t headerBlockLength(std::string_view message);

}  // namespace mf::message
