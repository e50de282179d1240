// Server detection: which IMAP/POP3 server software answers, from what it says before login.
//
// Contract:
// - detectServer() is pure: it looks at the greeting text, the capability list and the IMAP
//   ID response (RFC 2971) fields, in that order of trust reversed: ID first (it names the
//   software outright), then capabilities only one vendor uses (Gmail's X-GM-EXT-1, POP3's
//   IMPLEMENTATION, RFC 2449 section 6.9), then well-known greeting phrases. Matching is
//   case-insensitive. Greetings can be customised by the admin, so kOther is a normal answer.
// - nonMailNotice() is the text to show when the source keeps more than mail: Gmail and
//   Exchange / Office 365 hold contacts, calendars and tasks that IMAP and POP3 do not carry
//   (SPEC.md section 3). Empty for every other kind.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mf::probe {

enum class ServerKind { kOther, kGmail, kExchange, kDovecot, kCyrus, kCourier, kZimbra, kKerio };

// The ID response as name/value pairs, in the order the server sent them.
using IdFields = std::vector<std::pair<std::string, std::string>>;

ServerKind detectServer(std::string_view greeting, const std::vector<std::string>& capabilities,
                        const IdFields& idResponse);

// Stable lower-case token for JSON ("gmail", "exchange", ...; "other").
const char* serverKindName(ServerKind kind);
// For people: "Gmail / Google Workspace", "Microsoft Exchange / Office 365", ...
const char* serverKindTitle(ServerKind kind);

std::string nonMailNotice(ServerKind kind);

}  // namespace mf::probe
