// Endpoint URLs: imap://, imaps://, pop3://, pop3s://[user@]host[:port][/].
//
// parseEndpointUrl() is pure (no I/O). The user part is percent-decoded; a password in the
// URL is refused (Errc::kUsage) because URLs end up in shell history and process lists.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"

namespace mf::net {

enum class Protocol { kImap, kPop3 };
enum class Security { kTls, kStartTls, kNone };

struct Endpoint {
  Protocol protocol = Protocol::kImap;
  Security security = Security::kTls;
  std::string host;
  uint16_t port = 0;
  std::string user;  // may be empty (then it must come from elsewhere)

  // "imaps://alice@host:993" (never contains a password).
  std::string toUrl() const;
  // "host:port".
  std::string hostPort() const;
};

// Default ports: imap 143 (STARTTLS), imaps 993, pop3 110 (STLS), pop3s 995.
Result<Endpoint> parseEndpointUrl(const std::string& url);

const char* securityName(Security security);

}  // namespace mf::net
