// RFC 5322 date-time ("Tue, 1 Jul 2003 10:52:37 +0200") to an instant, and an instant to an
// IMAP date-time ("01-Jul-2003 10:52:37 +0200", RFC 3501 section 9). Pure functions.
//
// Accepted (RFC 5322 section 3.3 and the obsolete syntax of section 4.3, because old mail and
// odd mailers are the norm):
//   [day-name [","]] day month year hour ":" minute [":" second] [zone]
// - comments "(...)" anywhere (nested, with \-escapes) count as white space: "+0000 (UTC)";
// - day-name is not checked against the date (many mailers get it wrong);
// - month: the English 3-letter name or the full name, any case ("Sept" too);
// - year: 4 digits; 2 digits mean 2000-2049 / 1950-1999 and 3 digits 1900 + n (section 4.3);
// - hour/minute/second: 1 or 2 digits; second 60 (a leap second) reads as 59;
// - zone: +hhmm / -hhmm (also +hh:mm); UT, GMT, Z and the US zones EST EDT CST CDT MST MDT PST
//   PDT (section 4.3); any other alphabetic zone (military letters, "CET") and a missing zone
//   mean "-0000", i.e. UTC with the local time unknown (section 4.3);
// - also the asctime() form "Tue May 17 14:30:00 2016 [zone]" seen in old Received fields;
// - anything after the zone is ignored.
// Refused (nullopt): an impossible date (31 Apr, 29 Feb 2023), hour > 23, minute > 59,
// a zone offset of 24 hours or more, years before 1900 or after 9999 (IMAP has 4 digits),
// and input longer than kMaxDateLength bytes (a date is short; this bounds the work).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mf::message {

inline constexpr size_t kMaxDateLength = 512;

struct DateTime {
  int64_t epoch = 0;      // seconds since 1970-01-01T00:00:00Z
  int offsetMinutes = 0;  // the zone as written, e.g. -420 for -0700

  bool operator==(const DateTime&) const = default;
};

std::optional<DateTime> parseRfc5322DateTime(std::string_view text);

// "dd-Mon-yyyy hh:mm:ss +hhmm" in the given zone (day always two digits, which RFC 3501's
// date-day-fixed allows). `dt` must be in the range parseRfc5322DateTime returns (years
// 1900-9999 in its own zone); otherwise the result is an empty string.
std::string formatImapDateTime(const DateTime& dt);

}  // namespace mf::message
