// connectTcp(): resolution, then a non-blocking connect to each address in turn.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "net/net_util.h"
#include "net/resolve.h"
#include "net/socket_stream.h"
#include "net/stream.h"

namespace mf::net {
namespace {

using detail::errnoText;
using detail::formatDuration;

std::string addressText(const addrinfo& address) {
  char text[INET6_ADDRSTRLEN] = "?";
  if (address.ai_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(address.ai_addr)->sin_addr, text,
              sizeof text);
  } else if (address.ai_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(address.ai_addr)->sin6_addr, text,
              sizeof text);
  }
  return text;
}

// When several addresses fail differently, the most telling error wins: a refusal proves the
// host is there, a timeout that packets went somewhere; "unreachable" is often just IPv6
// missing on this machine.
int rank(Errc code) {
  switch (code) {
    case Errc::kRefused:
      return 4;
    case Errc::kTimeout:
      return 3;
    case Errc::kIo:
      return 2;
    default:
      return 1;
  }
}

Status connectError(int error, const std::string& host, const std::string& hostPort,
                    const addrinfo& address, Millis timeout) {
  // The address only helps when the user gave a name (which may have several addresses).
  std::string where = hostPort;
  if (host != addressText(address)) where += " (" + addressText(address) + ")";
  switch (error) {
    case ECONNREFUSED:
      return Status(Errc::kRefused, "connection refused by " + hostPort +
                                        ": nothing is listening there. Check the port and that "
                                        "the server is running.");
    case ETIMEDOUT:
      return Status(Errc::kTimeout, "no answer from " + hostPort + " within " +
                                        formatDuration(timeout) +
                                        " (connect timeout): check host, port and firewall");
    case ENETUNREACH:
    case EHOSTUNREACH:
    case ENETDOWN:
    case EHOSTDOWN:
    case EADDRNOTAVAIL:
    case EAFNOSUPPORT:
      return Status(Errc::kUnreachable, "cannot reach " + where + ": " + errnoText(error) +
                                            ". Check the host name, the network connection "
                                            "and any firewall or VPN.");
    default:
      return Status(Errc::kIo, "cannot connect to " + where + ": " + errnoText(error));
  }
}

// Connects one address within `budget`. Returns the socket, or -1 with `error` set to an
// errno value (ETIMEDOUT when the budget ran out).
int connectOne(const addrinfo& address, Millis budget, int& error) {
  int fd = ::socket(address.ai_family, address.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    address.ai_protocol);
  if (fd < 0) {
    error = errno;
    return -1;
  }
  error = 0;
  if (::connect(fd, address.ai_addr, address.ai_addrlen) != 0) {
    if (errno != EINPROGRESS && errno != EINTR) {
      error = errno;
    } else {
      Result<bool> ready = detail::waitFd(fd, POLLOUT, budget);
      if (!ready.isOk()) {
        error = EIO;
      } else if (!*ready) {
        error = ETIMEDOUT;
      } else {
        socklen_t length = sizeof error;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
      }
    }
  }
  if (error != 0) {
    ::close(fd);
    return -1;
  }
  // IMAP commands are small and latency-bound (pipelined tags, continuation waits): do not
  // let Nagle's algorithm hold them back.
  int on = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  return fd;
}

}  // namespace

Result<std::unique_ptr<Stream>> connectTcp(const std::string& hostInput, uint16_t port,
                                           const Timeouts& timeouts) {
  std::string host = detail::stripBrackets(hostInput);
  std::string hostPort = detail::formatHostPort(host, port);
  if (host.empty()) return Status(Errc::kUsage, "no host name given");
  // One deadline covers resolution and all connection attempts.
  Deadline deadline(timeouts.connect);
  MF_ASSIGN_OR_RETURN(detail::AddrInfoList addresses,
                      detail::resolveTcp(host, port, timeouts.connect));

  int remaining = 0;
  for (const addrinfo* a = addresses.get(); a != nullptr; a = a->ai_next) ++remaining;
  Status best;
  for (const addrinfo* a = addresses.get(); a != nullptr; a = a->ai_next, --remaining) {
    // Share the time left fairly among the addresses still to try, so one black-holed
    // address (typically IPv6) cannot use up the whole budget.
    Millis budget = deadline.remaining() / remaining;
    int error = 0;
    int fd = connectOne(*a, budget, error);
    if (fd >= 0) {
      return std::unique_ptr<Stream>(new detail::SocketStream(fd, host, port, timeouts.read));
    }
    Status failure = connectError(error, host, hostPort, *a, timeouts.connect);
    if (best.isOk() || rank(failure.code()) > rank(best.code())) best = failure;
    if (deadline.expired()) break;
  }
  if (best.isOk()) return Status(Errc::kDns, "host '" + host + "' has no usable address");
  return best;
}

}  // namespace mf::net
