#include "imap/client/server_errors.h"

#include <string>

#include "base/ascii.h"
#include "base/checked_number.h"

namespace mf::imap {
namespace {

// "Suggested Backoff Time: 299961 milliseconds" (Office 365).
std::optional<Millis> suggestedBackoff(std::string_view text) {
  constexpr std::string_view kKey = "backoff time:";
  for (size_t i = 0; i + kKey.size() <= text.size(); ++i) {
    if (!startsWithIgnoreCase(text.substr(i), kKey)) continue;
    size_t p = i + kKey.size();
    while (p < text.size() && text[p] == ' ') ++p;
    size_t q = p;
    while (q < text.size() && text[q] >= '0' && text[q] <= '9') ++q;
    auto ms = parseDecimal(text.substr(p, q - p), 24ull * 3600 * 1000);
    if (ms) return Millis(static_cast<int64_t>(*ms));
  }
  return std::nullopt;
}

}  // namespace

std::string serverWords(const Response& r) {
  std::string words;
  if (!r.code.empty()) {
    words += "[" + r.code;
    if (!r.codeArgs.empty()) words += " " + r.codeArgs;
    words += "] ";
  }
  words += r.text;
  return words;
}

std::optional<Millis> throttleWait(const Response& r) {
  if (r.status != "NO" && r.status != "BAD" && r.status != "BYE") return std::nullopt;
  auto hint = suggestedBackoff(r.text);
  if (hint) return hint;
  if (r.code == "THROTTLED" || r.code == "UNAVAILABLE" || r.code == "INUSE" ||
      containsIgnoreCase(r.text, "throttl")) {
    return kDefaultThrottleWait;
  }
  return std::nullopt;
}

Status statusFromServer(const Response& r, std::string_view what) {
  if (r.isOk()) return Status::ok();
  std::string message = std::string(what) + " failed: " + r.status + " " + serverWords(r);
  if (auto wait = throttleWait(r)) {
    return Status(Errc::kThrottled, ErrorClass::kRetry,
                  message + " (the server asks us to slow down: waiting " +
                      std::to_string(wait->count()) + " ms)")
        .withRetryAfter(*wait);
  }
  if (r.status == "BYE") return Status(Errc::kClosed, message);
  return Status(r.status == "BAD" ? Errc::kServerBad : Errc::kServerNo, message);
}

Status appendRefusal(const Response& r) {
  Status base = statusFromServer(r, "APPEND");
  if (base.isOk() || base.code() == Errc::kThrottled) return base;
  const std::string& text = r.text;
  auto is = [&](std::initializer_list<std::string_view> words) {
    for (auto w : words) {
      if (containsIgnoreCase(text, w)) return true;
    }
    return false;
  };
  Errc code = Errc::kServerNo;
  if (r.code == "TOOBIG" ||
      is({"maximum size", "too large", "too big", "message size", "exceeds"})) {
    code = Errc::kTooBig;
  } else if (r.code == "OVERQUOTA" || is({"quota", "Server Unavailable. 15", "mailbox full"})) {
    code = Errc::kOverQuota;
  } else if (r.code == "PARSE" ||
             is({"invalid header", "nul ", "nul characters", "null character", "8bit", "8-bit",
                 "line too long", "argument error 11", "bare newline", "malformed"})) {
    code = Errc::kBadMessage;
  } else if (is({"keyword", "flag"})) {
    code = Errc::kKeywordRefused;
  }
  return Status(code, base.message());
}

}  // namespace mf::imap
