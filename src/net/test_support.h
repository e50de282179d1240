// Test-only helpers for the net tests: self-signed certificates made at test time, a temp
// directory, and a one-connection loopback server (plain or TLS) running in a thread.
//
// Everything binds to 127.0.0.1 or ::1 only. Server sockets are blocking with a 10 s
// timeout, so a test that goes wrong fails instead of hanging. The server writes with
// MSG_NOSIGNAL (plain) or the net layer's socket BIO (TLS), so nothing here sets a SIGPIPE
// disposition that could hide a missing MSG_NOSIGNAL in the code under test.
#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace mf::net::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct CertSpec {
  std::string commonName = "127.0.0.1";
  std::vector<std::string> altNames = {"IP:127.0.0.1"};  // openssl syntax: "IP:..", "DNS:.."
  long validFromSeconds = -3600;                         // relative to now
  long validToSeconds = 2 * 86400;
};

// A self-signed certificate and its key, also written as PEM files to `dir`.
struct TestCert {
  std::shared_ptr<X509> cert;
  std::shared_ptr<EVP_PKEY> key;
  std::string certPath;
  std::string keyPath;
};
TestCert makeSelfSignedCert(const CertSpec& spec, const std::string& dir, const std::string& name);

class ServerConnection {
 public:
  ServerConnection(int fd, SSL* ssl) : fd_(fd), ssl_(ssl) {}
  // Up to `capacity` bytes; 0 on EOF, timeout or error.
  size_t read(char* buffer, size_t capacity);
  bool readExactly(std::string& out, size_t count);
  // Reads until EOF (or error); returns the byte count.
  size_t drain();
  bool write(std::string_view data);
  // Upgrades the plain connection (STARTTLS); false if the handshake fails.
  bool startTls(const TestCert& cert);
  // TLS: sends close_notify. Then (both modes) shuts the socket down for writing.
  void closeWrite();
  // Closes without close_notify (an "unclean" TLS close).
  void closeHard();
  SSL* ssl() const { return ssl_; }

 private:
  int fd_;
  SSL* ssl_;
};

class TestServer {
 public:
  // Listens on 127.0.0.1 (or ::1 with ipv6) on an ephemeral port.
  explicit TestServer(bool ipv6 = false);
  ~TestServer();  // waits for the connection handler to finish
  uint16_t port() const { return port_; }
  bool ok() const { return listenFd_ >= 0; }

  // Accepts one connection in a thread and runs `handler` on it; with `tls`, after a TLS
  // handshake (the handler is not run if the handshake fails).
  void serve(std::function<void(ServerConnection&)> handler, const TestCert* tls = nullptr);

 private:
  int listenFd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
};

// A loopback port where nothing listens (bound, not listening: no one else can take it).
class ClosedPort {
 public:
  ClosedPort();
  ~ClosedPort();
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

}  // namespace mf::net::testing
