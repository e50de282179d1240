// Plain TCP streams against loopback servers (127.0.0.1 / ::1 only).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "net/resolve.h"
#include "net/stream.h"
#include "net/test_support.h"

namespace mf::net {
namespace {

using testing::ClosedPort;
using testing::ServerConnection;
using testing::TestServer;
using namespace std::chrono_literals;

Timeouts shortTimeouts() {
  Timeouts t;
  t.connect = Millis(3000);
  t.read = Millis(5000);
  return t;
}

std::unique_ptr<Stream> connectOk(const std::string& host, uint16_t port) {
  auto stream = connectTcp(host, port, shortTimeouts());
  EXPECT_TRUE(stream.isOk()) << stream.status().message();
  return stream.isOk() ? std::move(stream).value() : nullptr;
}

std::string readExactly(Stream& stream, size_t count) {
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

TEST(TcpStreamTest, RefusedNamesHostPortAndRemedy) {
  ClosedPort closed;
  ASSERT_NE(closed.port(), 0);
  auto stream = connectTcp("127.0.0.1", closed.port(), shortTimeouts());
  ASSERT_FALSE(stream.isOk());
  EXPECT_EQ(stream.status().code(), Errc::kRefused);
  EXPECT_EQ(stream.status().message(),
            "connection refused by 127.0.0.1:" + std::to_string(closed.port()) +
                ": nothing is listening there. Check the port and that the server is running.");
}

// Neither test below sends a DNS query (the suite stays on loopback): ".invalid" is answered
// by resolveTcp itself, and glibc rejects a name with a space before asking a name server.
TEST(TcpStreamTest, UnresolvableHostIsDnsError) {
  auto stream = connectTcp("no-such-host.invalid", 993, shortTimeouts());
  ASSERT_FALSE(stream.isOk());
  EXPECT_EQ(stream.status().code(), Errc::kDns) << stream.status().message();
  EXPECT_NE(stream.status().errorClass(), ErrorClass::kRetry) << stream.status().message();
  EXPECT_NE(stream.status().message().find("cannot resolve host 'no-such-host.invalid': "),
            std::string::npos)
      << stream.status().message();
  EXPECT_NE(stream.status().message().find("RFC 6761"), std::string::npos);
  EXPECT_NE(stream.status().message().find("Check the host name."), std::string::npos);
}

TEST(TcpStreamTest, HostNameTheResolverRejectsIsDnsError) {
  auto stream = connectTcp("no such host", 993, shortTimeouts());
  ASSERT_FALSE(stream.isOk());
  EXPECT_EQ(stream.status().code(), Errc::kDns) << stream.status().message();
  // glibc's own reason ("Name or service not known"), not the RFC 6761 shortcut.
  EXPECT_NE(stream.status().message().find("cannot resolve host 'no such host': "),
            std::string::npos)
      << stream.status().message();
  EXPECT_EQ(stream.status().message().find("RFC 6761"), std::string::npos);
  EXPECT_NE(stream.status().message().find("Check the host name."), std::string::npos);
}

TEST(ResolveTest, ReservedInvalidNames) {
  using detail::isReservedInvalidName;
  EXPECT_TRUE(isReservedInvalidName("invalid"));
  EXPECT_TRUE(isReservedInvalidName("invalid."));
  EXPECT_TRUE(isReservedInvalidName("mail.example.INVALID"));
  EXPECT_TRUE(isReservedInvalidName("x.Invalid."));
  EXPECT_FALSE(isReservedInvalidName("myinvalid"));
  EXPECT_FALSE(isReservedInvalidName("invalid.example.com"));
  EXPECT_FALSE(isReservedInvalidName("mail.invalidhost"));
  EXPECT_FALSE(isReservedInvalidName(""));
  EXPECT_FALSE(isReservedInvalidName("."));
  EXPECT_FALSE(isReservedInvalidName("localhost"));
}

TEST(TcpStreamTest, ReadTimesOutWhenServerIsSilent) {
  TestServer server;
  ASSERT_TRUE(server.ok());
  server.serve([](ServerConnection& c) { c.drain(); });  // accepts, never sends
  auto stream = connectOk("127.0.0.1", server.port());
  ASSERT_TRUE(stream);
  stream->setReadTimeout(300ms);
  char buffer[64];
  auto start = std::chrono::steady_clock::now();
  auto got = stream->read(buffer, sizeof buffer);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(got.isOk());
  EXPECT_EQ(got.status().code(), Errc::kTimeout);
  EXPECT_NE(got.status().message().find("within 300 ms (read timeout)"), std::string::npos)
      << got.status().message();
  EXPECT_GE(elapsed, 250ms);
  EXPECT_LT(elapsed, 3s);
}

TEST(TcpStreamTest, EchoRoundTripCountsBytes) {
  TestServer server;
  ASSERT_TRUE(server.ok());
  constexpr size_t kSize = 1 << 20;
  server.serve([](ServerConnection& c) {
    std::string data;
    if (c.readExactly(data, kSize)) c.write(data);
  });
  auto stream = connectOk("127.0.0.1", server.port());
  ASSERT_TRUE(stream);
  EXPECT_FALSE(stream->isTls());
  EXPECT_EQ(stream->tlsDescription(), "");
  std::string payload(kSize, '\0');
  for (size_t i = 0; i < kSize; ++i) payload[i] = static_cast<char>(i * 31 + (i >> 9));
  ASSERT_TRUE(stream->writeAll(payload).isOk());
  EXPECT_EQ(readExactly(*stream, kSize), payload);
  EXPECT_EQ(stream->bytesWritten(), kSize);
  EXPECT_EQ(stream->bytesRead(), kSize);
}

TEST(TcpStreamTest, PeerCloseIsClosedAfterTheData) {
  TestServer server;
  ASSERT_TRUE(server.ok());
  server.serve([](ServerConnection& c) {
    c.write("* BYE\r\n");
    c.closeWrite();
    c.drain();
  });
  auto stream = connectOk("127.0.0.1", server.port());
  ASSERT_TRUE(stream);
  EXPECT_EQ(readExactly(*stream, 7), "* BYE\r\n");
  char buffer[16];
  auto got = stream->read(buffer, sizeof buffer);
  ASSERT_FALSE(got.isOk());
  EXPECT_EQ(got.status().code(), Errc::kClosed);
  EXPECT_NE(got.status().message().find("connection closed by server"), std::string::npos);
}

TEST(TcpStreamTest, WritingToAClosedPeerFailsWithoutSigpipe) {
  TestServer server;
  ASSERT_TRUE(server.ok());
  server.serve([](ServerConnection& c) { c.closeHard(); });
  auto stream = connectOk("127.0.0.1", server.port());
  ASSERT_TRUE(stream);
  std::this_thread::sleep_for(100ms);
  std::string chunk(256 * 1024, 'x');
  Status status;
  for (int i = 0; i < 100 && status.isOk(); ++i) status = stream->writeAll(chunk);
  ASSERT_FALSE(status.isOk());  // and the process is still alive
  EXPECT_EQ(status.code(), Errc::kClosed) << status.message();
}

TEST(TcpStreamTest, WaitReadable) {
  TestServer server;
  ASSERT_TRUE(server.ok());
  server.serve([](ServerConnection& c) {
    std::this_thread::sleep_for(200ms);
    c.write("hello");
    c.drain();
  });
  auto stream = connectOk("127.0.0.1", server.port());
  ASSERT_TRUE(stream);
  auto now = stream->waitReadable(Millis(0));
  ASSERT_TRUE(now.isOk());
  EXPECT_FALSE(*now);
  auto later = stream->waitReadable(Millis(5000));
  ASSERT_TRUE(later.isOk());
  EXPECT_TRUE(*later);
  EXPECT_EQ(readExactly(*stream, 5), "hello");
}

TEST(TcpStreamTest, ClosedStreamReportsClosed) {
  TestServer server;
  ASSERT_TRUE(server.ok());
  server.serve([](ServerConnection& c) { c.drain(); });
  auto stream = connectOk("127.0.0.1", server.port());
  ASSERT_TRUE(stream);
  stream->close();
  stream->close();  // idempotent
  char buffer[4];
  EXPECT_EQ(stream->read(buffer, sizeof buffer).status().code(), Errc::kClosed);
  EXPECT_EQ(stream->writeAll("x").code(), Errc::kClosed);
}

TEST(TcpStreamTest, ResolvesLocalhost) {
  // "localhost" may resolve to ::1 first: the refused IPv6 attempt must fall through to IPv4.
  TestServer server;
  ASSERT_TRUE(server.ok());
  server.serve([](ServerConnection& c) { c.write("ok"); });
  auto stream = connectOk("localhost", server.port());
  ASSERT_TRUE(stream);
  EXPECT_EQ(readExactly(*stream, 2), "ok");
}

TEST(TcpStreamTest, Ipv6Loopback) {
  TestServer server(/*ipv6=*/true);
  if (!server.ok()) GTEST_SKIP() << "no IPv6 loopback here";
  server.serve([](ServerConnection& c) { c.write("v6"); });
  auto stream = connectOk("::1", server.port());
  ASSERT_TRUE(stream);
  EXPECT_EQ(readExactly(*stream, 2), "v6");
  auto bracketed = connectTcp("[::1]", server.port(), shortTimeouts());
  // The server accepts only one connection; the second attempt must still connect (backlog).
  EXPECT_TRUE(bracketed.isOk()) << bracketed.status().message();
}

TEST(TcpStreamTest, ConnectTimeoutWhenSynsAreDropped) {
  // A listener whose accept queue is full drops new SYNs, which looks like a black hole.
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), length), 0);
  ASSERT_EQ(::listen(listener, 0), 0);
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length), 0);
  uint16_t port = ntohs(address.sin_port);

  Timeouts timeouts;
  timeouts.connect = Millis(400);
  std::vector<std::unique_ptr<Stream>> fillers;
  Status status;
  for (int i = 0; i < 8 && status.isOk(); ++i) {
    auto stream = connectTcp("127.0.0.1", port, timeouts);
    if (stream.isOk()) {
      fillers.push_back(std::move(stream).value());
    } else {
      status = stream.status();
    }
  }
  ::close(listener);
  ASSERT_FALSE(status.isOk()) << "accept queue never filled";
  EXPECT_EQ(status.code(), Errc::kTimeout);
  EXPECT_EQ(status.message(),
            "no answer from 127.0.0.1:" + std::to_string(port) +
                " within 400 ms (connect timeout): check host, port and firewall");
}

}  // namespace
}  // namespace mf::net
