#include "net/socket_stream.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <utility>

#include "net/net_util.h"

namespace mf::net::detail {

SocketStream::SocketStream(int fd, std::string host, uint16_t port, Millis readTimeout)
    : fd_(fd),
      host_(std::move(host)),
      port_(port),
      hostPort_(formatHostPort(host_, port)),
      readTimeout_(readTimeout) {}

SocketStream::~SocketStream() {
  close();
}

Status SocketStream::notOpen() const {
  return Status(Errc::kClosed, "connection to " + hostPort_ + " is already closed");
}

Result<size_t> SocketStream::read(char* buffer, size_t capacity) {
  if (fd_ < 0) return notOpen();
  if (capacity == 0) return Status(Errc::kInternal, "Stream::read() called with an empty buffer");
  if (tls_) {
    Result<size_t> got = tls_->read(buffer, capacity, readTimeout_);
    if (got.isOk()) bytesRead_ += *got;
    return got;
  }
  std::optional<Deadline> deadline;  // only started when we actually have to wait
  for (;;) {
    ssize_t n = ::recv(fd_, buffer, capacity, 0);
    if (n > 0) {
      bytesRead_ += static_cast<uint64_t>(n);
      return static_cast<size_t>(n);
    }
    if (n == 0) return closedByPeerError(hostPort_);
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK)
      return socketError(errno, "reading from", hostPort_);
    if (!deadline) deadline.emplace(readTimeout_);
    MF_ASSIGN_OR_RETURN(bool ready, waitFd(fd_, POLLIN, deadline->remaining()));
    if (!ready) return readTimeoutError(hostPort_, readTimeout_);
  }
}

Status SocketStream::writeAll(std::string_view data) {
  if (fd_ < 0) return notOpen();
  if (tls_) return tls_->writeAll(data, readTimeout_, bytesWritten_);
  while (!data.empty()) {
    // MSG_NOSIGNAL: a peer that closed gives EPIPE here, not a process-killing SIGPIPE.
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytesWritten_ += static_cast<uint64_t>(n);
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      return socketError(errno, "writing to", hostPort_);
    }
    // The timeout measures time without progress, so each wait gets all of it.
    MF_ASSIGN_OR_RETURN(bool ready, waitFd(fd_, POLLOUT, readTimeout_));
    if (!ready) return writeTimeoutError(hostPort_, readTimeout_);
  }
  return Status::ok();
}

Result<bool> SocketStream::waitReadable(Millis wait) {
  if (fd_ < 0) return notOpen();
  if (tls_) return tls_->waitReadable(wait);
  return waitFd(fd_, POLLIN, wait);
}

Status SocketStream::startTls(const TlsOptions& options, Millis handshakeTimeout) {
  if (fd_ < 0) return notOpen();
  if (tls_) return Status(Errc::kInternal, "startTls() on a stream that already uses TLS");
  Result<std::unique_ptr<TlsSession>> session =
      TlsSession::handshake(fd_, host_, port_, options, handshakeTimeout);
  if (!session.isOk()) {
    // Half a handshake leaves the connection in no usable state, plain or TLS.
    close();
    return session.status();
  }
  tls_ = std::move(session).value();
  return Status::ok();
}

std::string SocketStream::tlsDescription() const {
  return tls_ ? tls_->description() : "";
}

void SocketStream::close() {
  if (fd_ < 0) return;
  if (tls_) {
    tls_->shutdown();
    tls_.reset();
  }
  ::close(fd_);
  fd_ = -1;
}

}  // namespace mf::net::detail
