// Internal helpers shared by the net layer (not part of its public API).
//
// Contract: all functions are thread-safe and never throw.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/deadline.h"
#include "base/status.h"

namespace mf::net::detail {

// Waits until `fd` reports `events` (POLLIN / POLLOUT) or an error / hang-up condition, for at
// most `timeout`. Returns true when ready (the next recv/send then reports any error itself),
// false when the timeout passed. EINTR restarts the wait with the time left.
Result<bool> waitFd(int fd, short events, Millis timeout);

// "host:port", with brackets around an IPv6 literal ("[::1]:993").
std::string formatHostPort(std::string_view host, uint16_t port);

// "15 s" for whole seconds, "250 ms" otherwise: timeouts appear in user-facing messages.
std::string formatDuration(Millis duration);

// strerror() text for an errno value (thread-safe).
std::string errnoText(int error);

// True for an IPv4 or IPv6 address literal (without brackets).
bool isIpLiteral(const std::string& host);

// "[::1]" -> "::1"; anything else unchanged.
std::string stripBrackets(std::string_view host);

// The messages shared by the plain and TLS code paths, so both read the same.
Status readTimeoutError(const std::string& hostPort, Millis timeout);
Status writeTimeoutError(const std::string& hostPort, Millis timeout);
// Orderly EOF; `detail` (may be empty) is appended in parentheses.
Status closedByPeerError(const std::string& hostPort, std::string_view detail = {});
// A failed recv()/send(): ECONNRESET and EPIPE are kClosed, anything else kIo.
// `doing` is e.g. "reading from".
Status socketError(int error, const char* doing, const std::string& hostPort);

}  // namespace mf::net::detail
