// pop3::Connection against the scripted server: mechanism choice, errors with the server's
// words, TLS (implicit and STLS), refusal of clear-text passwords and of injected bytes.
#include "pop3/client/connection.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "base/base64.h"
#include "pop3/client/pop3_test_util.h"

namespace mf::pop3 {
namespace {

using testing::aliceCredentials;
using testing::connectOptions;
using testing::FakeConfig;
using testing::FakeSession;
using ::testing::HasSubstr;
using ::testing::Not;

std::unique_ptr<Connection> openOk(const ConnectOptions& options) {
  auto conn = Connection::open(options);
  EXPECT_TRUE(conn.isOk()) << conn.status().message();
  return conn.isOk() ? std::move(conn).value() : nullptr;
}

bool sent(const std::vector<std::string>& commands, std::string_view prefix) {
  return std::any_of(commands.begin(), commands.end(),
                     [&](const std::string& c) { return c.rfind(prefix, 0) == 0; });
}

TEST(Pop3Connection, UserPassWhenNothingBetterIsOffered) {
  FakeSession s(FakeConfig{});
  {
    auto conn = openOk(connectOptions(s.port()));
    ASSERT_TRUE(conn);
    EXPECT_TRUE(conn->capaKnown());
    EXPECT_TRUE(conn->hasCapability("uidl"));
    EXPECT_FALSE(conn->hasCapability("STLS"));
    EXPECT_EQ(conn->greeting(), "fake POP3 ready");
    ASSERT_TRUE(conn->login(aliceCredentials()).isOk());
    EXPECT_EQ(conn->loginDescription(), "USER/PASS as 'alice'");
  }
  auto commands = s.fake.commands();
  // Password with a space: sent as the rest of the line (RFC 1939 section 7).
  EXPECT_EQ(commands,
            (std::vector<std::string>{"CAPA", "USER alice", "PASS s3cret pass", "CAPA", "QUIT"}));
}

TEST(Pop3Connection, AuthPlainWhenAdvertised) {
  FakeConfig c;
  c.sasl = {"PLAIN", "LOGIN"};
  c.apopTimestamp = true;  // PLAIN still wins
  FakeSession s(c);
  {
    auto conn = openOk(connectOptions(s.port()));
    ASSERT_TRUE(conn);
    EXPECT_EQ(conn->saslMechanisms().count("PLAIN"), 1u);
    ASSERT_TRUE(conn->login(aliceCredentials()).isOk());
    EXPECT_EQ(conn->loginDescription(), "AUTH PLAIN as 'alice'");
  }
  auto commands = s.fake.commands();
  EXPECT_EQ(commands[1], "AUTH PLAIN " + base64Encode(std::string("\0alice\0s3cret pass", 18)));
  EXPECT_FALSE(sent(commands, "USER"));
}

TEST(Pop3Connection, AuthPlainWithoutInitialResponseWhenTheLineWouldBeTooLong) {
  FakeConfig c;
  c.sasl = {"PLAIN"};
  c.password = std::string(200, 'p');
  FakeSession s(c);
  {
    auto conn = openOk(connectOptions(s.port()));
    ASSERT_TRUE(conn);
    Status login = conn->login(aliceCredentials(std::string(200, 'p')));
    ASSERT_TRUE(login.isOk()) << login.message();
  }
  auto commands = s.fake.commands();
  EXPECT_EQ(commands[1], "AUTH PLAIN");
  EXPECT_EQ(commands[2].size(), base64Encode(std::string(207, 'x')).size());
}

TEST(Pop3Connection, AuthPlainWithAuthorizationIdentity) {
  FakeConfig c;
  c.sasl = {"PLAIN"};
  c.user = "admin";
  c.password = "admin-pw";
  c.authzid = "alice";
  FakeSession s(c);
  auto conn = openOk(connectOptions(s.port()));
  ASSERT_TRUE(conn);
  Credentials creds;
  creds.user = "admin";
  creds.password = Secret("admin-pw");
  creds.authzid = "alice";
  ASSERT_TRUE(conn->login(creds).isOk());
  EXPECT_EQ(conn->loginDescription(), "AUTH PLAIN as 'admin' for 'alice'");
}

TEST(Pop3Connection, ApopWhenTheGreetingHasATimestamp) {
  FakeConfig c;
  c.apopTimestamp = true;
  c.password = "tanstaaf";
  FakeSession s(c);
  {
    auto conn = openOk(connectOptions(s.port()));
    ASSERT_TRUE(conn);
    ASSERT_TRUE(conn->login(aliceCredentials("tanstaaf")).isOk());
    EXPECT_EQ(conn->loginDescription(), "APOP as 'alice'");
  }
  // RFC 1939 section 7's example digest: the password itself never went out.
  EXPECT_EQ(s.fake.commands()[1], "APOP alice c4c9334bac560ecc979e58001b3e22fb");
}

TEST(Pop3Connection, ForcedMechanism) {
  FakeConfig c;
  c.sasl = {"PLAIN"};
  c.apopTimestamp = true;
  FakeSession s(c);
  {
    auto options = connectOptions(s.port());
    options.forceMechanism = "user";
    auto conn = openOk(options);
    ASSERT_TRUE(conn);
    ASSERT_TRUE(conn->login(aliceCredentials()).isOk());
  }
  EXPECT_EQ(s.fake.commands()[1], "USER alice");
}

TEST(Pop3Connection, WrongPasswordIsAnAuthErrorWithTheServersWords) {
  for (const char* mech : {"USER", "PLAIN", "APOP"}) {
    FakeConfig c;
    c.sasl = {"PLAIN"};
    c.apopTimestamp = true;
    FakeSession s(c);
    auto options = connectOptions(s.port());
    options.forceMechanism = mech;
    auto conn = openOk(options);
    ASSERT_TRUE(conn);
    Status login = conn->login(aliceCredentials("wrong-password"));
    ASSERT_FALSE(login.isOk());
    EXPECT_EQ(login.code(), Errc::kAuth) << mech;
    EXPECT_EQ(login.errorClass(), ErrorClass::kConfiguration);
    std::string how = std::string(mech) == "USER"    ? "USER/PASS"
                      : std::string(mech) == "PLAIN" ? "AUTH PLAIN"
                                                     : "APOP";
    EXPECT_EQ(login.message(), "login as 'alice' at 127.0.0.1:" + std::to_string(s.port()) +
                                   " was refused (" + how +
                                   "): [AUTH] Authentication failed. Check the user name and "
                                   "password.");
    EXPECT_THAT(login.message(), Not(HasSubstr("wrong-password")));
  }
}

TEST(Pop3Connection, LockedMailboxIsRetryableNotAWrongPassword) {
  FakeConfig c;
  c.authError = "[IN-USE] Mailbox is locked by another POP3 session";
  c.password = "x";  // every login attempt fails with the IN-USE text
  FakeSession s(c);
  auto conn = openOk(connectOptions(s.port()));
  ASSERT_TRUE(conn);
  Status login = conn->login(aliceCredentials("s3cret pass"));
  ASSERT_FALSE(login.isOk());
  EXPECT_EQ(login.code(), Errc::kServerNo);
  EXPECT_EQ(login.errorClass(), ErrorClass::kRetry);
  EXPECT_THAT(login.message(), HasSubstr("is in use by another POP3 session ([IN-USE] Mailbox is "
                                         "locked by another POP3 session); try again"));
}

TEST(Pop3Connection, PasswordWithLineBreakIsRefusedBeforeSending) {
  FakeSession s(FakeConfig{});
  {
    auto conn = openOk(connectOptions(s.port()));
    ASSERT_TRUE(conn);
    Status login = conn->login(aliceCredentials("pw\r\nDELE 1"));
    ASSERT_FALSE(login.isOk());
    EXPECT_EQ(login.code(), Errc::kUsage);
    EXPECT_THAT(login.message(), Not(HasSubstr("pw")));
  }
  auto commands = s.fake.commands();
  EXPECT_FALSE(sent(commands, "PASS"));
  EXPECT_FALSE(sent(commands, "DELE"));
}

TEST(Pop3Connection, ClearTextIsRefusedWithoutStls) {
  FakeSession s(FakeConfig{});
  {
    auto options = connectOptions(s.port(), net::Security::kStartTls, /*allowPlaintext=*/false);
    auto conn = Connection::open(options);
    ASSERT_FALSE(conn.isOk());
    EXPECT_EQ(conn.status().code(), Errc::kPlaintextRefused);
    EXPECT_THAT(conn.status().message(), HasSubstr("does not offer STLS"));
    EXPECT_THAT(conn.status().message(), HasSubstr("--allow-plaintext"));
  }
  EXPECT_FALSE(sent(s.fake.commands(), "USER"));
  EXPECT_FALSE(sent(s.fake.commands(), "PASS"));
}

TEST(Pop3Connection, UnencryptedEndpointNeedsAllowPlaintext) {
  FakeSession s(FakeConfig{});
  auto options = connectOptions(s.port(), net::Security::kNone, /*allowPlaintext=*/false);
  auto conn = Connection::open(options);
  ASSERT_FALSE(conn.isOk());
  EXPECT_EQ(conn.status().code(), Errc::kPlaintextRefused);
  EXPECT_THAT(conn.status().message(), HasSubstr("unencrypted connection"));
}

class Pop3TlsTest : public ::testing::Test {
 protected:
  net::testing::TempDir dir_;
  net::testing::TestCert cert_ = net::testing::makeSelfSignedCert({}, dir_.path(), "server");

  ConnectOptions tlsOptions(uint16_t port, net::Security security) {
    ConnectOptions o = connectOptions(port, security, /*allowPlaintext=*/false);
    o.tls.caFile = cert_.certPath;
    return o;
  }
};

TEST_F(Pop3TlsTest, StlsUpgradesAndAsksCapaAgain) {
  FakeConfig c;
  c.cert = &cert_;
  FakeSession s(c);
  {
    auto conn = openOk(tlsOptions(s.port(), net::Security::kStartTls));
    ASSERT_TRUE(conn);
    EXPECT_THAT(conn->tlsDescription(), HasSubstr("TLS"));
    EXPECT_FALSE(conn->hasCapability("STLS"));  // the CAPA after TLS no longer offers it
    ASSERT_TRUE(conn->login(aliceCredentials()).isOk());
  }
  EXPECT_EQ(s.fake.commands(), (std::vector<std::string>{"CAPA", "STLS", "CAPA", "USER alice",
                                                         "PASS s3cret pass", "CAPA", "QUIT"}));
}

TEST_F(Pop3TlsTest, BytesInjectedBeforeTheHandshakeAreRefused) {
  FakeConfig c;
  c.cert = &cert_;
  c.injectAfterStls = "+OK injected\r\n";
  FakeSession s(c);
  auto conn = Connection::open(tlsOptions(s.port(), net::Security::kStartTls));
  ASSERT_FALSE(conn.isOk());
  EXPECT_EQ(conn.status().code(), Errc::kProtocol);
  EXPECT_THAT(conn.status().message(), HasSubstr("possible injection"));
}

TEST_F(Pop3TlsTest, ImplicitTls) {
  FakeSession s(FakeConfig{}, &cert_);
  auto conn = openOk(tlsOptions(s.port(), net::Security::kTls));
  ASSERT_TRUE(conn);
  EXPECT_THAT(conn->tlsDescription(), HasSubstr("TLS"));
  ASSERT_TRUE(conn->login(aliceCredentials()).isOk());
  EXPECT_EQ(conn->describe(), "pop3s://alice@127.0.0.1:" + std::to_string(s.port()));
}

TEST_F(Pop3TlsTest, UntrustedCertificateIsATlsError) {
  FakeSession s(FakeConfig{}, &cert_);
  auto options = tlsOptions(s.port(), net::Security::kTls);
  options.tls.caFile.clear();
  auto conn = Connection::open(options);
  ASSERT_FALSE(conn.isOk());
  EXPECT_EQ(conn.status().code(), Errc::kTls);
}

TEST(Pop3Connection, NotAPop3Server) {
  net::testing::TestServer server;
  server.serve([](net::testing::ServerConnection& conn) {
    conn.write("* OK [CAPABILITY IMAP4rev1] Dovecot ready.\r\n");
    conn.drain();
  });
  auto conn = Connection::open(connectOptions(server.port()));
  ASSERT_FALSE(conn.isOk());
  EXPECT_EQ(conn.status().code(), Errc::kProtocol);
  EXPECT_THAT(conn.status().message(), HasSubstr("did not send a POP3 greeting; is this a POP3 "
                                                 "port?"));
}

TEST(Pop3Connection, ServerRefusingAtOnce) {
  net::testing::TestServer server;
  server.serve([](net::testing::ServerConnection& conn) {
    conn.write("-ERR [SYS/TEMP] Too many connections\r\n");
    conn.drain();
  });
  auto conn = Connection::open(connectOptions(server.port()));
  ASSERT_FALSE(conn.isOk());
  EXPECT_EQ(conn.status().code(), Errc::kClosed);
  EXPECT_THAT(conn.status().message(),
              HasSubstr("refused the session at once: [SYS/TEMP] Too many connections"));
}

TEST(Pop3Connection, GarbageMidSessionBreaksTheConnectionAndNoQuitFollows) {
  net::testing::TestServer server;
  std::string received;
  server.serve([&](net::testing::ServerConnection& conn) {
    conn.write("+OK hi\r\n");
    char buf[512];
    size_t n = conn.read(buf, sizeof buf);  // CAPA
    received.append(buf, n);
    conn.write("+OK\r\nUIDL\r\n.\r\n");
    n = conn.read(buf, sizeof buf);  // STAT
    received.append(buf, n);
    conn.write("* garbage\r\n");
    received.append(buf, conn.read(buf, sizeof buf));  // EOF: no QUIT
  });
  {
    auto conn = openOk(connectOptions(server.port()));
    ASSERT_TRUE(conn);
    auto stat = conn->simple(Command("STAT"));
    ASSERT_FALSE(stat.isOk());
    EXPECT_EQ(stat.status().code(), Errc::kProtocol);
    EXPECT_TRUE(conn->broken());
  }
  EXPECT_EQ(received, "CAPA\r\nSTAT\r\n");
}

}  // namespace
}  // namespace mf::pop3
