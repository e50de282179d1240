// TLS streams against a loopback TLS server in a thread, with certificates made at test time.
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <chrono>
#include <string>
#include <thread>

#include "net/stream.h"
#include "net/test_support.h"

namespace mf::net {
namespace {

using testing::CertSpec;
using testing::ServerConnection;
using testing::TestCert;
using testing::TestServer;
using namespace std::chrono_literals;

constexpr Millis kHandshake{5000};

class TlsStreamTest : public ::testing::Test {
 protected:
  TlsStreamTest() : cert_(testing::makeSelfSignedCert(CertSpec{}, dir_.path(), "server")) {}

  std::unique_ptr<Stream> connect(uint16_t port, const std::string& host = "127.0.0.1") {
    Timeouts timeouts;
    timeouts.connect = Millis(3000);
    timeouts.read = Millis(5000);
    auto stream = connectTcp(host, port, timeouts);
    EXPECT_TRUE(stream.isOk()) << stream.status().message();
    return stream.isOk() ? std::move(stream).value() : nullptr;
  }

  TlsOptions trusting(const TestCert& cert) {
    TlsOptions options;
    options.caFile = cert.certPath;
    return options;
  }

  // Connects to a TLS server that runs `handler` and returns the startTls() result.
  Status handshakeWith(const TestCert& cert, const TlsOptions& options,
                       std::function<void(ServerConnection&)> handler = {}) {
    TestServer server;
    EXPECT_TRUE(server.ok());
    server.serve(
        handler ? std::move(handler) : [](ServerConnection& c) { c.drain(); }, &cert);
    auto stream = connect(server.port());
    if (!stream) return Status(Errc::kInternal, "no connection");
    return stream->startTls(options, kHandshake);
  }

  static std::string readExactly(Stream& stream, size_t count) {
    std::string out(count, '\0');
    size_t have = 0;
    while (have < count) {
      auto got = stream.read(out.data() + have, count - have);
      if (!got.isOk()) {
        ADD_FAILURE() << got.status().message();
        break;
      }
      have += *got;
    }
    out.resize(have);
    return out;
  }

  testing::TempDir dir_;
  TestCert cert_;
};

TEST_F(TlsStreamTest, SelfSignedIsRejectedWithRemedy) {
  Status status = handshakeWith(cert_, TlsOptions{});
  ASSERT_FALSE(status.isOk());
  EXPECT_EQ(status.code(), Errc::kTls);
  const std::string& m = status.message();
  EXPECT_TRUE(m.find("self-signed") != std::string::npos ||
              m.find("self signed") != std::string::npos)
      << m;
  EXPECT_NE(m.find("Use --ca-file FILE to trust this server's CA, or --insecure to skip "
                   "verification (not recommended)"),
            std::string::npos)
      << m;
}

TEST_F(TlsStreamTest, CaFileTrustsServerAndEchoesOneMegabyte) {
  constexpr size_t kSize = 1 << 20;
  TestServer server;
  ASSERT_TRUE(server.ok());
  server.serve(
      [](ServerConnection& c) {
        std::string data;
        if (c.readExactly(data, kSize)) c.write(data);
        c.closeWrite();
        c.drain();
      },
      &cert_);
  auto stream = connect(server.port());
  ASSERT_TRUE(stream);
  Status tls = stream->startTls(trusting(cert_), kHandshake);
  ASSERT_TRUE(tls.isOk()) << tls.message();
  EXPECT_TRUE(stream->isTls());
  EXPECT_EQ(stream->tlsDescription().rfind("TLSv1.3 TLS_", 0), 0u) << stream->tlsDescription();

  std::string payload(kSize, '\0');
  for (size_t i = 0; i < kSize; ++i) payload[i] = static_cast<char>(i * 7 + (i >> 11));
  ASSERT_TRUE(stream->writeAll(payload).isOk());
  EXPECT_EQ(readExactly(*stream, kSize), payload);
  EXPECT_EQ(stream->bytesWritten(), kSize);  // plaintext, not TLS record bytes
  EXPECT_EQ(stream->bytesRead(), kSize);

  char byte;
  auto eof = stream->read(&byte, 1);
  ASSERT_FALSE(eof.isOk());
  EXPECT_EQ(eof.status().code(), Errc::kClosed);
  EXPECT_NE(eof.status().message().find("connection closed by server"), std::string::npos);
}

TEST_F(TlsStreamTest, InsecureSkipsVerification) {
  TestServer server;
  ASSERT_TRUE(server.ok());
  server.serve(
      [](ServerConnection& c) {
        c.write("* OK ready\r\n");
        c.drain();
      },
      &cert_);
  auto stream = connect(server.port());
  ASSERT_TRUE(stream);
  TlsOptions options;
  options.verify = false;
  Status tls = stream->startTls(options, kHandshake);
  ASSERT_TRUE(tls.isOk()) << tls.message();
  EXPECT_EQ(readExactly(*stream, 12), "* OK ready\r\n");
}

TEST_F(TlsStreamTest, HostNameMismatchNamesTheCertificate) {
  TlsOptions options = trusting(cert_);
  options.serverName = "mail.example.test";
  Status status = handshakeWith(cert_, options);
  ASSERT_FALSE(status.isOk());
  EXPECT_EQ(status.code(), Errc::kTls);
  EXPECT_NE(status.message().find("hostname mismatch"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("the certificate is for 127.0.0.1"), std::string::npos)
      << status.message();
  EXPECT_NE(status.message().find("--insecure"), std::string::npos);
}

TEST_F(TlsStreamTest, IpAddressMismatch) {
  CertSpec spec;
  spec.commonName = "other";
  spec.altNames = {"IP:127.0.0.2", "DNS:other.example.test"};
  TestCert other = testing::makeSelfSignedCert(spec, dir_.path(), "other");
  Status status = handshakeWith(other, trusting(other));
  ASSERT_FALSE(status.isOk());
  EXPECT_EQ(status.code(), Errc::kTls);
  EXPECT_NE(status.message().find("mismatch"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("127.0.0.2, other.example.test"), std::string::npos)
      << status.message();
}

TEST_F(TlsStreamTest, MatchingDnsNameIsAccepted) {
  CertSpec spec;
  spec.commonName = "mail.example.test";
  spec.altNames = {"DNS:*.example.test"};
  TestCert named = testing::makeSelfSignedCert(spec, dir_.path(), "named");
  TlsOptions options = trusting(named);
  options.serverName = "mail.example.test";
  Status status = handshakeWith(named, options);
  EXPECT_TRUE(status.isOk()) << status.message();
}

TEST_F(TlsStreamTest, ExpiredCertificate) {
  CertSpec spec;
  spec.validFromSeconds = -3 * 86400;
  spec.validToSeconds = -86400;
  TestCert expired = testing::makeSelfSignedCert(spec, dir_.path(), "expired");
  Status status = handshakeWith(expired, trusting(expired));
  ASSERT_FALSE(status.isOk());
  EXPECT_EQ(status.code(), Errc::kTls);
  EXPECT_NE(status.message().find("certificate has expired"), std::string::npos)
      << status.message();
}

TEST_F(TlsStreamTest, UnreadableCaFileIsConfigError) {
  TlsOptions options;
  options.caFile = dir_.path() + "/missing-ca.pem";
  Status status = handshakeWith(cert_, options);
  ASSERT_FALSE(status.isOk());
  EXPECT_EQ(status.code(), Errc::kConfig);
  EXPECT_NE(status.message().find("'" + options.caFile + "'"), std::string::npos)
      << status.message();

  // A file that exists but holds no certificate.
  options.caFile = cert_.keyPath;
  status = handshakeWith(cert_, options);
  ASSERT_FALSE(status.isOk());
  EXPECT_EQ(status.code(), Errc::kConfig) << status.message();
  EXPECT_NE(status.message().find(cert_.keyPath), std::string::npos) << status.message();
}

TEST_F(TlsStreamTest, PlainTextServerGetsAHint) {
  TestServer server;
  ASSERT_TRUE(server.ok());
  server.serve([](ServerConnection& c) {
    c.write("* OK [CAPABILITY IMAP4rev1 STARTTLS] Dovecot ready.\r\n");
    c.drain();
  });
  auto stream = connect(server.port());
  ASSERT_TRUE(stream);
  Status status = stream->startTls(trusting(cert_), kHandshake);
  ASSERT_FALSE(status.isOk());
  EXPECT_EQ(status.code(), Errc::kTls);
  EXPECT_NE(status.message().find("the port may not speak TLS; try imap:// or pop3:// with "
                                  "STARTTLS"),
            std::string::npos)
      << status.message();
  // A failed handshake leaves nothing usable.
  char byte;
  EXPECT_EQ(stream->read(&byte, 1).status().code(), Errc::kClosed);
}

TEST_F(TlsStreamTest, ServerHangingUpDuringHandshake) {
  TestServer server;
  ASSERT_TRUE(server.ok());
  server.serve([](ServerConnection& c) {
    char buffer[512];
    c.read(buffer, sizeof buffer);  // the ClientHello
    c.closeHard();
  });
  auto stream = connect(server.port());
  ASSERT_TRUE(stream);
  Status status = stream->startTls(trusting(cert_), kHandshake);
  ASSERT_FALSE(status.isOk());
  EXPECT_EQ(status.code(), Errc::kTls);
  EXPECT_NE(status.message().find("may not speak TLS"), std::string::npos) << status.message();
}

TEST_F(TlsStreamTest, HandshakeTimeout) {
  TestServer server;
  ASSERT_TRUE(server.ok());
  server.serve([](ServerConnection& c) { c.drain(); });  // never answers the ClientHello
  auto stream = connect(server.port());
  ASSERT_TRUE(stream);
  auto start = std::chrono::steady_clock::now();
  Status status = stream->startTls(trusting(cert_), Millis(300));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  ASSERT_FALSE(status.isOk());
  EXPECT_EQ(status.code(), Errc::kTimeout) << status.message();
}

TEST_F(TlsStreamTest, StartTlsAfterPlainGreeting) {
  TestServer server;
  ASSERT_TRUE(server.ok());
  TestCert cert = cert_;
  server.serve([cert](ServerConnection& c) {
    c.write("* OK ready\r\n");
    std::string command;
    if (!c.readExactly(command, 12) || command != "a STARTTLS\r\n") return;
    c.write("a OK begin TLS\r\n");
    if (!c.startTls(cert)) return;
    c.write("* OK secure\r\n");
    c.drain();
  });
  auto stream = connect(server.port());
  ASSERT_TRUE(stream);
  EXPECT_EQ(readExactly(*stream, 12), "* OK ready\r\n");
  ASSERT_TRUE(stream->writeAll("a STARTTLS\r\n").isOk());
  EXPECT_EQ(readExactly(*stream, 16), "a OK begin TLS\r\n");
  Status tls = stream->startTls(trusting(cert_), kHandshake);
  ASSERT_TRUE(tls.isOk()) << tls.message();
  EXPECT_EQ(readExactly(*stream, 13), "* OK secure\r\n");
  EXPECT_EQ(stream->bytesRead(), 12u + 16u + 13u);
  EXPECT_EQ(stream->bytesWritten(), 12u);
}

TEST_F(TlsStreamTest, WaitReadableSeesBytesBufferedInsideTls) {
  TestServer server;
  ASSERT_TRUE(server.ok());
  server.serve(
      [](ServerConnection& c) {
        c.write(std::string(100, 'z'));
        c.drain();
      },
      &cert_);
  auto stream = connect(server.port());
  ASSERT_TRUE(stream);
  ASSERT_TRUE(stream->startTls(trusting(cert_), kHandshake).isOk());
  EXPECT_EQ(readExactly(*stream, 10), std::string(10, 'z'));
  // The other 90 bytes came in the same record: the socket is empty, TLS is not.
  auto ready = stream->waitReadable(Millis(0));
  ASSERT_TRUE(ready.isOk());
  EXPECT_TRUE(*ready);
  EXPECT_EQ(readExactly(*stream, 90), std::string(90, 'z'));
  // Nothing more: session tickets alone must not count as readable.
  ready = stream->waitReadable(Millis(100));
  ASSERT_TRUE(ready.isOk());
  EXPECT_FALSE(*ready);
}

TEST_F(TlsStreamTest, ReadTimeout) {
  TestServer server;
  ASSERT_TRUE(server.ok());
  server.serve([](ServerConnection& c) { c.drain(); }, &cert_);
  auto stream = connect(server.port());
  ASSERT_TRUE(stream);
  ASSERT_TRUE(stream->startTls(trusting(cert_), kHandshake).isOk());
  stream->setReadTimeout(300ms);
  char buffer[64];
  auto start = std::chrono::steady_clock::now();
  auto got = stream->read(buffer, sizeof buffer);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(got.isOk());
  EXPECT_EQ(got.status().code(), Errc::kTimeout) << got.status().message();
  EXPECT_GE(elapsed, 250ms);
  EXPECT_LT(elapsed, 3s);
}

TEST_F(TlsStreamTest, UncleanCloseIsClosed) {
  TestServer server;
  ASSERT_TRUE(server.ok());
  server.serve(
      [](ServerConnection& c) {
        c.write("* BYE\r\n");
        c.closeHard();
      },
      &cert_);
  auto stream = connect(server.port());
  ASSERT_TRUE(stream);
  ASSERT_TRUE(stream->startTls(trusting(cert_), kHandshake).isOk());
  EXPECT_EQ(readExactly(*stream, 7), "* BYE\r\n");
  char byte;
  auto got = stream->read(&byte, 1);
  ASSERT_FALSE(got.isOk());
  EXPECT_EQ(got.status().code(), Errc::kClosed) << got.status().message();
  // The error sticks.
  EXPECT_EQ(stream->read(&byte, 1).status().code(), Errc::kClosed);
}

TEST_F(TlsStreamTest, WritingToAClosedPeerFailsWithoutSigpipe) {
  TestServer server;
  ASSERT_TRUE(server.ok());
  server.serve([](ServerConnection& c) { c.closeHard(); }, &cert_);
  auto stream = connect(server.port());
  ASSERT_TRUE(stream);
  ASSERT_TRUE(stream->startTls(trusting(cert_), kHandshake).isOk());
  std::this_thread::sleep_for(100ms);
  std::string chunk(256 * 1024, 'x');
  Status status;
  for (int i = 0; i < 100 && status.isOk(); ++i) status = stream->writeAll(chunk);
  ASSERT_FALSE(status.isOk());  // and the process is still alive
  EXPECT_EQ(status.code(), Errc::kClosed) << status.message();
}

TEST_F(TlsStreamTest, SniIsSentForNamesOnly) {
  for (const std::string& name : {std::string("mail.example.test"), std::string()}) {
    std::string seen = "(not run)";
    {
      TestServer server;
      ASSERT_TRUE(server.ok());
      server.serve(
          [&seen](ServerConnection& c) {
            const char* sni = SSL_get_servername(c.ssl(), TLSEXT_NAMETYPE_host_name);
            seen = sni ? sni : "";
            c.drain();
          },
          &cert_);
      auto stream = connect(server.port());
      ASSERT_TRUE(stream);
      TlsOptions options;
      options.verify = false;
      options.serverName = name;  // empty: the host, 127.0.0.1, which must not go into SNI
      ASSERT_TRUE(stream->startTls(options, kHandshake).isOk());
    }  // closes the stream, then joins the server thread
    EXPECT_EQ(seen, name);
  }
}

// Throughput check, run by hand: net_test --gtest_also_run_disabled_tests
// --gtest_filter='*Throughput*'
TEST_F(TlsStreamTest, DISABLED_Throughput) {
  constexpr size_t kTotal = 256u << 20;
  constexpr size_t kChunk = 64u << 10;
  TestServer server;
  ASSERT_TRUE(server.ok());
  server.serve(
      [](ServerConnection& c) {
        std::string chunk(kChunk, 'm');
        for (size_t sent = 0; sent < kTotal; sent += kChunk) c.write(chunk);
        c.drain();
      },
      &cert_);
  auto stream = connect(server.port());
  ASSERT_TRUE(stream);
  ASSERT_TRUE(stream->startTls(trusting(cert_), kHandshake).isOk());
  std::vector<char> buffer(kChunk);
  auto start = std::chrono::steady_clock::now();
  size_t total = 0;
  while (total < kTotal) {
    auto got = stream->read(buffer.data(), buffer.size());
    ASSERT_TRUE(got.isOk()) << got.status().message();
    total += *got;
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%s: %.0f MB/s\n", stream->tlsDescription().c_str(), kTotal / 1e6 / seconds);
}

TEST_F(TlsStreamTest, DISABLED_WriteThroughput) {
  constexpr size_t kTotal = 256u << 20;
  constexpr size_t kChunk = 1u << 20;
  TestServer server;
  ASSERT_TRUE(server.ok());
  size_t received = 0;
  server.serve([&received](ServerConnection& c) { received = c.drain(); }, &cert_);
  auto stream = connect(server.port());
  ASSERT_TRUE(stream);
  ASSERT_TRUE(stream->startTls(trusting(cert_), kHandshake).isOk());
  std::string chunk(kChunk, 'w');
  auto start = std::chrono::steady_clock::now();
  for (size_t sent = 0; sent < kTotal; sent += kChunk) ASSERT_TRUE(stream->writeAll(chunk).isOk());
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%s: %.0f MB/s\n", stream->tlsDescription().c_str(), kTotal / 1e6 / seconds);
}

}  // namespace
}  // namespace mf::net
