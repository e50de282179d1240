// Which date a message without an internal date of its own gets: topmost Received, else
// Date, else now.
#include "message/internal_date.h"

#include <gtest/gtest.h>

namespace mf::message {
namespace {

constexpr int64_t kNow = 1700000000;  // 14-Nov-2023 22:13:20 +0000

TEST(InternalDate, TopmostReceivedWins) {
  const char* msg =
      "Return-Path: <a@example.test>\r\n"
      "Received: from mx2.example.test (mx2 [192.0.2.2])\r\n"
      "\tby mail.example.test (Postfix) with ESMTPS id 4ABC;\r\n"
      "\tWed, 15 May 2024 10:00:05 +0200 (CEST)\r\n"
      "Received: from out.example.org by mx2.example.test; Wed, 15 May 2024 07:59:58 +0000\r\n"
      "Date: Wed, 15 May 2024 09:59:00 +0200\r\n"
      "Subject: hi\r\n"
      "\r\n"
      "Received: in the body; Thu, 16 May 2024 00:00:00 +0000\r\n";
  InternalDate d = internalDateFromHeader(msg, kNow);
  EXPECT_EQ(d.source, DateSource::kReceived);
  EXPECT_EQ(d.imapDateTime, "15-May-2024 10:00:05 +0200");
  EXPECT_EQ(dateSourceName(d.source), "Received");
}

TEST(InternalDate, UnreadableTopmostReceivedFallsToTheNextOne) {
  const char* msg =
      "Received: from a by b with LMTP id x\n"  // no ';' at all
      "Received: from c by d; garbage date\n"
      "Received: from e by f; 2 Jan 2020 03:04:05 -0800\n"
      "Date: 1 Jan 2020 00:00:00 +0000\n"
      "\n";
  InternalDate d = internalDateFromHeader(msg, kNow);
  EXPECT_EQ(d.source, DateSource::kReceived);
  EXPECT_EQ(d.imapDateTime, "02-Jan-2020 03:04:05 -0800");
}

TEST(InternalDate, TheLastSemicolonSeparatesTheDate) {
  const char* msg =
      "Received: from x (comment; with semicolon) by y; for <a@b>;\r\n"
      " Sat, 7 Sep 2019 18:00:00 +0000\r\n\r\n";
  EXPECT_EQ(internalDateFromHeader(msg, kNow).imapDateTime, "07-Sep-2019 18:00:00 +0000");
}

TEST(InternalDate, DateFieldWhenNoReceived) {
  const char* msg =
      "received-spf: pass (not a Received field); 1 Jan 2001 00:00:00 +0000\r\n"
      "DATE : Tue, 17 May 2016 14:30:00 +0100\r\n"
      "Date: 1 Jan 2001 00:00:00 +0000\r\n"
      "\r\n";
  InternalDate d = internalDateFromHeader(msg, kNow);
  EXPECT_EQ(d.source, DateSource::kDate);
  EXPECT_EQ(d.imapDateTime, "17-May-2016 14:30:00 +0100");
}

TEST(InternalDate, NowWhenNothingUsable) {
  for (const char* msg :
       {"", "Subject: no dates\r\n\r\nDate: 1 Jan 2001 00:00:00 +0000\r\n",
        "Date: yesterday\r\nReceived: by x; soon\r\n\r\n", "Subject: header only, no blank line"}) {
    InternalDate d = internalDateFromHeader(msg, kNow);
    EXPECT_EQ(d.source, DateSource::kNow) << msg;
    EXPECT_EQ(d.imapDateTime, "14-Nov-2023 22:13:20 +0000") << msg;
    EXPECT_EQ(d.when.epoch, kNow);
    EXPECT_EQ(dateSourceName(d.source), "now");
  }
}

TEST(InternalDate, DateSourceNames) {
  EXPECT_EQ(dateSourceName(DateSource::kReceived), "Received");
  EXPECT_EQ(dateSourceName(DateSource::kDate), "Date");
  EXPECT_EQ(dateSourceName(DateSource::kNow), "now");
}

}  // namespace
}  // namespace mf::message
