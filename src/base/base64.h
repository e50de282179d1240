// Base64 (RFC 4648 section 4, with padding) for SASL exchanges. Pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mf {

std::string base64Encode(std::string_view bytes);
// Returns nullopt on a character outside the alphabet or bad padding. Whitespace is not
// allowed (SASL challenges never contain it).
std::optional<std::string> base64Decode(std::string_view text);

}  // namespace mf
