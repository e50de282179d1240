// probeOne() against scripted loopback IMAP and POP3 servers (net/test_support.h): what each
// kind of server behaviour turns into. The Dovecot integration test (tests/integration/
// test_probe.py) covers real servers; these cover what Dovecot cannot be made to do.
#include <gtest/gtest.h>

#include <functional>
#include <map>

#include "net/test_support.h"
#include "probe/probe.h"

namespace mf::probe {
namespace {

using net::testing::CertSpec;
using net::testing::ServerConnection;
using net::testing::TestCert;
using net::testing::TestServer;

std::string readLine(ServerConnection& c) {
  std::string line;
  char ch;
  while (c.read(&ch, 1) == 1) {
    line += ch;
    if (ch == '\n') break;
  }
  return line;
}

// Answers IMAP commands from a table: command name -> reply lines (with "TAG" replaced by
// the command's tag). STARTTLS upgrades the connection after its reply when `cert` is set.
void imapScript(ServerConnection& c, const std::string& greeting,
                std::map<std::string, std::string> replies, const TestCert* cert,
                std::vector<std::string>* received = nullptr) {
  if (!greeting.empty() && !c.write(greeting)) return;
  for (;;) {
    std::string line = readLine(c);
    if (line.empty()) return;
    if (received != nullptr) received->push_back(line);
    size_t space = line.find(' ');
    std::string tag = line.substr(0, space);
    std::string command = line.substr(space + 1);
    while (!command.empty() && (command.back() == '\n' || command.back() == '\r')) {
      command.pop_back();
    }
    std::string name = command.substr(0, command.find(' '));
    auto it = replies.find(name);
    std::string reply = it != replies.end() ? it->second : "TAG BAD unknown\r\n";
    for (size_t at = reply.find("TAG"); at != std::string::npos; at = reply.find("TAG")) {
      reply.replace(at, 3, tag);
    }
    if (!c.write(reply)) return;
    if (name == "LOGOUT") return;
    if (name == "STARTTLS" && cert != nullptr && !c.startTls(*cert)) return;
  }
}

class ProbeServerTest : public ::testing::Test {
 protected:
  ProbeServerTest() : cert_(net::testing::makeSelfSignedCert(CertSpec{}, dir_.path(), "srv")) {
    options_.tls.caFile = cert_.certPath;
    options_.timeouts = Timeouts{Millis(3000), Millis(3000), Millis(3000)};
  }

  ProbeAttempt probe(TestServer& server, const std::string& scheme, net::Security security) {
    auto parsed = net::parseEndpointUrl(scheme + "://127.0.0.1:" + std::to_string(server.port()));
    EXPECT_TRUE(parsed.isOk());
    net::Endpoint endpoint = *parsed;
    endpoint.security = security;
    return probeOne(endpoint, options_);
  }

  net::testing::TempDir dir_;
  TestCert cert_;
  ProbeOptions options_;
  ProbeAttempt a_;
};

const std::map<std::string, std::string> kDovecotLike = {
    {"CAPABILITY",
     "* CAPABILITY IMAP4rev1 SASL-IR ID ENABLE IDLE LITERAL+ AUTH=PLAIN AUTH=LOGIN\r\n"
     "TAG OK Pre-login capabilities listed, post-login capabilities have more.\r\n"},
    {"ID", "* ID (\"name\" \"Dovecot\")\r\nTAG OK ID completed.\r\n"},
    {"LOGOUT", "* BYE Logging out\r\nTAG OK Logout completed.\r\n"},
};

TEST_F(ProbeServerTest, ImplicitTlsWithCapabilityInGreeting) {
  std::vector<std::string> received;
  {
    TestServer server;
    server.serve(
        [&received](ServerConnection& c) {
          imapScript(c,
                     "* OK [CAPABILITY IMAP4rev1 SASL-IR ID AUTH=PLAIN AUTH=CRAM-MD5] "
                     "Welcome.\r\n",
                     kDovecotLike, nullptr, &received);
        },
        &cert_);
    a_ = probe(server, "imaps", net::Security::kTls);
  }  // joins the server thread
  const ProbeAttempt& a = a_;
  // The capabilities came with the greeting, so no CAPABILITY; ID's fields are strings
  // (RFC 2971 section 4), never atoms.
  EXPECT_EQ(received,
            (std::vector<std::string>{"P1 ID (\"name\" \"mailferry\" \"version\" \"0.1.0\")\r\n",
                                      "P2 LOGOUT\r\n"}));
  EXPECT_EQ(a.outcome, ProbeAttempt::kOk) << a.detail;
  EXPECT_EQ(a.greeting, "Welcome.");
  EXPECT_EQ(a.mechanisms, (std::vector<std::string>{"PLAIN", "CRAM-MD5"}));
  EXPECT_TRUE(a.loginAllowed);
  EXPECT_NE(a.tls.find("TLS"), std::string::npos);
  ASSERT_EQ(a.serverId.size(), 1u);
  EXPECT_EQ(a.serverId[0].second, "Dovecot");
  EXPECT_EQ(detectServer(a.greeting, a.capabilities, a.serverId), ServerKind::kDovecot);
}

TEST_F(ProbeServerTest, StartTlsForgetsPreTlsCapabilities) {
  TestServer server;
  const TestCert* cert = &cert_;
  server.serve([cert](ServerConnection& c) {
    // Before TLS: LOGINDISABLED and no mechanisms; after TLS: AUTH=PLAIN.
    std::map<std::string, std::string> replies = kDovecotLike;
    replies["CAPABILITY"] = "* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\nTAG OK done\r\n";
    replies["STARTTLS"] = "TAG OK Begin TLS negotiation now.\r\n";
    if (!c.write("* OK ready\r\n")) return;
    // First CAPABILITY, then STARTTLS (upgrade), then the post-TLS CAPABILITY.
    std::string line = readLine(c);
    std::string tag = line.substr(0, line.find(' '));
    c.write("* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\n" + tag + " OK done\r\n");
    line = readLine(c);
    tag = line.substr(0, line.find(' '));
    c.write(tag + " OK Begin TLS negotiation now.\r\n");
    if (!c.startTls(*cert)) return;
    replies["CAPABILITY"] = "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\nTAG OK done\r\n";
    imapScript(c, "", replies, nullptr);
  });
  ProbeAttempt a = probe(server, "imap", net::Security::kStartTls);
  EXPECT_EQ(a.outcome, ProbeAttempt::kOk) << a.detail;
  EXPECT_EQ(a.capabilities, (std::vector<std::string>{"IMAP4rev1", "AUTH=PLAIN"}));
  EXPECT_EQ(a.mechanisms, (std::vector<std::string>{"PLAIN"}));
  EXPECT_TRUE(a.loginAllowed);
  EXPECT_FALSE(a.tls.empty());
}

TEST_F(ProbeServerTest, TlsOnAPlainPortIsATlsFailureWithTheReason) {
  TestServer server;
  server.serve([](ServerConnection& c) {
    c.write("* OK [CAPABILITY IMAP4rev1 STARTTLS] Dovecot ready.\r\n");
    c.drain();
  });
  ProbeAttempt a = probe(server, "imaps", net::Security::kTls);
  EXPECT_EQ(a.outcome, ProbeAttempt::kTlsFailure);
  EXPECT_NE(a.detail.find("TLS handshake"), std::string::npos) << a.detail;
  EXPECT_NE(a.detail.find("wrong version number"), std::string::npos) << a.detail;
}

TEST_F(ProbeServerTest, StartTlsNotOffered) {
  TestServer server;
  server.serve([](ServerConnection& c) {
    imapScript(c, "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n", kDovecotLike, nullptr);
  });
  ProbeAttempt a = probe(server, "imap", net::Security::kStartTls);
  EXPECT_EQ(a.outcome, ProbeAttempt::kTlsFailure);
  EXPECT_NE(a.detail.find("does not offer STARTTLS"), std::string::npos) << a.detail;
}

TEST_F(ProbeServerTest, DataInjectedAfterStartTlsIsRefused) {
  TestServer server;
  server.serve([](ServerConnection& c) {
    auto replies = kDovecotLike;
    replies["STARTTLS"] = "TAG OK Begin TLS\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n";
    imapScript(c, "* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n", replies, nullptr);
  });
  ProbeAttempt a = probe(server, "imap", net::Security::kStartTls);
  EXPECT_EQ(a.outcome, ProbeAttempt::kOther);
  EXPECT_NE(a.detail.find("injection"), std::string::npos) << a.detail;
}

TEST_F(ProbeServerTest, PlaintextWithLoginDisabledTakesNoLogin) {
  TestServer server;
  server.serve([](ServerConnection& c) {
    imapScript(c, "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\n", kDovecotLike,
               nullptr);
  });
  ProbeAttempt a = probe(server, "imap", net::Security::kNone);
  EXPECT_EQ(a.outcome, ProbeAttempt::kOk);
  EXPECT_FALSE(a.loginAllowed);
  EXPECT_NE(a.detail.find("LOGINDISABLED"), std::string::npos);
}

TEST_F(ProbeServerTest, NotImap) {
  for (std::string greeting : {"+OK Dovecot ready.\r\n", "220 mail.example.com ESMTP\r\n"}) {
    TestServer server;
    server.serve([greeting](ServerConnection& c) {
      c.write(greeting);
      c.drain();
    });
    ProbeAttempt a = probe(server, "imap", net::Security::kNone);
    EXPECT_EQ(a.outcome, ProbeAttempt::kNotThisProtocol) << greeting << a.detail;
    EXPECT_NE(a.detail.find("did not send an IMAP greeting"), std::string::npos) << a.detail;
  }
}

TEST_F(ProbeServerTest, ByeGreeting) {
  TestServer server;
  server.serve([](ServerConnection& c) {
    c.write("* BYE Too many connections from your IP\r\n");
    c.drain();
  });
  ProbeAttempt a = probe(server, "imap", net::Security::kStartTls);
  EXPECT_EQ(a.outcome, ProbeAttempt::kOther);
  EXPECT_NE(a.detail.find("Too many connections"), std::string::npos) << a.detail;
}

TEST_F(ProbeServerTest, SilentServerTimesOut) {
  options_.timeouts.greeting = Millis(300);
  TestServer server;
  server.serve([](ServerConnection& c) { c.drain(); });
  ProbeAttempt a = probe(server, "imap", net::Security::kStartTls);
  EXPECT_EQ(a.outcome, ProbeAttempt::kTimeout) << a.detail;
  EXPECT_NE(a.detail.find("may expect TLS first"), std::string::npos) << a.detail;
}

TEST_F(ProbeServerTest, ClosedPortIsRefused) {
  net::testing::ClosedPort closed;
  net::Endpoint endpoint;
  endpoint.host = "127.0.0.1";
  endpoint.port = closed.port();
  ProbeAttempt a = probeOne(endpoint, options_);
  EXPECT_EQ(a.outcome, ProbeAttempt::kRefused) << a.detail;
  EXPECT_GE(a.millis, 0.0);
}

TEST_F(ProbeServerTest, Pop3Stls) {
  TestServer server;
  const TestCert* cert = &cert_;
  server.serve([cert](ServerConnection& c) {
    c.write("+OK Dovecot ready.\r\n");
    EXPECT_EQ(readLine(c), "CAPA\r\n");
    c.write("+OK\r\nCAPA\r\nTOP\r\nSTLS\r\nUSER\r\nUIDL\r\n.\r\n");
    EXPECT_EQ(readLine(c), "STLS\r\n");
    c.write("+OK Begin TLS negotiation now.\r\n");
    if (!c.startTls(*cert)) return;
    EXPECT_EQ(readLine(c), "CAPA\r\n");
    c.write("+OK\r\nCAPA\r\nTOP\r\nUSER\r\nSASL PLAIN LOGIN\r\nIMPLEMENTATION Dovecot\r\n.\r\n");
    EXPECT_EQ(readLine(c), "QUIT\r\n");
    c.write("+OK Logging out.\r\n");
  });
  ProbeAttempt a = probe(server, "pop3", net::Security::kStartTls);
  EXPECT_EQ(a.outcome, ProbeAttempt::kOk) << a.detail;
  EXPECT_EQ(a.greeting, "Dovecot ready.");
  EXPECT_EQ(a.mechanisms, (std::vector<std::string>{"PLAIN", "LOGIN"}));
  EXPECT_TRUE(a.loginAllowed);
  EXPECT_FALSE(a.tls.empty());
  EXPECT_EQ(detectServer(a.greeting, a.capabilities, {}), ServerKind::kDovecot);
}

TEST_F(ProbeServerTest, Pop3WithoutCapaStillTakesUserPass) {
  TestServer server;
  server.serve([](ServerConnection& c) {
    c.write("+OK POP3 server ready\r\n");
    readLine(c);
    c.write("-ERR unknown command\r\n");
    readLine(c);
    c.write("+OK bye\r\n");
  });
  ProbeAttempt a = probe(server, "pop3", net::Security::kNone);
  EXPECT_EQ(a.outcome, ProbeAttempt::kOk) << a.detail;
  EXPECT_TRUE(a.loginAllowed);
  EXPECT_NE(a.detail.find("without encryption"), std::string::npos);
}

TEST_F(ProbeServerTest, Pop3ProbeOnImapPort) {
  TestServer server;
  server.serve([](ServerConnection& c) {
    c.write("* OK [CAPABILITY IMAP4rev1] Dovecot ready.\r\n");
    c.drain();
  });
  ProbeAttempt a = probe(server, "pop3", net::Security::kNone);
  EXPECT_EQ(a.outcome, ProbeAttempt::kNotThisProtocol) << a.detail;
  EXPECT_NE(a.detail.find("* OK [CAPABILITY"), std::string::npos) << a.detail;
}

}  // namespace
}  // namespace mf::probe
