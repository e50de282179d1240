#include "message/imap_date.h"

#include "base/ascii.h"
#include "base/checked_number.h"

namespace mf::message {
namespace {

// Days from 1970-01-01 to the given civil date (Howard Hinnant's algorithm).
int64_t daysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

std::optional<unsigned> number(std::string_view s, size_t digits) {
  if (s.size() != digits) return std::nullopt;
  auto v = parseDecimal(s, 9999);
  if (!v) return std::nullopt;
  return static_cast<unsigned>(*v);
}

}  // namespace

std::optional<int64_t> parseImapDateTime(std::string_view t) {
  while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
  // d[d]-Mon-yyyy hh:mm:ss +zzzz
  size_t dash1 = t.find('-');
  if (dash1 == std::string_view::npos || dash1 == 0 || dash1 > 2) return std::nullopt;
  auto day = parseDecimal(t.substr(0, dash1), 31);
  if (!day || *day == 0) return std::nullopt;
  t.remove_prefix(dash1 + 1);
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (t.size() < 4 || t[3] != '-') return std::nullopt;
  unsigned month = 0;
  for (unsigned i = 0; i < 12; ++i) {
    if (startsWithIgnoreCase(t, kMonths[i])) month = i + 1;
  }
  if (!month) return std::nullopt;
  t.remove_prefix(4);
  if (t.size() != 4 + 1 + 8 + 1 + 5) return std::nullopt;
  auto year = number(t.substr(0, 4), 4);
  auto hh = number(t.substr(5, 2), 2);
  auto mm = number(t.substr(8, 2), 2);
  auto ss = number(t.substr(11, 2), 2);
  if (!year || !hh || !mm || !ss || t[4] != ' ' || t[7] != ':' || t[10] != ':' || t[13] != ' ')
    return std::nullopt;
  char sign = t[14];
  auto zh = number(t.substr(15, 2), 2);
  auto zm = number(t.substr(17, 2), 2);
  if ((sign != '+' && sign != '-') || !zh || !zm || *hh > 23 || *mm > 59 || *ss > 60)
    return std::nullopt;
  int64_t secs = daysFromCivil(*year, month, static_cast<unsigned>(*day)) * 86400 +
                 int64_t{*hh} * 3600 + int64_t{*mm} * 60 + int64_t{*ss};
  int64_t offset = (int64_t{*zh} * 3600 + int64_t{*zm} * 60) * (sign == '+' ? 1 : -1);
  return secs - offset;
}

}  // namespace mf::message
