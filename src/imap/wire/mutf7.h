// Modified UTF-7 mailbox names (RFC 3501 section 5.1.3), both ways.
//
// encodeMutf7: UTF-8 -> modified UTF-7. Invalid UTF-8 is an error (never silently mangled).
// decodeMutf7: modified UTF-7 -> UTF-8. Strictly validated (RFC rules: no unnecessary
// encoding of printable ASCII is *tolerated* on decode, but bad base64, unpaired surrogates
// or a non-terminated shift are errors, so the caller can fall back to the raw bytes).
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace mf::imap {

Result<std::string> encodeMutf7(std::string_view utf8);
Result<std::string> decodeMutf7(std::string_view mutf7);

}  // namespace mf::imap
