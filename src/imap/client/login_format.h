// Admin logins: how a mailbox user, an admin (master) user and a domain combine into the
// login name a server expects (SPEC.md 2 "Admin credentials"; QUIRKS.md Exchange, Dovecot,
// Mirapoint). Pure functions, no I/O.
//
// Formats (--from-login-format / --to-login-format):
//   auto        chosen at login from what the server advertises (connection.h)
//   exchange    {domain}\{admin}\{user}      Exchange IMAP impersonation
//   exchange-slash {domain}/{admin}/{user}   the same with slashes
//   dovecot     {user}*{admin}               Dovecot master user (separator '*')
//   mirapoint   #{email}#{admin}#            Mirapoint
//   sasl        no name change: AUTHENTICATE PLAIN with authzid = user, authcid = admin
//   a template  any text with {user} {admin} {domain} {email}, e.g. 'CORP\{admin}\{user}'
//
// Placeholders: {user} the user as given; {admin} the admin name; {domain} the admin domain
// if given, else the part after the last '@' of the user; {email} the user if it holds an
// '@', else user@domain.
//
// A user that already holds the combination (it matches the format's pattern, e.g.
// "corp\admin\alice" for exchange, "alice*admin" for dovecot) is used as given: a CSV
// UserName cell may carry the full login string (SPEC.md 2).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace mf::imap {

enum class LoginFormatKind {
  kAuto,
  kExchange,
  kExchangeSlash,
  kDovecot,
  kMirapoint,
  kSasl,
  kTemplate
};

struct LoginFormat {
  LoginFormatKind kind = LoginFormatKind::kAuto;
  std::string pattern;  // the template: given (kTemplate) or the built-in one; "" for auto/sasl

  // "exchange", "dovecot", ..., or "template 'CORP\{admin}\{user}'".
  std::string describe() const;
  bool combinesNames() const { return !pattern.empty(); }
};

// Parses a --login-format value: a format name (case-insensitive) or a template (any text
// with a '{'). A template must use only the four placeholders and at least one of {user}
// and {email}.
Result<LoginFormat> parseLoginFormat(std::string_view text);

struct CombinedLogin {
  std::string name;          // the login (authentication) name to send
  bool usedAsGiven = false;  // the user already held the combination
};

// The login name for `format` (which must combine names). Errc::kUsage when a placeholder
// cannot be filled (no domain known).
Result<CombinedLogin> combineLogin(const LoginFormat& format, std::string_view user,
                                   std::string_view admin, std::string_view adminDomain);

// True if `user` already matches the pattern of `format` (exchange also accepts the slash
// form); for kAuto, the pattern of any built-in format that combines names. A pattern must
// have literal text for this (a template of placeholders only never matches).
bool alreadyCombined(const LoginFormat& format, std::string_view user);

}  // namespace mf::imap
