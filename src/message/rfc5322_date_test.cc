// RFC 5322 date-time parsing (modern and obsolete forms) and IMAP date-time formatting.
#include "message/rfc5322_date.h"

#include <gtest/gtest.h>

#include <string>

#include "message/imap_date.h"

namespace mf::message {
namespace {

// 2003-07-01T08:52:37Z, the RFC 5322 appendix A.1.1 example ("Tue, 1 Jul 2003 10:52:37 +0200").
constexpr int64_t kExample = 1057049557;

std::string imap(std::string_view text) {
  auto dt = parseRfc5322DateTime(text);
  return dt ? formatImapDateTime(*dt) : "(none)";
}

TEST(Rfc5322Date, RfcExamples) {
  auto dt = parseRfc5322DateTime("Tue, 1 Jul 2003 10:52:37 +0200");
  ASSERT_TRUE(dt);
  EXPECT_EQ(dt->epoch, kExample);
  EXPECT_EQ(dt->offsetMinutes, 120);
  EXPECT_EQ(formatImapDateTime(*dt), "01-Jul-2003 10:52:37 +0200");
  // RFC 5322 A.1.2 / A.1.3 / A.5.
  EXPECT_EQ(imap("Fri, 21 Nov 1997 09:55:06 -0600"), "21-Nov-1997 09:55:06 -0600");
  EXPECT_EQ(imap("Thu, 13 Feb 1969 23:32:54 -0330"), "13-Feb-1969 23:32:54 -0330");
  EXPECT_EQ(imap("Thu,\r\n      13\r\n        Feb\r\n          1969\r\n      23:32\r\n"
                 "               -0330 (Newfoundland Time)"),
            "13-Feb-1969 23:32:00 -0330");
}

TEST(Rfc5322Date, ObsoleteForms) {
  // RFC 5322 A.6.2: two-digit year, named US zone, comment.
  EXPECT_EQ(imap("21 Nov 97 09:55:06 GMT"), "21-Nov-1997 09:55:06 +0000");
  EXPECT_EQ(imap("Fri, 21 Nov 03 09:55:06 EST"), "21-Nov-2003 09:55:06 -0500");
  EXPECT_EQ(imap("1 Jan 49 00:00:00 +0000"), "01-Jan-2049 00:00:00 +0000");
  EXPECT_EQ(imap("1 Jan 50 00:00:00 +0000"), "01-Jan-1950 00:00:00 +0000");
  EXPECT_EQ(imap("1 Jan 103 00:00:00 +0000"), "01-Jan-2003 00:00:00 +0000");
  for (auto [zone, expected] : {std::pair{"UT", "+0000"},
                                {"Z", "+0000"},
                                {"EDT", "-0400"},
                                {"CST", "-0600"},
                                {"cdt", "-0500"},
                                {"MST", "-0700"},
                                {"MDT", "-0600"},
                                {"PST", "-0800"},
                                {"PDT", "-0700"}}) {
    EXPECT_EQ(imap(std::string("1 Jan 2000 12:00:00 ") + zone),
              std::string("01-Jan-2000 12:00:00 ") + expected)
        << zone;
  }
  // Unknown alphabetic zones, military letters and a missing zone mean -0000 (section 4.3).
  EXPECT_EQ(imap("1 Jan 2000 12:00:00 CET"), "01-Jan-2000 12:00:00 +0000");
  EXPECT_EQ(imap("1 Jan 2000 12:00:00 A"), "01-Jan-2000 12:00:00 +0000");
  EXPECT_EQ(imap("1 Jan 2000 12:00:00"), "01-Jan-2000 12:00:00 +0000");
}

TEST(Rfc5322Date, ToleratedVariants) {
  EXPECT_EQ(imap("tue, 01 jul 2003 10:52:37 +0200"), "01-Jul-2003 10:52:37 +0200");
  EXPECT_EQ(imap("Tue 1 Jul 2003 10:52:37 +0200"), "01-Jul-2003 10:52:37 +0200");
  EXPECT_EQ(imap("Tuesday, 1 July 2003 10:52:37 +0200"), "01-Jul-2003 10:52:37 +0200");
  EXPECT_EQ(imap("1 Sept 2003 1:2:3 +0200"), "01-Sep-2003 01:02:03 +0200");
  EXPECT_EQ(imap("  1   Jul\t2003 10:52 +02:00  "), "01-Jul-2003 10:52:00 +0200");
  EXPECT_EQ(imap("Tue, 1 Jul 2003 10:52:37 +0200 (CEST)"), "01-Jul-2003 10:52:37 +0200");
  EXPECT_EQ(imap("(c (nested \\) one)) 1 Jul 2003 10:52:37 +0200 extra words"),
            "01-Jul-2003 10:52:37 +0200");
  EXPECT_EQ(imap("Tue, 1 Jul 2003 10:52:37 +0200 (unclosed"), "01-Jul-2003 10:52:37 +0200");
  // asctime(), seen in old Received fields.
  EXPECT_EQ(imap("Tue May 17 14:30:00 2016"), "17-May-2016 14:30:00 +0000");
  EXPECT_EQ(imap("Tue May 17 14:30:00 2016 -0700"), "17-May-2016 14:30:00 -0700");
  // A leap second becomes :59 (IMAP servers refuse :60).
  EXPECT_EQ(imap("31 Dec 2016 23:59:60 +0000"), "31-Dec-2016 23:59:59 +0000");
  // The day name is not checked against the date.
  EXPECT_EQ(imap("Mon, 1 Jul 2003 10:52:37 +0200"), "01-Jul-2003 10:52:37 +0200");
}

TEST(Rfc5322Date, Refused) {
  for (const char* bad : {"",
                          "   ",
                          "(only a comment)",
                          "Tue, 1 Jul 2003",
                          "1 Jul 2003 25:00:00 +0000",
                          "1 Jul 2003 10:60:00 +0000",
                          "1 Jul 2003 10:00:61 +0000",
                          "31 Apr 2003 10:00:00 +0000",
                          "29 Feb 2023 10:00:00 +0000",
                          "0 Jan 2003 10:00:00 +0000",
                          "1 Foo 2003 10:00:00 +0000",
                          "1 Jul 1899 10:00:00 +0000",
                          "1 Jul 10000 10:00:00 +0000",
                          "1 Jul 2003 10:00:00 +2400",
                          "1 Jul 2003 10:00:00 +0060",
                          "1 Jul 2003 10:00:00 +020",
                          "1 Jul 2003 10:00:00 -02x0",
                          "123 Jul 2003 10:00:00 +0000",
                          "1 Jul 2003 10 +0000",
                          "1 Jul 2003 :10 +0000",
                          "1 Jul 2003 10:00:00:00 +0000",
                          "Tue, , 1 Jul 2003 10:00:00 +0000",
                          "1 Jul -2003 10:00:00 +0000",
                          "1 Jul 2003 +10:00:00 +0000",
                          "Jul 2003",
                          "1 Ju 2003 10:00:00 +0000",
                          "1 Junk 2003 10:00:00 +0000"}) {
    EXPECT_FALSE(parseRfc5322DateTime(bad).has_value()) << bad;
  }
  EXPECT_TRUE(parseRfc5322DateTime("29 Feb 2024 10:00:00 +0000").has_value());
  EXPECT_TRUE(parseRfc5322DateTime("29 Feb 2000 10:00:00 +0000").has_value());
  EXPECT_FALSE(parseRfc5322DateTime("29 Feb 1900 10:00:00 +0000").has_value());
  // The length bound.
  std::string padded = "1 Jul 2003 10:00:00 +0000" + std::string(kMaxDateLength, ' ');
  EXPECT_FALSE(parseRfc5322DateTime(padded).has_value());
}

TEST(Rfc5322Date, FormattedDatesReadBackAsTheSameInstant) {
  for (const char* text :
       {"Tue, 1 Jul 2003 10:52:37 +0200", "1 Jan 1900 00:00:00 +0000", "1 Jan 1900 00:30:00 +0100",
        "31 Dec 9999 23:59:59 -2359", "29 Feb 2024 23:59:59 -1200", "1 Mar 2024 00:00:00 +1400",
        "1 Jan 1970 00:00:00 +0000", "31 Dec 1969 23:59:59 +0000"}) {
    auto dt = parseRfc5322DateTime(text);
    ASSERT_TRUE(dt) << text;
    std::string formatted = formatImapDateTime(*dt);
    ASSERT_FALSE(formatted.empty()) << text;
    EXPECT_EQ(parseImapDateTime(formatted), dt->epoch) << text << " -> " << formatted;
  }
}

TEST(Rfc5322Date, FormattingOutOfRangeIsEmpty) {
  EXPECT_EQ(formatImapDateTime({0, 0}), "01-Jan-1970 00:00:00 +0000");
  EXPECT_EQ(formatImapDateTime({-1, 0}), "31-Dec-1969 23:59:59 +0000");
  EXPECT_EQ(formatImapDateTime({-2208988801, 0}), "");  // 1899-12-31T23:59:59Z
  EXPECT_EQ(formatImapDateTime({0, 24 * 60}), "");
  EXPECT_EQ(formatImapDateTime({INT64_MAX / 2, 0}), "");
}

}  // namespace
}  // namespace mf::message
