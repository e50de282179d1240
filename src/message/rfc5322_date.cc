// RFC 5322 date-time parsing and IMAP date-time formatting; the contract is in rfc5322_date.h.
//
// Shape: comments are blanked out first (they may sit between any two tokens, RFC 5322
// section 3.2.2), then the text is cut into tokens at blanks and commas, and the tokens are
// read in the order of the grammar. Every number goes through parseDecimal with a bound.
#include "message/rfc5322_date.h"

#include <array>
#include <cstdio>
#include <vector>

#include "base/ascii.h"
#include "base/checked_number.h"

namespace mf::message {
namespace {

constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<const char*, 12> kMonthNames = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};
constexpr std::array<const char*, 7> kDays = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}
bool isAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool isBlank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool allDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!isDigit(c)) return false;
  }
  return true;
}

bool allAlpha(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!isAlpha(c)) return false;
  }
  return true;
}

// Days from 1970-01-01 to the civil date, and back (Howard Hinnant's algorithms).
int64_t daysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

struct Civil {
  int64_t year;
  unsigned month;
  unsigned day;
};

Civil civilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2), m, d};
}

bool isLeap(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned daysInMonth(int64_t year, unsigned month) {
  static constexpr unsigned kDaysIn[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && isLeap(year) ? 29 : kDaysIn[month - 1];
}

// RFC 5322 section 3.2.2: comments nest and may hold quoted-pairs. Each comment becomes one
// blank. An unclosed comment runs to the end (it is ignored, tolerant).
std::string blankComments(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  int depth = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (depth > 0) {
      if (c == '\\') {
        ++i;
      } else if (c == '(') {
        ++depth;
      } else if (c == ')') {
        if (--depth == 0) out += ' ';
      }
      continue;
    }
    if (c == '(') {
      depth = 1;
      continue;
    }
    out += c;
  }
  return out;
}

// Tokens: runs of anything but blanks and commas; a comma is a token of its own.
std::vector<std::string_view> tokenize(std::string_view s) {
  std::vector<std::string_view> tokens;
  size_t i = 0;
  while (i < s.size()) {
    if (isBlank(s[i])) {
      ++i;
      continue;
    }
    if (s[i] == ',') {
      tokens.push_back(s.substr(i, 1));
      ++i;
      continue;
    }
    size_t start = i;
    while (i < s.size() && !isBlank(s[i]) && s[i] != ',') ++i;
    tokens.push_back(s.substr(start, i - start));
  }
  return tokens;
}

std::optional<unsigned> monthOf(std::string_view token) {
  if (!allAlpha(token) || token.size() < 3) return std::nullopt;
  for (unsigned i = 0; i < 12; ++i) {
    if (!startsWithIgnoreCase(token, kMonths[i])) continue;
    // "Jan", "January", and truncations between them such as "Sept".
    if (startsWithIgnoreCase(kMonthNames[i], token)) return i + 1;
  }
  return std::nullopt;
}

bool isDayName(std::string_view token) {
  if (!allAlpha(token) || token.size() < 3) return false;
  for (const char* d : kDays) {
    if (startsWithIgnoreCase(token, d)) return true;
  }
  return false;
}

std::optional<unsigned> smallNumber(std::string_view s, size_t maxDigits, unsigned max) {
  if (s.empty() || s.size() > maxDigits || !allDigits(s)) return std::nullopt;
  auto v = parseDecimal(s, max);
  if (!v) return std::nullopt;
  return static_cast<unsigned>(*v);
}

// RFC 5322 section 4.3: obs-year.
std::optional<int64_t> yearOf(std::string_view s) {
  if (!allDigits(s) || s.size() > 9) return std::nullopt;
  auto v = parseDecimal(s);
  if (!v) return std::nullopt;
  int64_t y = static_cast<int64_t>(*v);
  if (s.size() == 2) {
    y += y < 50 ? 2000 : 1900;
  } else if (s.size() == 3) {
    y += 1900;
  }
  if (y < 1900 || y > 9999) return std::nullopt;
  return y;
}

struct TimeOfDay {
  unsigned hour = 0, minute = 0, second = 0;
};

std::optional<TimeOfDay> timeOf(std::string_view s) {
  TimeOfDay t;
  size_t c1 = s.find(':');
  if (c1 == std::string_view::npos) return std::nullopt;
  size_t c2 = s.find(':', c1 + 1);
  auto h = smallNumber(s.substr(0, c1), 2, 23);
  auto m =
      smallNumber(s.substr(c1 + 1, (c2 == std::string_view::npos ? s.size() : c2) - c1 - 1), 2, 59);
  if (!h || !m) return std::nullopt;
  t.hour = *h;
  t.minute = *m;
  if (c2 != std::string_view::npos) {
    auto sec = smallNumber(s.substr(c2 + 1), 2, 60);
    if (!sec) return std::nullopt;
    t.second = *sec == 60 ? 59 : *sec;  // a leap second: IMAP servers refuse ":60"
  }
  return t;
}

// Returns the offset in minutes, or nullopt when the token is not a zone at all. Unknown
// alphabetic zones are "-0000" (RFC 5322 section 4.3).
std::optional<int> zoneOf(std::string_view s) {
  if (s.empty()) return std::nullopt;
  if (s[0] == '+' || s[0] == '-') {
    std::string digits;
    for (char c : s.substr(1)) {
      if (c != ':') digits += c;
    }
    if (digits.size() != 4 || !allDigits(digits)) return std::nullopt;
    unsigned hh = static_cast<unsigned>((digits[0] - '0') * 10 + (digits[1] - '0'));
    unsigned mm = static_cast<unsigned>((digits[2] - '0') * 10 + (digits[3] - '0'));
    if (hh > 23 || mm > 59) return std::nullopt;
    int offset = static_cast<int>(hh * 60 + mm);
    return s[0] == '-' ? -offset : offset;
  }
  if (!allAlpha(s)) return std::nullopt;
  struct Named {
    const char* name;
    int hours;
  };
  static constexpr Named kNamed[] = {{"UT", 0},   {"UTC", 0},  {"GMT", 0},  {"Z", 0},
                                     {"EST", -5}, {"EDT", -4}, {"CST", -6}, {"CDT", -5},
                                     {"MST", -7}, {"MDT", -6}, {"PST", -8}, {"PDT", -7}};
  for (const auto& z : kNamed) {
    if (equalsIgnoreCase(s, z.name)) return z.hours * 60;
  }
  return 0;
}

struct Fields {
  unsigned day = 0;
  unsigned month = 0;
  int64_t year = 0;
  TimeOfDay time;
  int offset = 0;
};

std::optional<DateTime> toDateTime(const Fields& f) {
  if (f.day < 1 || f.day > daysInMonth(f.year, f.month)) return std::nullopt;
  int64_t local = daysFromCivil(f.year, f.month, f.day) * 86400 + int64_t{f.time.hour} * 3600 +
                  int64_t{f.time.minute} * 60 + int64_t{f.time.second};
  return DateTime{local - int64_t{f.offset} * 60, f.offset};
}

}  // namespace

std::optional<DateTime> parseRfc5322DateTime(std::string_view text) {
  if (text.size() > kMaxDateLength) return std::nullopt;
  std::string plain = blankComments(text);
  std::vector<std::string_view> t = tokenize(plain);
  size_t i = 0;
  auto at = [&](size_t k) -> std::string_view { return k < t.size() ? t[k] : std::string_view(); };

  Fields f;
  bool asctime = false;
  if (isDayName(at(i)) && !monthOf(at(i))) {
    ++i;
    if (at(i) == ",") {
      ++i;
    } else if (monthOf(at(i))) {
      asctime = true;  // "Tue May 17 14:30:00 2016"
    }
  }
  if (asctime) {
    f.month = *monthOf(at(i++));
    auto day = smallNumber(at(i++), 2, 31);
    auto time = timeOf(at(i++));
    auto year = yearOf(at(i++));
    if (!day || !time || !year) return std::nullopt;
    f.day = *day;
    f.time = *time;
    f.year = *year;
  } else {
    auto day = smallNumber(at(i++), 2, 31);
    auto month = monthOf(at(i++));
    auto year = yearOf(at(i++));
    auto time = timeOf(at(i++));
    if (!day || !month || !year || !time) return std::nullopt;
    f.day = *day;
    f.month = *month;
    f.year = *year;
    f.time = *time;
  }
  if (i < t.size()) {
    auto zone = zoneOf(t[i]);
    if (!zone && (t[i][0] == '+' || t[i][0] == '-')) return std::nullopt;  // a broken offset
    f.offset = zone.value_or(0);
  }
  return toDateTime(f);
}

std::string formatImapDateTime(const DateTime& dt) {
  // Beyond +-10^12 s (about 31,700 years) nothing is formattable; the bound also keeps the
  // arithmetic below far from overflow.
  constexpr int64_t kMaxAbsEpoch = 1'000'000'000'000;
  if (dt.offsetMinutes <= -24 * 60 || dt.offsetMinutes >= 24 * 60) return {};
  if (dt.epoch > kMaxAbsEpoch || dt.epoch < -kMaxAbsEpoch) return {};
  int64_t local = dt.epoch + int64_t{dt.offsetMinutes} * 60;
  int64_t days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
  int64_t secs = local - days * 86400;
  Civil c = civilFromDays(days);
  if (c.year < 1900 || c.year > 9999) return {};
  int offset = dt.offsetMinutes < 0 ? -dt.offsetMinutes : dt.offsetMinutes;
  // Sized for the widest values the types allow (the checks above keep them far smaller), so
  // the compiler can prove no truncation.
  char buf[96];
  std::snprintf(buf, sizeof buf, "%02u-%s-%04lld %02lld:%02lld:%02lld %c%02d%02d", c.day,
                kMonths[c.month - 1], static_cast<long long>(c.year),
                static_cast<long long>(secs / 3600), static_cast<long long>(secs / 60 % 60),
                static_cast<long long>(secs % 60), dt.offsetMinutes < 0 ? '-' : '+', offset / 60,
                offset % 60);
  return buf;
}

}  // namespace mf::message
