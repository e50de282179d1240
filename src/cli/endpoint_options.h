// Command-line options shared by the commands that talk to a source and a destination:
// URLs, users, password sources, TLS settings. Resolves them into imap::AccountOptions.
//
// Passwords never come from argv (SPEC.md 2): from MAILFERRY_FROM_PASSWORD /
// MAILFERRY_TO_PASSWORD, from --from-password-file / --to-password-file (first line,
// trailing newline removed), or from a prompt when stdin is a terminal.
//
// Logins (per side, --from-... / --to-...): --auth MECH forces a login scheme;
// --oauth-token-file FILE logs in with an access token (XOAUTH2 / OAUTHBEARER);
// --admin NAME logs in as an admin for the user, with the admin password from
// MAILFERRY_FROM_ADMIN_PASSWORD / MAILFERRY_TO_ADMIN_PASSWORD, --admin-password-file or a
// prompt, and --login-format / --admin-domain saying how the names combine
// (imap/client/login_format.h). With a token or an admin the user's password is not asked.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "base/deadline.h"
#include "base/status.h"
#include "imap/client/imap_account.h"

namespace mf::cli {

struct SideOptions {
  std::string url;
  std::string user;  // overrides the user in the URL
  std::string passwordFile;
  std::string caFile;
  std::string auth;  // forced login scheme, sasl::parseScheme() names
  std::string oauthTokenFile;
  std::string admin;
  std::string adminPasswordFile;
  std::string loginFormat;
  std::string adminDomain;
};

struct EndpointOptions {
  SideOptions from;
  SideOptions to;
  std::string caFile;  // applies to both sides
  bool insecure = false;
  bool allowPlaintext = false;
  double timeoutSeconds = 120;

  void addTo(CLI::App& app);
  // side is "from" or "to".
  Result<imap::AccountOptions> resolve(const std::string& side) const;
};

}  // namespace mf::cli
