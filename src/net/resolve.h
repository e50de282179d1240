// Internal: host name resolution with a deadline.
//
// getaddrinfo() has no timeout of its own (glibc retries each name server for 5 s and more),
// but every wait in mailferry has one (DESIGN.md practice 10). So a name lookup runs on a
// short-lived helper thread, joined when it answers in time; if the deadline passes first,
// the caller returns kTimeout and the abandoned (detached) thread frees its result when the
// lookup eventually ends. Address literals are converted in the calling thread, and names
// under the reserved top-level "invalid" (RFC 6761) fail there without a query.
//
// Thread-safe; never throws.
#pragma once

#include <netdb.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/deadline.h"
#include "base/status.h"

namespace mf::net::detail {

struct AddrInfoDeleter {
  void operator()(addrinfo* list) const { freeaddrinfo(list); }
};
using AddrInfoList = std::unique_ptr<addrinfo, AddrInfoDeleter>;

// Resolves `host` (name or IPv4/IPv6 literal, AF_UNSPEC) for a TCP connection to `port`.
// Errors: kDns (name does not resolve; class kRetry when the failure is temporary),
// kTimeout (no answer within `timeout`).
Result<AddrInfoList> resolveTcp(const std::string& host, uint16_t port, Millis timeout);

// `host` is "invalid" or a name under it (ASCII case ignored, a trailing dot allowed): such
// names never exist (RFC 6761 section 6.4), so resolveTcp answers kDns without a query.
bool isReservedInvalidName(std::string_view host);

}  // namespace mf::net::detail
