#include "net/net_util.h"

#include <arpa/inet.h>
#include <poll.h>

#include <cerrno>
#include <cstring>

namespace mf::net::detail {

Result<bool> waitFd(int fd, short events, Millis timeout) {
  Deadline deadline(timeout);
  for (;;) {
    pollfd entry{fd, events, 0};
    int rc = ::poll(&entry, 1, static_cast<int>(deadline.remaining().count()));
    if (rc > 0) return true;
    if (rc == 0) return false;
    if (errno != EINTR) return Status(Errc::kIo, "poll() failed: " + errnoText(errno));
  }
}

std::string formatHostPort(std::string_view host, uint16_t port) {
  std::string out;
  bool ipv6 = host.find(':') != std::string_view::npos;
  if (ipv6) out += '[';
  out += host;
  if (ipv6) out += ']';
  out += ':';
  out += std::to_string(port);
  return out;
}

std::string formatDuration(Millis duration) {
  auto ms = duration.count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  return std::to_string(ms) + " ms";
}

std::string errnoText(int error) {
  char buffer[256];
  // GNU strerror_r returns a pointer that may or may not point into `buffer`.
  return std::string(strerror_r(error, buffer, sizeof buffer));
}

bool isIpLiteral(const std::string& host) {
  unsigned char address[16];
  return inet_pton(AF_INET, host.c_str(), address) == 1 ||
         inet_pton(AF_INET6, host.c_str(), address) == 1;
}

std::string stripBrackets(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host.remove_prefix(1);
    host.remove_suffix(1);
  }
  return std::string(host);
}

Status readTimeoutError(const std::string& hostPort, Millis timeout) {
  return Status(Errc::kTimeout, "no data from " + hostPort + " within " + formatDuration(timeout) +
                                    " (read timeout): the server or the network stalled");
}

Status writeTimeoutError(const std::string& hostPort, Millis timeout) {
  return Status(Errc::kTimeout, "could not send to " + hostPort + " for " +
                                    formatDuration(timeout) +
                                    " (read timeout): the server stopped accepting data");
}

Status closedByPeerError(const std::string& hostPort, std::string_view detail) {
  std::string message = "connection closed by server " + hostPort;
  if (!detail.empty()) {
    message += " (";
    message += detail;
    message += ')';
  }
  return Status(Errc::kClosed, std::move(message));
}

Status socketError(int error, const char* doing, const std::string& hostPort) {
  if (error == ECONNRESET || error == EPIPE) {
    return closedByPeerError(hostPort, error == ECONNRESET ? "connection reset" : "broken pipe");
  }
  return Status(Errc::kIo,
                std::string("error ") + doing + " " + hostPort + ": " + errnoText(error));
}

}  // namespace mf::net::detail
