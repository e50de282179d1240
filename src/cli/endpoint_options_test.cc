// EndpointOptions::resolve(): the URL / preset rule of endpoint_options.h, login rules, POP3
// sources, and that options are checked before any password is read. Uses the shipped
// presets (presets/, compiled-in source directory) unless MAILFERRY_PRESETS_DIR is set.
#include "cli/endpoint_options.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

namespace mf::cli {
namespace {

using ::testing::HasSubstr;

class Resolve : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("MAILFERRY_PRESETS_DIR");
    setenv("MAILFERRY_FROM_PASSWORD", "from-pw", 1);
    setenv("MAILFERRY_TO_PASSWORD", "to-pw", 1);
  }
  void TearDown() override {
    unsetenv("MAILFERRY_FROM_PASSWORD");
    unsetenv("MAILFERRY_TO_PASSWORD");
  }
  EndpointOptions options;
};

TEST_F(Resolve, PresetAloneGivesTheServer) {
  options.from.preset = "Google";  // an alias, any case
  options.from.user = "alice@gmail.com";
  auto r = options.resolve("from");
  ASSERT_TRUE(r.isOk()) << r.status().message();
  const net::Endpoint& e = r->account.connect.endpoint;
  EXPECT_EQ(e.host, "imap.gmail.com");
  EXPECT_EQ(e.port, 993);
  EXPECT_EQ(e.security, net::Security::kTls);
  EXPECT_EQ(r->account.user, "alice@gmail.com");
  ASSERT_TRUE(r->preset.has_value());
  EXPECT_EQ(r->preset->name, "gmail");
  EXPECT_EQ(r->account.password.reveal(), "from-pw");
  EXPECT_TRUE(r->notices.empty());
}

TEST_F(Resolve, HostlessUrlGivesOnlyTheUser) {
  options.from.preset = "gmail";
  options.from.url = "imaps://alice@gmail.com@";
  auto r = options.resolve("from");
  ASSERT_TRUE(r.isOk()) << r.status().message();
  EXPECT_EQ(r->account.connect.endpoint.host, "imap.gmail.com");
  EXPECT_EQ(r->account.user, "alice@gmail.com");
  // The scheme of a hostless URL does not override the preset's security or port...
  options.from.url = "imap://alice%40gmail.com@/";
  r = options.resolve("from");
  ASSERT_TRUE(r.isOk()) << r.status().message();
  EXPECT_EQ(r->account.connect.endpoint.security, net::Security::kTls);
  EXPECT_EQ(r->account.connect.endpoint.port, 993);
  EXPECT_EQ(r->account.user, "alice@gmail.com");
  // ... but it must be the preset's protocol.
  options.from.url = "pop3s://alice@";
  r = options.resolve("from");
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), Errc::kUsage);
  EXPECT_THAT(r.status().message(), HasSubstr("the gmail preset is IMAP but the URL says POP3"));
}

TEST_F(Resolve, UrlWithHostWinsAndThePresetKeepsItsRules) {
  options.to.preset = "office365";
  options.to.url = "imap://bob@10.1.2.3:1143";
  auto r = options.resolve("to");
  ASSERT_TRUE(r.isOk()) << r.status().message();
  EXPECT_EQ(r->account.connect.endpoint.host, "10.1.2.3");
  EXPECT_EQ(r->account.connect.endpoint.port, 1143);
  EXPECT_EQ(r->account.connect.endpoint.security, net::Security::kStartTls);
  ASSERT_TRUE(r->preset.has_value());
  EXPECT_EQ(r->preset->folders.reserved.size(), 1u);
}

TEST_F(Resolve, LoginRuleMakesTheLoginName) {
  options.from.preset = "icloud";
  options.from.user = "alice@icloud.com";
  auto r = options.resolve("from");
  ASSERT_TRUE(r.isOk()) << r.status().message();
  EXPECT_EQ(r->account.user, "alice");
  EXPECT_EQ(r->account.connect.endpoint.user, "alice");
  ASSERT_EQ(r->notices.size(), 1u);
  EXPECT_THAT(r->notices[0], HasSubstr("logging in as 'alice'"));
}

TEST_F(Resolve, PresetWithoutHostNeedsOne) {
  options.from.preset = "kerio";
  options.from.user = "alice@example.com";
  auto r = options.resolve("from");
  ASSERT_FALSE(r.isOk());
  EXPECT_THAT(r.status().message(), HasSubstr("--from imaps://user@HOST"));
  options.from.url = "imaps://alice@mail.example.com";
  r = options.resolve("from");
  ASSERT_TRUE(r.isOk()) << r.status().message();
  EXPECT_EQ(r->account.connect.endpoint.host, "mail.example.com");
}

TEST_F(Resolve, MissingServerAndUnknownPreset) {
  auto r = options.resolve("from");
  ASSERT_FALSE(r.isOk());
  EXPECT_THAT(r.status().message(), HasSubstr("--from-preset NAME"));
  options.from.url = "imaps://alice@";
  r = options.resolve("from");
  ASSERT_FALSE(r.isOk());
  EXPECT_THAT(r.status().message(), HasSubstr("--from-preset NAME"));
  options.from.preset = "nosuchmail";
  r = options.resolve("from");
  ASSERT_FALSE(r.isOk());
  EXPECT_THAT(r.status().message(), HasSubstr("no preset named 'nosuchmail'; known: aol,"));
}

TEST_F(Resolve, Pop3Sources) {
  options.from.url = "pop3://alice@pop.example.com";
  auto r = options.resolve("from");
  ASSERT_TRUE(r.isOk()) << r.status().message();
  EXPECT_TRUE(r->isPop3());
  EXPECT_EQ(r->account.connect.endpoint.port, 110);
  EXPECT_EQ(r->account.connect.endpoint.security, net::Security::kStartTls);
  options.from.auth = "apop";
  EXPECT_TRUE(options.resolve("from").isOk());
  options.from.auth = "CRAM-MD5";
  r = options.resolve("from");
  ASSERT_FALSE(r.isOk());
  EXPECT_THAT(r.status().message(), HasSubstr("use PLAIN (AUTH PLAIN), APOP or USER"));
  options.from.auth.clear();
  options.from.oauthTokenFile = "/nonexistent";
  r = options.resolve("from");
  ASSERT_FALSE(r.isOk());
  EXPECT_THAT(r.status().message(), HasSubstr("not a token"));
  // POP3 cannot receive mail.
  options.to.url = "pop3s://bob@pop.example.com";
  r = options.resolve("to");
  ASSERT_FALSE(r.isOk());
  EXPECT_THAT(r.status().message(), HasSubstr("the destination must be an IMAP server"));
}

TEST_F(Resolve, OptionsAreCheckedBeforeSecretsAreRead) {
  options.from.url = "imaps://alice@old.example";
  options.from.passwordFile = "/nonexistent/password";
  auto r = options.resolve("from", /*secrets=*/false);
  ASSERT_TRUE(r.isOk()) << r.status().message();
  EXPECT_TRUE(r->account.password.reveal().empty());
  r = options.resolve("from");
  ASSERT_FALSE(r.isOk());
  EXPECT_THAT(r.status().message(), HasSubstr("cannot read password file"));
}

TEST_F(Resolve, ProbePorts) {
  EXPECT_TRUE(options.probePortList()->empty());
  options.probePorts = "10993, 10143";
  EXPECT_EQ(*options.probePortList(), (std::vector<uint16_t>{10993, 10143}));
  options.probePorts = "993,x";
  auto ports = options.probePortList();
  ASSERT_FALSE(ports.isOk());
  EXPECT_THAT(ports.status().message(), HasSubstr("--probe-ports"));
}

}  // namespace
}  // namespace mf::cli
