// Internal: the Stream implementation over a connected TCP socket, plain or TLS.
//
// The socket is non-blocking for its whole life, in both modes: one code path, reads try
// recv() first and only poll() when nothing is there (one syscall per read during bulk
// transfers instead of two), and every wait has its deadline. Owns the socket.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "net/stream.h"
#include "net/tls_session.h"

namespace mf::net::detail {

class SocketStream final : public Stream {
 public:
  // Takes ownership of `fd`, a connected non-blocking TCP socket to host:port.
  SocketStream(int fd, std::string host, uint16_t port, Millis readTimeout);
  ~SocketStream() override;
  SocketStream(const SocketStream&) = delete;
  SocketStream& operator=(const SocketStream&) = delete;

  Result<size_t> read(char* buffer, size_t capacity) override;
  Status writeAll(std::string_view data) override;
  Result<bool> waitReadable(Millis wait) override;
  Status startTls(const TlsOptions& options, Millis handshakeTimeout) override;
  bool isTls() const override { return tls_ != nullptr; }
  std::string tlsDescription() const override;
  void setReadTimeout(Millis timeout) override { readTimeout_ = timeout; }
  void close() override;
  uint64_t bytesRead() const override { return bytesRead_; }
  uint64_t bytesWritten() const override { return bytesWritten_; }

 private:
  Status notOpen() const;

  int fd_;
  std::string host_;
  uint16_t port_;
  std::string hostPort_;
  Millis readTimeout_;
  std::unique_ptr<TlsSession> tls_;
  uint64_t bytesRead_ = 0;
  uint64_t bytesWritten_ = 0;
};

}  // namespace mf::net::detail
