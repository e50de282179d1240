#include "pop3/wire/auth.h"

#include <gtest/gtest.h>

#include "base/base64.h"

namespace mf::pop3 {
namespace {

TEST(Pop3Auth, ApopDigestOfRfc1939Example) {
  // RFC 1939 section 7: timestamp <1896.697170952@dbc.mtview.ca.us>, secret "tanstaaf".
  auto digest = apopDigest("<1896.697170952@dbc.mtview.ca.us>", Secret("tanstaaf"));
  ASSERT_TRUE(digest.isOk()) << digest.status().message();
  EXPECT_EQ(*digest, "c4c9334bac560ecc979e58001b3e22fb");
}

TEST(Pop3Auth, ApopTimestampFromGreeting) {
  EXPECT_EQ(apopTimestamp("POP3 server ready <1896.697170952@dbc.mtview.ca.us>"),
            "<1896.697170952@dbc.mtview.ca.us>");
  EXPECT_EQ(apopTimestamp("<a@b> trailing text"), "<a@b>");
  EXPECT_EQ(apopTimestamp("Dovecot ready."), std::nullopt);
  EXPECT_EQ(apopTimestamp("ready <>"), std::nullopt);
  EXPECT_EQ(apopTimestamp("ready <no end"), std::nullopt);
  EXPECT_EQ(apopTimestamp("ready <with space> <ok.1@h>"), "<ok.1@h>");
  EXPECT_EQ(apopTimestamp("<<nested@h>"), "<nested@h>");
  EXPECT_EQ(apopTimestamp("<" + std::string(300, 'x') + ">"), std::nullopt);
}

TEST(Pop3Auth, SaslPlain) {
  std::string response = saslPlainResponse("", "alice", Secret("alice-pw"));
  EXPECT_EQ(base64Decode(response), std::string("\0alice\0alice-pw", 15));
  std::string proxied = saslPlainResponse("alice", "admin", Secret("admin-pw"));
  EXPECT_EQ(base64Decode(proxied), std::string("alice\0admin\0admin-pw", 20));
}

}  // namespace
}  // namespace mf::pop3
