// Pop3ReplyReader: status lines, CAPA bodies, limits, fed whole and byte by byte.
#include "probe/pop3_reply.h"

#include <gtest/gtest.h>

namespace mf::probe {
namespace {

using Event = Pop3ReplyReader::Event;

// Feeds `bytes` one byte at a time; returns the final event and what was left over.
Event feedBytewise(Pop3ReplyReader& reader, std::string_view bytes, std::string* rest) {
  Event event = Event::kNeedMore;
  size_t i = 0;
  for (; i < bytes.size(); ++i) {
    std::string_view one = bytes.substr(i, 1);
    event = reader.feed(one);
    if (event != Event::kNeedMore) {
      ++i;
      break;
    }
  }
  if (rest) *rest = std::string(bytes.substr(i));
  return event;
}

TEST(Pop3Reply, Greeting) {
  Pop3ReplyReader reader;
  reader.start(false);
  std::string_view in = "+OK Dovecot ready. <1.2@host>\r\nextra";
  EXPECT_EQ(reader.feed(in), Event::kDone);
  EXPECT_TRUE(reader.ok());
  EXPECT_EQ(reader.text(), "Dovecot ready. <1.2@host>");
  EXPECT_EQ(in, "extra");  // bytes after the reply stay with the caller
}

TEST(Pop3Reply, ErrAndBareLfAndLowercase) {
  Pop3ReplyReader reader;
  reader.start(true);  // -ERR never has a body, even for a multi-line command
  std::string_view in = "-err unknown command\n";
  EXPECT_EQ(reader.feed(in), Event::kDone);
  EXPECT_FALSE(reader.ok());
  EXPECT_EQ(reader.text(), "unknown command");
  reader.start(false);
  in = "+ok\r\n";
  EXPECT_EQ(reader.feed(in), Event::kDone);
  EXPECT_TRUE(reader.ok());
  EXPECT_EQ(reader.text(), "");
}

TEST(Pop3Reply, CapaBodyBytewiseWithDotStuffing) {
  const std::string capa =
      "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nSTLS\r\nUSER\r\nSASL PLAIN "
      "LOGIN\r\n..odd\r\n.\r\n+OK next";
  Pop3ReplyReader reader;
  reader.start(true);
  std::string rest;
  EXPECT_EQ(feedBytewise(reader, capa, &rest), Event::kDone);
  EXPECT_EQ(rest, "+OK next");
  ASSERT_EQ(reader.lines().size(), 9u);
  EXPECT_EQ(reader.lines()[7], "SASL PLAIN LOGIN");
  EXPECT_EQ(reader.lines()[8], ".odd");
}

TEST(Pop3Reply, NotPop3) {
  for (std::string_view bytes : {"* OK [CAPABILITY IMAP4rev1] Dovecot ready.\r\n",
                                 "220 mail.example.com ESMTP\r\n", "+OKAY\r\n"}) {
    Pop3ReplyReader reader;
    reader.start(false);
    std::string_view in = bytes;
    EXPECT_EQ(reader.feed(in), Event::kError) << bytes;
    EXPECT_EQ(reader.error().code(), Errc::kProtocol);
  }
}

TEST(Pop3Reply, LineLimitIsItsOwnError) {
  Pop3ReplyReader reader(Pop3Limits{16, 3});
  reader.start(false);
  std::string_view in = "+OK 0123456789abcdef\r\n";
  EXPECT_EQ(reader.feed(in), Event::kError);
  EXPECT_EQ(reader.error().code(), Errc::kLimit);

  reader.start(true);
  in = "+OK\r\nA\r\nB\r\nC\r\nD\r\n.\r\n";
  EXPECT_EQ(reader.feed(in), Event::kError);
  EXPECT_EQ(reader.error().code(), Errc::kLimit);
}

TEST(Pop3Reply, SplitCrLf) {
  Pop3ReplyReader reader;
  reader.start(false);
  std::string_view a = "+OK hi\r";
  EXPECT_EQ(reader.feed(a), Event::kNeedMore);
  std::string_view b = "\n";
  EXPECT_EQ(reader.feed(b), Event::kDone);
  EXPECT_EQ(reader.text(), "hi");
}

}  // namespace
}  // namespace mf::probe
