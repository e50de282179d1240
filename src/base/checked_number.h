// The one overflow-checked helper through which every number read from the wire goes
// (DESIGN.md practice 1). Accepts only ASCII digits, no sign, no spaces.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace mf {

// Parses a decimal number not larger than `max`. Returns nullopt for an empty string, a
// non-digit or a value above `max`.
std::optional<uint64_t> parseDecimal(std::string_view text, uint64_t max = UINT64_MAX);

// Convenience for 32-bit protocol numbers (UIDs, UIDVALIDITY, counts: RFC 3501 nz-number).
std::optional<uint32_t> parseU32(std::string_view text);

}  // namespace mf
