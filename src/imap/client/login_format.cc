#include "imap/client/login_format.h"

#include <optional>

#include "base/ascii.h"

namespace mf::imap {
namespace {

constexpr std::string_view kExchangePattern = "{domain}\\{admin}\\{user}";
constexpr std::string_view kExchangeSlashPattern = "{domain}/{admin}/{user}";
constexpr std::string_view kDovecotPattern = "{user}*{admin}";
constexpr std::string_view kMirapointPattern = "#{email}#{admin}#";

enum class Placeholder { kNone, kUser, kAdmin, kDomain, kEmail };

struct Part {
  Placeholder placeholder = Placeholder::kNone;
  std::string literal;  // when placeholder == kNone
};

Placeholder placeholderNamed(std::string_view name) {
  if (name == "user") return Placeholder::kUser;
  if (name == "admin") return Placeholder::kAdmin;
  if (name == "domain") return Placeholder::kDomain;
  if (name == "email") return Placeholder::kEmail;
  return Placeholder::kNone;
}

// Splits a template into literal text and placeholders. nullopt (with `error`) on an
// unknown or unterminated placeholder.
std::optional<std::vector<Part>> splitTemplate(std::string_view text, std::string* error) {
  std::vector<Part> parts;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find('{', pos);
    if (open == std::string_view::npos) open = text.size();
    if (open > pos)
      parts.push_back({Placeholder::kNone, std::string(text.substr(pos, open - pos))});
    if (open == text.size()) break;
    size_t close = text.find('}', open);
    if (close == std::string_view::npos) {
      *error = "unterminated '{' at position " + std::to_string(open + 1);
      return std::nullopt;
    }
    std::string_view name = text.substr(open + 1, close - open - 1);
    Placeholder p = placeholderNamed(name);
    if (p == Placeholder::kNone) {
      *error = "unknown placeholder '{" + std::string(name) + "}'";
      return std::nullopt;
    }
    parts.push_back({p, {}});
    pos = close + 1;
  }
  return parts;
}

// Does `s` match the parts, each placeholder standing for one or more characters?
bool matches(const std::vector<Part>& parts, size_t index, std::string_view s) {
  if (index == parts.size()) return s.empty();
  const Part& part = parts[index];
  if (part.placeholder == Placeholder::kNone) {
    if (s.substr(0, part.literal.size()) != part.literal) return false;
    return matches(parts, index + 1, s.substr(part.literal.size()));
  }
  for (size_t n = 1; n <= s.size(); ++n) {
    if (matches(parts, index + 1, s.substr(n))) return true;
  }
  return false;
}

bool patternMatches(std::string_view pattern, std::string_view user) {
  std::string error;
  auto parts = splitTemplate(pattern, &error);
  if (!parts) return false;
  bool hasLiteral = false;
  for (const auto& p : *parts) hasLiteral |= p.placeholder == Placeholder::kNone;
  return hasLiteral && matches(*parts, 0, user);
}

}  // namespace

std::string LoginFormat::describe() const {
  switch (kind) {
    case LoginFormatKind::kAuto:
      return "auto";
    case LoginFormatKind::kExchange:
      return "exchange";
    case LoginFormatKind::kExchangeSlash:
      return "exchange-slash";
    case LoginFormatKind::kDovecot:
      return "dovecot";
    case LoginFormatKind::kMirapoint:
      return "mirapoint";
    case LoginFormatKind::kSasl:
      return "sasl";
    case LoginFormatKind::kTemplate:
      return "template '" + pattern + "'";
  }
  return "?";
}

Result<LoginFormat> parseLoginFormat(std::string_view text) {
  LoginFormat f;
  if (text.empty() || equalsIgnoreCase(text, "auto")) return f;
  struct Named {
    std::string_view name;
    LoginFormatKind kind;
    std::string_view pattern;
  };
  static constexpr Named kNamed[] = {
      {"exchange", LoginFormatKind::kExchange, kExchangePattern},
      {"exchange-slash", LoginFormatKind::kExchangeSlash, kExchangeSlashPattern},
      {"dovecot", LoginFormatKind::kDovecot, kDovecotPattern},
      {"mirapoint", LoginFormatKind::kMirapoint, kMirapointPattern},
      {"sasl", LoginFormatKind::kSasl, ""},
  };
  for (const auto& n : kNamed) {
    if (equalsIgnoreCase(text, n.name)) {
      f.kind = n.kind;
      f.pattern = std::string(n.pattern);
      return f;
    }
  }
  if (text.find('{') == std::string_view::npos) {
    return Status(Errc::kUsage,
                  "unknown login format '" + std::string(text) +
                      "': use auto, exchange, exchange-slash, dovecot, mirapoint, sasl, or a "
                      "template with {user}, {admin}, {domain}, {email} such as "
                      "'CORP\\{admin}\\{user}'");
  }
  std::string error;
  auto parts = splitTemplate(text, &error);
  if (!parts) {
    return Status(Errc::kUsage, "login format template '" + std::string(text) + "': " + error +
                                    "; the placeholders are {user}, {admin}, {domain}, {email}");
  }
  bool namesUser = false;
  for (const auto& p : *parts) {
    namesUser |= p.placeholder == Placeholder::kUser || p.placeholder == Placeholder::kEmail;
  }
  if (!namesUser) {
    return Status(Errc::kUsage, "login format template '" + std::string(text) +
                                    "' names no mailbox: it needs {user} or {email}");
  }
  f.kind = LoginFormatKind::kTemplate;
  f.pattern = std::string(text);
  return f;
}

Result<CombinedLogin> combineLogin(const LoginFormat& format, std::string_view user,
                                   std::string_view admin, std::string_view adminDomain) {
  if (!format.combinesNames()) {
    return Status(Errc::kInternal, "login format " + format.describe() + " builds no name");
  }
  if (alreadyCombined(format, user)) return CombinedLogin{std::string(user), true};
  std::string error;
  auto parts = splitTemplate(format.pattern, &error);
  if (!parts) return Status(Errc::kUsage, "login format " + format.describe() + ": " + error);

  const size_t at = user.rfind('@');
  std::string domain(adminDomain);
  if (domain.empty() && at != std::string_view::npos) domain = std::string(user.substr(at + 1));
  auto needDomain = [&](std::string_view what) {
    return Status(Errc::kUsage, "login format " + format.describe() + " needs " +
                                    std::string(what) + ", but the user '" + std::string(user) +
                                    "' has no @domain: give the admin domain or the "
                                    "user's full address");
  };
  CombinedLogin out;
  for (const auto& p : *parts) {
    switch (p.placeholder) {
      case Placeholder::kNone:
        out.name += p.literal;
        break;
      case Placeholder::kUser:
        out.name += user;
        break;
      case Placeholder::kAdmin:
        out.name += admin;
        break;
      case Placeholder::kDomain:
        if (domain.empty()) return needDomain("a domain");
        out.name += domain;
        break;
      case Placeholder::kEmail:
        if (at != std::string_view::npos) {
          out.name += user;
        } else {
          if (domain.empty()) return needDomain("an e-mail address");
          out.name += std::string(user) + "@" + domain;
        }
        break;
    }
  }
  return out;
}

bool alreadyCombined(const LoginFormat& format, std::string_view user) {
  switch (format.kind) {
    case LoginFormatKind::kSasl:
      return false;
    case LoginFormatKind::kAuto:
      return patternMatches(kExchangePattern, user) ||
             patternMatches(kExchangeSlashPattern, user) || patternMatches(kDovecotPattern, user) ||
             patternMatches(kMirapointPattern, user);
    case LoginFormatKind::kExchange:
    case LoginFormatKind::kExchangeSlash:
      // Exchange accepts both separators (SPEC.md 2), so either form counts as combined.
      return patternMatches(kExchangePattern, user) || patternMatches(kExchangeSlashPattern, user);
    default:
      return patternMatches(format.pattern, user);
  }
}

}  // namespace mf::imap
