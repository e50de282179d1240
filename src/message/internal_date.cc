#include "message/internal_date.h"

#include "base/ascii.h"
#include "message/headers.h"

namespace mf::message {
namespace {

bool isBlank(char c) {
  return c == ' ' || c == '\t';
}

// Calls `fn(value)` with the raw (still folded) value of every field named `name` in the
// header block, top to bottom, until fn returns true.
template <typename Fn>
bool forEachField(std::string_view message, std::string_view name, Fn fn) {
  std::string_view header = message.substr(0, headerBlockLength(message));
  size_t pos = 0;
  while (pos < header.size()) {
    size_t eol = header.find('\n', pos);
    if (eol == std::string_view::npos) eol = header.size();
    size_t start = pos;
    pos = eol + 1;
    // A field runs on over continuation lines (RFC 5322 section 2.2.3).
    while (pos < header.size() && isBlank(header[pos])) {
      size_t next = header.find('\n', pos);
      if (next == std::string_view::npos) next = header.size();
      eol = next;
      pos = next + 1;
    }
    std::string_view field = header.substr(start, eol - start);
    // Tolerated: blanks before the colon ("Received : ...", RFC 5322 section 4.5 obs-fields).
    if (field.size() <= name.size() || !startsWithIgnoreCase(field, name)) continue;
    size_t colon = name.size();
    while (colon < field.size() && isBlank(field[colon])) ++colon;
    if (colon >= field.size() || field[colon] != ':') continue;
    if (fn(field.substr(colon + 1))) return true;
  }
  return false;
}

// Folding whitespace inside a date is just white space to the date parser, so the raw value
// can be parsed as it is once CR/LF count as blanks (they do in parseRfc5322DateTime).
std::optional<DateTime> receivedDate(std::string_view value) {
  size_t semicolon = value.rfind(';');
  if (semicolon == std::string_view::npos) return std::nullopt;
  return parseRfc5322DateTime(value.substr(semicolon + 1));
}

}  // namespace

std::string_view dateSourceName(DateSource source) {
  switch (source) {
    case DateSource::kReceived:
      return "Received";
    case DateSource::kDate:
      return "Date";
    case DateSource::kNow:
      return "now";
  }
  return "now";
}

InternalDate internalDateFromHeader(std::string_view message, int64_t nowEpoch) {
  InternalDate out;
  std::optional<DateTime> when;
  forEachField(message, "Received", [&](std::string_view value) {
    when = receivedDate(value);
    return when.has_value();
  });
  if (when) {
    out.source = DateSource::kReceived;
  } else {
    forEachField(message, "Date", [&](std::string_view value) {
      when = parseRfc5322DateTime(value);
      return true;  // only the first Date field counts (RFC 5322 allows exactly one)
    });
    if (when) out.source = DateSource::kDate;
  }
  if (when) {
    out.imapDateTime = formatImapDateTime(*when);
    if (out.imapDateTime.empty()) when.reset();  // outside 1900-9999 once shifted: unusable
  }
  if (!when) {
    out.source = DateSource::kNow;
    when = DateTime{nowEpoch, 0};
    out.imapDateTime = formatImapDateTime(*when);
  }
  out.when = *when;
  return out;
}

}  // namespace mf::message
