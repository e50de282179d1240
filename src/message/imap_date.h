// IMAP date-time (RFC 3501 section 9, date-time: "17-Jul-1996 02:44:25 -0700") to seconds
// since the epoch, UTC. Pure. Tolerates a leading space in a one-digit day (" 7-Jul-...")
// as the grammar allows.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace mf::message {

std::optional<int64_t> parseImapDateTime(std::string_view text);

}  // namespace mf::message
