// Terminal column width of UTF-8 text, for aligned tables with non-ASCII folder names
// ("日本語　フォルダ" takes 16 columns, not 24 bytes). Pure.
#pragma once

#include <string>
#include <string_view>

namespace mf::cli {

// Columns the text takes on a terminal: East Asian wide and fullwidth characters count 2,
// combining marks 0, everything else 1. Invalid UTF-8 bytes count 1 each.
size_t displayWidth(std::string_view utf8);

// `text` followed by spaces up to `width` columns (never truncated).
std::string padRight(std::string_view text, size_t width);

}  // namespace mf::cli
