#include "pop3/wire/command.h"

#include <gtest/gtest.h>

#include <string>

namespace mf::pop3 {
namespace {

std::string built(const Command& c) {
  auto line = c.build();
  EXPECT_TRUE(line.isOk()) << line.status().message();
  return line.isOk() ? *line : "";
}

TEST(Pop3Command, BuildsLines) {
  EXPECT_EQ(built(Command("CAPA")), "CAPA\r\n");
  EXPECT_EQ(built(Command("user").arg("alice@example.com")), "USER alice@example.com\r\n");
  EXPECT_EQ(built(Command("RETR").number(7)), "RETR 7\r\n");
  EXPECT_EQ(built(Command("TOP").number(12).number(0)), "TOP 12 0\r\n");
  EXPECT_EQ(built(Command("PASS").trailing("b0b pw with \"quotes\" and \\ backslash")),
            "PASS b0b pw with \"quotes\" and \\ backslash\r\n");
  EXPECT_EQ(built(Command("APOP").arg("mrose").arg("c4c9334bac560ecc979e58001b3e22fb")),
            "APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n");
  EXPECT_EQ(Command("uidl").keyword(), "UIDL");
}

TEST(Pop3Command, RefusesLineBreaksAndNulWithoutQuotingThem) {
  const std::string secret = "hunter2\r\nDELE 1";
  for (std::string bad : {secret, std::string("a\0b", 3), std::string("x\ry"), std::string("\n")}) {
    auto pass = Command("PASS").trailing(bad).build();
    ASSERT_FALSE(pass.isOk());
    EXPECT_EQ(pass.status().code(), Errc::kUsage);
    EXPECT_EQ(pass.status().message(),
              "argument 1 of PASS contains a line break or NUL, which a POP3 command cannot carry");
    auto user = Command("USER").arg(bad).build();
    ASSERT_FALSE(user.isOk());
    EXPECT_EQ(user.status().code(), Errc::kUsage);
  }
  auto ok = Command("PASS").trailing("fine").build();
  EXPECT_TRUE(ok.isOk());
}

TEST(Pop3Command, RefusesSpacesInWordsAndEmptyArguments) {
  auto spaced = Command("USER").arg("alice smith").build();
  ASSERT_FALSE(spaced.isOk());
  EXPECT_EQ(spaced.status().message(),
            "argument 1 of USER contains a space, which a POP3 server would read as two "
            "arguments");
  auto empty = Command("USER").arg("").build();
  ASSERT_FALSE(empty.isOk());
  EXPECT_EQ(empty.status().message(), "argument 1 of USER is empty");
  auto afterTrailing = Command("PASS").trailing("a b").arg("c").build();
  ASSERT_FALSE(afterTrailing.isOk());
  EXPECT_EQ(afterTrailing.status().code(), Errc::kInternal);
}

TEST(Pop3Command, NeverBuildsDele) {
  for (const char* verb : {"DELE", "dele", "DeLe"}) {
    auto line = Command(verb).number(1).build();
    ASSERT_FALSE(line.isOk()) << verb;
    EXPECT_EQ(line.status().code(), Errc::kInternal);
    EXPECT_EQ(line.status().message(),
              "refusing to send DELE: mailferry never deletes anything from a POP3 source");
    EXPECT_TRUE(Command::isForbidden(verb));
  }
  EXPECT_FALSE(Command::isForbidden("DEL"));
  EXPECT_FALSE(Command::isForbidden("RSET"));
  EXPECT_FALSE(Command::isForbidden("DELETE"));
}

TEST(Pop3Command, RefusesBadKeywords) {
  for (const char* verb : {"", "QU", "QUITS", "US R", "R3TR", "USER\r\n"}) {
    auto line = Command(verb).build();
    ASSERT_FALSE(line.isOk()) << verb;
    EXPECT_EQ(line.status().code(), Errc::kInternal) << verb;
  }
}

TEST(Pop3Command, LineLengthLimit) {
  // "PASS " + 248 + CRLF = 255 octets: the longest allowed.
  EXPECT_TRUE(Command("PASS").trailing(std::string(248, 'p')).build().isOk());
  auto tooLong = Command("PASS").trailing(std::string(249, 'p')).build();
  ASSERT_FALSE(tooLong.isOk());
  EXPECT_EQ(tooLong.status().code(), Errc::kLimit);
  EXPECT_EQ(tooLong.status().message(),
            "PASS command would be longer than the 255 octets POP3 allows (RFC 2449 section 4)");
}

TEST(Pop3Command, SaslResponseLines) {
  auto line = saslResponseLine(std::string(400, 'A'));
  ASSERT_TRUE(line.isOk());
  EXPECT_EQ(line->size(), 402u);
  EXPECT_EQ(*saslResponseLine("*"), "*\r\n");
  EXPECT_FALSE(saslResponseLine("abc\r\nDELE 1").isOk());
}

}  // namespace
}  // namespace mf::pop3
