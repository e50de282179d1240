#include "message/imap_date.h"

#include <gtest/gtest.h>

namespace mf::message {
TEST(ImapDate, ParsesWithZones) {
  EXPECT_EQ(parseImapDateTime("01-Jan-1970 00:00:00 +0000"), 0);
  EXPECT_EQ(parseImapDateTime("17-Jul-1996 02:44:25 -0700"), 837596665);
  EXPECT_EQ(parseImapDateTime(" 7-Jul-1996 02:44:25 +0000"),
            parseImapDateTime("07-Jul-1996 02:44:25 +0000"));
  EXPECT_EQ(*parseImapDateTime("17-Jul-1996 09:44:25 +0000"),
            *parseImapDateTime("17-Jul-1996 02:44:25 -0700"));
  EXPECT_FALSE(parseImapDateTime("17-Foo-1996 02:44:25 -0700"));
  EXPECT_FALSE(parseImapDateTime("17-Jul-1996 02:44:25"));
  EXPECT_FALSE(parseImapDateTime(""));
}
}  // namespace mf::message
