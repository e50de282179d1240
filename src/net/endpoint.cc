#include "net/endpoint.h"

#include <cctype>
#include <string_view>

#include "base/ascii.h"
#include "base/checked_number.h"
#include "net/net_util.h"

namespace mf::net {
namespace {

constexpr const char* kExample =
    "e.g. imaps://alice@mail.example.com or pop3s://bob%40example.com@[2001:db8::1]:995";

Status usage(const std::string& problem) {
  return Status(Errc::kUsage, "invalid endpoint URL: " + problem + " (" + kExample + ")");
}

struct Scheme {
  const char* name;
  Protocol protocol;
  Security security;
  uint16_t defaultPort;
};
// Plain imap:// and pop3:// mean STARTTLS / STLS: a password never goes out in clear text
// unless the user explicitly allows it further up.
constexpr Scheme kSchemes[] = {
    {"imap", Protocol::kImap, Security::kStartTls, 143},
    {"imaps", Protocol::kImap, Security::kTls, 993},
    {"pop3", Protocol::kPop3, Security::kStartTls, 110},
    {"pop3s", Protocol::kPop3, Security::kTls, 995},
};

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986 section 2.1 percent-decoding.
Result<std::string> percentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    bool complete = i + 2 < text.size();
    int high = complete ? hexValue(text[i + 1]) : -1;
    int low = complete ? hexValue(text[i + 2]) : -1;
    if (high < 0 || low < 0) return usage("bad percent escape in the user name");
    char decoded = static_cast<char>(high * 16 + low);
    if (decoded == '\0') return usage("the user name contains %00");
    out += decoded;
    i += 2;
  }
  return out;
}

// RFC 3986 unreserved characters stay as they are; everything else in the user name is
// percent-encoded so the URL parses back to the same user.
std::string percentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    }
  }
  return out;
}

bool validHostName(std::string_view host) {
  for (char c : host) {
    auto u = static_cast<unsigned char>(c);
    if (!std::isalnum(u) && c != '-' && c != '.' && c != '_') return false;
  }
  return true;
}

}  // namespace

std::string Endpoint::hostPort() const {
  return detail::formatHostPort(host, port);
}

std::string Endpoint::toUrl() const {
  std::string url = protocol == Protocol::kImap ? "imap" : "pop3";
  if (security == Security::kTls) url += 's';
  url += "://";
  if (!user.empty()) url += percentEncode(user) + "@";
  url += hostPort();
  return url;
}

Result<Endpoint> parseEndpointUrl(const std::string& url) {
  // Error messages never quote the URL's user part: it could hold a password.
  size_t schemeEnd = url.find("://");
  if (schemeEnd == std::string::npos) {
    return usage("expected scheme://host, with scheme imap, imaps, pop3 or pop3s");
  }
  std::string_view schemeText(url.data(), schemeEnd);
  const Scheme* scheme = nullptr;
  for (const Scheme& candidate : kSchemes) {
    if (equalsIgnoreCase(schemeText, candidate.name)) scheme = &candidate;
  }
  if (scheme == nullptr) {
    bool printable = schemeText.size() <= 20 && validHostName(schemeText);
    return usage("unknown scheme" + (printable ? " '" + std::string(schemeText) + "'" : "") +
                 "; use imap, imaps, pop3 or pop3s");
  }

  std::string_view rest(url);
  rest.remove_prefix(schemeEnd + 3);
  Endpoint endpoint;
  endpoint.protocol = scheme->protocol;
  endpoint.security = scheme->security;
  endpoint.port = scheme->defaultPort;

  // The user may contain a raw '@' (alice@example.com@host): the last '@' ends it.
  size_t at = rest.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userInfo = rest.substr(0, at);
    rest.remove_prefix(at + 1);
    if (userInfo.find(':') != std::string_view::npos) {
      return Status(Errc::kUsage,
                    "invalid endpoint URL: it contains a password (user:password@host), which "
                    "would end up in shell history and process lists. Remove it from the URL and "
                    "give the password through the environment variable "
                    "(MAILFERRY_FROM_PASSWORD / MAILFERRY_TO_PASSWORD) or a password file "
                    "(--from-password-file / --to-password-file) instead.");
    }
    if (userInfo.empty()) return usage("empty user name before '@'");
    MF_ASSIGN_OR_RETURN(endpoint.user, percentDecode(userInfo));
  }

  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find_first_of("/?#") != std::string_view::npos) {
    return usage("a path, query or fragment after the host is not supported");
  }

  std::string_view portText;
  bool hasPort = false;
  if (!rest.empty() && rest.front() == '[') {
    size_t close = rest.find(']');
    if (close == std::string_view::npos) return usage("missing ']' after the IPv6 address");
    endpoint.host = std::string(rest.substr(1, close - 1));
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return usage("unexpected text after ']'");
      hasPort = true;
      portText = after.substr(1);
    }
    if (endpoint.host.find(':') == std::string::npos || !detail::isIpLiteral(endpoint.host)) {
      return usage("'" + endpoint.host + "' in brackets is not an IPv6 address");
    }
  } else {
    size_t colon = rest.find(':');
    if (colon != std::string_view::npos && rest.find(':', colon + 1) != std::string_view::npos) {
      return usage("an IPv6 address must be in brackets, as in imaps://[::1]:993");
    }
    endpoint.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) {
      hasPort = true;
      portText = rest.substr(colon + 1);
    }
    if (endpoint.host.empty()) return usage("missing host name");
    if (!validHostName(endpoint.host)) {
      return usage("'" + endpoint.host + "' is not a valid host name");
    }
  }
  if (hasPort) {
    std::optional<uint64_t> port = parseDecimal(portText, 65535);
    if (!port || *port == 0) {
      return usage("the port must be a number from 1 to 65535");
    }
    endpoint.port = static_cast<uint16_t>(*port);
  }
  return endpoint;
}

const char* securityName(Security security) {
  switch (security) {
    case Security::kTls:
      return "tls";
    case Security::kStartTls:
      return "starttls";
    case Security::kNone:
      return "none";
  }
  return "unknown";
}

}  // namespace mf::net
