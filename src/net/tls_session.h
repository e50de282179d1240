// Internal: one TLS client session on a connected non-blocking socket.
//
// Contract:
// - handshake() runs SSL_connect within `timeout` (non-blocking socket + poll) and checks the
//   certificate and host name per TlsOptions (see stream.h). Errors are kTls with the
//   certificate problem and a remedy, kConfig for an unusable CA file, kTimeout.
// - read()/writeAll()/waitReadable() have the semantics of the Stream methods of the same
//   name; the socket stays non-blocking and every wait is a poll() with a deadline.
// - After a fatal error (anything but a timeout) every later call returns that same error:
//   OpenSSL's own error for a reused broken session would be far less helpful.
// - The session does not own the socket. One thread at a time.
#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/deadline.h"
#include "base/status.h"
#include "net/stream.h"

namespace mf::net::detail {

class TlsSession {
 public:
  static Result<std::unique_ptr<TlsSession>> handshake(int fd, const std::string& host,
                                                       uint16_t port, const TlsOptions& options,
                                                       Millis timeout);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  Result<size_t> read(char* buffer, size_t capacity, Millis timeout);
  // Adds the plaintext bytes accepted by TLS to `written`, also when failing part-way.
  Status writeAll(std::string_view data, Millis timeout, uint64_t& written);
  Result<bool> waitReadable(Millis wait);
  std::string description() const;
  // Best effort: sends close_notify if the session is healthy, never waits.
  void shutdown();

 private:
  TlsSession(int fd, SSL* ssl, std::string hostPort);
  Status handshakeFailure(int sslError, int savedErrno, const TlsOptions& options,
                          const std::string& name);
  // Pushes the write buffer out to the socket (see newBufferedSocketBio).
  Status flush(Millis timeout);
  // Maps an SSL_get_error() result after read/write to a Status and remembers it.
  Status ioFailure(int sslError, int savedErrno, const char* doing);

  int fd_;
  SSL* ssl_;
  std::string hostPort_;
  Status fatal_;  // ok until a non-recoverable error
};

}  // namespace mf::net::detail
