// Turns a server's NO / BAD / BYE into a Status with the right code, class and wait hint.
//
// Throttling (QUIRKS.md: Office 365, Gmail, Dovecot imapc's list) becomes Errc::kThrottled,
// class kRetry, with retryAfter() set:
//   "Request is throttled. Suggested Backoff Time: 299961 milliseconds" -> that many ms;
//   [THROTTLED] (RFC-less, Gmail/Yahoo), [UNAVAILABLE] (RFC 5530), [INUSE] (RFC 5530)
//   -> the hint if the text carries one, else kDefaultThrottleWait.
// Everything else: NO -> kServerNo, BAD -> kServerBad, BYE -> kClosed, with the server's
// words in the message.
#pragma once

#include <optional>
#include <string_view>

#include "base/deadline.h"
#include "base/status.h"
#include "imap/wire/response.h"

namespace mf::imap {

inline constexpr Millis kDefaultThrottleWait{5000};

// The server's words: "[CODE args] text".
std::string serverWords(const Response& response);

// The wait a throttling response asks for, or nullopt if it is not a throttling response.
std::optional<Millis> throttleWait(const Response& response);

Status statusFromServer(const Response& response, std::string_view what);

// An APPEND refusal, classified by the response code (RFC 5530: TOOBIG, OVERQUOTA, LIMIT,
// PARSE...) and, where servers use no code, by their known words (QUIRKS.md: Exchange
// "Maximum size of appendable message has been exceeded", "Message contains invalid header",
// "Command Argument Error 11" for long lines, "Server Unavailable. 15" = over quota; Zimbra
// "NO APPEND failed" on keywords; "NUL characters"): kTooBig, kOverQuota, kBadMessage,
// kKeywordRefused, kThrottled, else kServerNo. Class: destination limit, or source for
// kBadMessage, or retry for throttling.
Status appendRefusal(const Response& response);

}  // namespace mf::imap
