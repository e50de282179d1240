#include "net/endpoint.h"

#include <gtest/gtest.h>

namespace mf::net {
namespace {

Endpoint parseOk(const std::string& url) {
  Result<Endpoint> parsed = parseEndpointUrl(url);
  EXPECT_TRUE(parsed.isOk()) << url << ": " << parsed.status().message();
  return parsed.isOk() ? *parsed : Endpoint{};
}

Status parseError(const std::string& url) {
  Result<Endpoint> parsed = parseEndpointUrl(url);
  EXPECT_FALSE(parsed.isOk()) << url << " parsed unexpectedly";
  return parsed.isOk() ? Status() : parsed.status();
}

TEST(EndpointTest, SchemesAndDefaultPorts) {
  struct Case {
    const char* url;
    Protocol protocol;
    Security security;
    uint16_t port;
  } cases[] = {
      {"imap://mail.example.com", Protocol::kImap, Security::kStartTls, 143},
      {"imaps://mail.example.com", Protocol::kImap, Security::kTls, 993},
      {"pop3://mail.example.com", Protocol::kPop3, Security::kStartTls, 110},
      {"pop3s://mail.example.com", Protocol::kPop3, Security::kTls, 995},
      {"IMAPS://mail.example.com", Protocol::kImap, Security::kTls, 993},
  };
  for (const Case& c : cases) {
    Endpoint e = parseOk(c.url);
    EXPECT_EQ(e.protocol, c.protocol) << c.url;
    EXPECT_EQ(e.security, c.security) << c.url;
    EXPECT_EQ(e.port, c.port) << c.url;
    EXPECT_EQ(e.host, "mail.example.com") << c.url;
    EXPECT_EQ(e.user, "") << c.url;
  }
}

TEST(EndpointTest, UserPortAndTrailingSlash) {
  Endpoint e = parseOk("imaps://alice@mail.example.com:1993/");
  EXPECT_EQ(e.user, "alice");
  EXPECT_EQ(e.host, "mail.example.com");
  EXPECT_EQ(e.port, 1993);
  EXPECT_EQ(parseOk("imap://host:1").port, 1);
  EXPECT_EQ(parseOk("imap://host:65535").port, 65535);
  EXPECT_EQ(parseOk("pop3s://127.0.0.1").host, "127.0.0.1");
}

TEST(EndpointTest, PercentEncodedUser) {
  Endpoint e = parseOk("imaps://alice%40example.com@host");
  EXPECT_EQ(e.user, "alice@example.com");
  EXPECT_EQ(e.host, "host");
  EXPECT_EQ(parseOk("imaps://a%2fb%3Ac%25@host").user, "a/b:c%");
}

TEST(EndpointTest, RawAtInUserSplitsAtLastAt) {
  Endpoint e = parseOk("imaps://alice@example.com@mail.example.com:993");
  EXPECT_EQ(e.user, "alice@example.com");
  EXPECT_EQ(e.host, "mail.example.com");
  EXPECT_EQ(e.port, 993);
}

TEST(EndpointTest, Ipv6Literal) {
  Endpoint e = parseOk("imaps://[::1]:1993");
  EXPECT_EQ(e.host, "::1");
  EXPECT_EQ(e.port, 1993);
  EXPECT_EQ(e.hostPort(), "[::1]:1993");
  Endpoint d = parseOk("pop3://bob@[2001:db8::1]/");
  EXPECT_EQ(d.host, "2001:db8::1");
  EXPECT_EQ(d.port, 110);
  EXPECT_EQ(d.user, "bob");
}

TEST(EndpointTest, PasswordIsRefusedWithoutEchoingIt) {
  for (const char* url :
       {"imaps://alice:s3cr3tPa55@host", "imaps://alice@example.com:s3cr3tPa55@host",
        "imap://alice:s3cr3tPa55@host:143/", "imaps://:s3cr3tPa55@host"}) {
    Status status = parseError(url);
    EXPECT_EQ(status.code(), Errc::kUsage) << url;
    EXPECT_NE(status.message().find("password"), std::string::npos) << status.message();
    EXPECT_NE(status.message().find("environment variable"), std::string::npos);
    EXPECT_EQ(status.message().find("s3cr3tPa55"), std::string::npos) << status.message();
  }
}

TEST(EndpointTest, UsageErrorsGiveAnExample) {
  for (const char* url : {"http://host",        "host",
                          "imaps://",           "imaps://alice@",
                          "imaps://:993",       "imaps://host:0",
                          "imaps://host:65536", "imaps://host:99999999999999999999",
                          "imaps://host:12a",   "imaps://host:",
                          "imaps://::1",        "imaps://[::1",
                          "imaps://[::1]x",     "imaps://[nothost]",
                          "imaps://host/INBOX", "imaps://host?x",
                          "imaps://ho st",      "imaps://%zz@host",
                          "imaps://%4@host",    "imaps://@host",
                          "imaps://a%00b@host"}) {
    Status status = parseError(url);
    EXPECT_EQ(status.code(), Errc::kUsage) << url;
    EXPECT_NE(status.message().find("imaps://alice@mail.example.com"), std::string::npos)
        << url << ": " << status.message();
  }
}

TEST(EndpointTest, UnknownSchemeIsNamed) {
  Status status = parseError("https://host");
  EXPECT_NE(status.message().find("'https'"), std::string::npos) << status.message();
}

TEST(EndpointTest, ToUrlRoundTrips) {
  Endpoint e;
  e.protocol = Protocol::kImap;
  e.security = Security::kTls;
  e.host = "mail.example.com";
  e.port = 993;
  e.user = "alice@example.com";
  EXPECT_EQ(e.toUrl(), "imaps://alice%40example.com@mail.example.com:993");
  EXPECT_EQ(e.hostPort(), "mail.example.com:993");

  for (const char* url : {"imap://host:143", "pop3s://x%3Ay%2F%20z@[2001:db8::2]:995",
                          "pop3://bob@127.0.0.1:110", "imaps://a.b-c_d~e@host:993"}) {
    Endpoint parsed = parseOk(url);
    EXPECT_EQ(parsed.toUrl(), url);
    Endpoint again = parseOk(parsed.toUrl());
    EXPECT_EQ(again.user, parsed.user);
    EXPECT_EQ(again.host, parsed.host);
    EXPECT_EQ(again.port, parsed.port);
  }
}

TEST(EndpointTest, SecurityNames) {
  EXPECT_STREQ(securityName(Security::kTls), "tls");
  EXPECT_STREQ(securityName(Security::kStartTls), "starttls");
  EXPECT_STREQ(securityName(Security::kNone), "none");
}

}  // namespace
}  // namespace mf::net
