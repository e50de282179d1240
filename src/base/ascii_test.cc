#include "base/ascii.h"

#include <gtest/gtest.h>

#include <clocale>
#include <string>

namespace mf {
namespace {

using namespace std::string_literals;

TEST(Ascii, EqualsIgnoreCase) {
  EXPECT_TRUE(equalsIgnoreCase("", ""));
  EXPECT_TRUE(equalsIgnoreCase("INBOX", "inbox"));
  EXPECT_TRUE(equalsIgnoreCase("\\Seen", "\\sEEN"));
  EXPECT_TRUE(equalsIgnoreCase("AUTH=PLAIN", "auth=plain"));
  EXPECT_FALSE(equalsIgnoreCase("INBOX", "INBOX2"));
  EXPECT_FALSE(equalsIgnoreCase("INBOX2", "INBOX"));
  EXPECT_FALSE(equalsIgnoreCase("", "a"));
  EXPECT_FALSE(equalsIgnoreCase("Sent", "Sant"));
}

TEST(Ascii, OnlyLettersFold) {
  // A bit trick (c | 0x20) would wrongly pair these: '@'/'`', '['/'{', '^'/'~'.
  EXPECT_FALSE(equalsIgnoreCase("@", "`"));
  EXPECT_FALSE(equalsIgnoreCase("[", "{"));
  EXPECT_FALSE(equalsIgnoreCase("^", "~"));
  EXPECT_FALSE(equalsIgnoreCase("1", "!"));
  // 8-bit bytes are never folded: Latin-1 E-acute upper/lower, UTF-8 of the same.
  EXPECT_FALSE(equalsIgnoreCase("\xC9", "\xE9"));
  EXPECT_FALSE(equalsIgnoreCase("\xC3\x89", "\xC3\xA9"));
  EXPECT_TRUE(equalsIgnoreCase("\xC9x", "\xC9X"));
}

TEST(Ascii, NulIsAnOrdinaryByte) {
  // strncasecmp would stop at the NUL and call these equal.
  EXPECT_FALSE(equalsIgnoreCase("a\0b"s, "A\0c"s));
  EXPECT_TRUE(equalsIgnoreCase("a\0b"s, "A\0B"s));
  EXPECT_FALSE(startsWithIgnoreCase("ab\0x"s, "AB\0y"s));
  EXPECT_TRUE(containsIgnoreCase("x\0Needle"s, "\0needle"s));
}

TEST(Ascii, StartsWithIgnoreCase) {
  EXPECT_TRUE(startsWithIgnoreCase("+ok ready", "+OK"));
  EXPECT_TRUE(startsWithIgnoreCase("BODY[HEADER.FIELDS", "body["));
  EXPECT_TRUE(startsWithIgnoreCase("anything", ""));
  EXPECT_TRUE(startsWithIgnoreCase("", ""));
  EXPECT_TRUE(startsWithIgnoreCase("Jan", "jan"));
  EXPECT_FALSE(startsWithIgnoreCase("Ja", "jan"));
  EXPECT_FALSE(startsWithIgnoreCase("-ERR", "+OK"));
  EXPECT_FALSE(startsWithIgnoreCase("", "x"));
}

TEST(Ascii, StartsWithDoesNotReadPastTheView) {
  // The bytes after the view would complete the prefix; they must not count.
  std::string_view text = std::string_view("January").substr(0, 2);
  EXPECT_FALSE(startsWithIgnoreCase(text, "jan"));
}

TEST(Ascii, ContainsIgnoreCase) {
  EXPECT_TRUE(containsIgnoreCase("* OK Dovecot ready.", "dovecot"));
  EXPECT_TRUE(containsIgnoreCase("Suggested Backoff Time: 5", "backoff time:"));
  EXPECT_TRUE(containsIgnoreCase("throttled", "THROTTL"));
  EXPECT_TRUE(containsIgnoreCase("abc", "abc"));
  EXPECT_TRUE(containsIgnoreCase("abc", "C"));
  EXPECT_TRUE(containsIgnoreCase("aaab", "AAB"));  // a partial match first, then the real one
  EXPECT_TRUE(containsIgnoreCase("", ""));
  EXPECT_TRUE(containsIgnoreCase("anything", ""));
  EXPECT_FALSE(containsIgnoreCase("", "x"));
  EXPECT_FALSE(containsIgnoreCase("ab", "abc"));
  EXPECT_FALSE(containsIgnoreCase("mailbox is full", "mailbox full"));
}

TEST(Ascii, ToUpperAndLower) {
  EXPECT_EQ(toUpperAscii(""), "");
  EXPECT_EQ(toLowerAscii(""), "");
  EXPECT_EQ(toUpperAscii("auth=plain x-gm-ext-1"), "AUTH=PLAIN X-GM-EXT-1");
  EXPECT_EQ(toLowerAscii("Microsoft.Exchange IMAP4"), "microsoft.exchange imap4");
  EXPECT_EQ(toUpperAscii("az@[`{AZ"), "AZ@[`{AZ");
  EXPECT_EQ(toLowerAscii("AZ@[`{az"), "az@[`{az");
  EXPECT_EQ(toUpperAscii("\xE9\xC3\xA9"), "\xE9\xC3\xA9");
  EXPECT_EQ(toLowerAscii("\xC9\xC3\x89"), "\xC9\xC3\x89");
  EXPECT_EQ(toUpperAscii("a\0b"s), "A\0B"s);
  EXPECT_EQ(toLowerAscii("A\0B"s), "a\0b"s);
}

TEST(Ascii, IgnoresTheCLocale) {
  // With a Latin-1 locale std::tolower folds 0xC9 into 0xE9; these helpers must not. The
  // byte tests above hold either way; this one needs such a locale installed.
  const char* previous = std::setlocale(LC_CTYPE, nullptr);
  const std::string saved = previous ? previous : "C";
  const char* found = nullptr;
  for (const char* name : {"de_DE.ISO-8859-1", "en_US.ISO-8859-1", "fr_FR.ISO-8859-1"}) {
    if (std::setlocale(LC_CTYPE, name) != nullptr) {
      found = name;
      break;
    }
  }
  if (found == nullptr) GTEST_SKIP() << "no ISO-8859-1 locale installed";
  EXPECT_FALSE(equalsIgnoreCase("\xC9", "\xE9")) << found;
  EXPECT_TRUE(startsWithIgnoreCase("\xC9t\xE9", "\xC9T")) << found;
  EXPECT_FALSE(containsIgnoreCase("caf\xC9", "\xE9")) << found;
  EXPECT_EQ(toLowerAscii("\xC9"), "\xC9") << found;
  EXPECT_EQ(toUpperAscii("\xE9"), "\xE9") << found;
  std::setlocale(LC_CTYPE, saved.c_str());
}

}  // namespace
}  // namespace mf
