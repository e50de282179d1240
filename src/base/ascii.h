// ASCII case-insensitive comparison and case conversion, for protocol text: IMAP/POP3
// keywords, capabilities, flags, SASL mechanism names, header field names, month names.
//
// Only the 26 letters A-Z / a-z are folded; every other byte (digits, punctuation, NUL and
// 8-bit bytes) compares and converts as itself. On purpose this is not std::tolower,
// strcasecmp or strncasecmp: those follow the C locale (LC_CTYPE), so the same server reply
// could match or not depending on the process environment, and strncasecmp also stops at
// the first NUL, which a std::string_view may contain. Protocol keywords are ASCII by
// definition (RFC 3501 section 9, RFC 1939 section 3, RFC 5322 section 3.6), so nothing is
// lost by not folding anything else.
//
// Pure functions, safe from any thread. The comparisons never allocate; the conversions
// return a new string of the same length.
#pragma once

#include <string>
#include <string_view>

namespace mf {

// Same length and the same bytes once A-Z are folded to a-z.
bool equalsIgnoreCase(std::string_view a, std::string_view b);

// `text` begins with `prefix` (ignoring ASCII case). An empty prefix is a prefix of anything.
bool startsWithIgnoreCase(std::string_view text, std::string_view prefix);

// `needle` occurs somewhere in `haystack` (ignoring ASCII case). An empty needle is found in
// any haystack, as with std::string_view::find. Quadratic in the worst case: meant for
// server replies and header lines, not for searching message bodies.
bool containsIgnoreCase(std::string_view haystack, std::string_view needle);

// A copy of `text` with a-z turned into A-Z (toUpperAscii) or A-Z into a-z (toLowerAscii);
// all other bytes unchanged.
std::string toUpperAscii(std::string_view text);
std::string toLowerAscii(std::string_view text);

}  // namespace mf
