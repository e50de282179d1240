// Command-line options shared by the commands that talk to a source and a destination:
// URLs or provider presets, users, password sources, TLS settings, probing ports. Resolves
// one side into the options to connect and log in with (no I/O but reading files).
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
//
// Servers (README "Provider presets in migrate and verify"): --from URL, or
// --from-preset NAME (presets/preset.h), or both. The rule: what the URL writes wins, the
// preset fills in the rest.
// - A URL with a host ("imaps://alice@imap.example.com:993") gives protocol, host, port and
//   security; a preset given as well then adds only its login rule, limits and folder rules.
// - A URL without a host ("imaps://alice@") gives only the user; protocol, host, port and
//   security come from the preset (the URL's protocol must be the preset's).
// - No URL: everything from the preset, the user from --from-user.
// With a preset, the user is taken as the e-mail address and the preset's login rule
// (presets::Preset::loginFor) makes the login name from it.
// The source may be POP3 (pop3:// with STLS, pop3s://); the destination must be IMAP.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/deadline.h"
#include "base/status.h"
#include "imap/client/imap_account.h"
#include "presets/preset.h"

namespace mf::cli {

struct SideOptions {
  std::string url;
  std::string preset;  // --from-preset / --to-preset
  std::string user;    // overrides the user in the URL
  std::string passwordFile;
  std::string caFile;
  std::string auth;  // forced login scheme, sasl::parseScheme() names (POP3: PLAIN/APOP/USER)
  std::string oauthTokenFile;
  std::string admin;
  std::string adminPasswordFile;
  std::string loginFormat;
  std::string adminDomain;
};

// One side, resolved: how to connect and log in. `account.connect.endpoint.protocol` says
// whether it is IMAP or POP3 (the POP3 client takes the same fields, cli/pop3_source.h).
struct ResolvedSide {
  std::string side;  // "from" / "to"
  imap::AccountOptions account;
  std::optional<presets::Preset> preset;  // --from-preset / --to-preset
  std::vector<std::string> notices;       // e.g. the login rule's effect, for the user

  bool isPop3() const { return account.connect.endpoint.protocol == net::Protocol::kPop3; }
  const char* what() const { return side == "from" ? "source" : "destination"; }
};

struct EndpointOptions {
  SideOptions from;
  SideOptions to;
  std::string caFile;  // applies to both sides
  bool insecure = false;
  bool allowPlaintext = false;
  double timeoutSeconds = 120;
  std::string probePorts;  // --probe-ports: replaces the standard port list when probing
  // --compress yes|no: COMPRESS=DEFLATE (RFC 4978) where the server offers it. Off unless
  // asked: deflating costs ~40 ms of CPU per MB on each side (client and server) here, so it
  // pays only on links slower than ~10 MB/s (docs/performance.md, "COMPRESS").
  std::string compress = "no";

  void addTo(CLI::App& app);
  // side is "from" or "to". Errc::kUsage (or kConfig for unreadable preset files) with a
  // message that names the option and what to do. With secrets=false, stops before reading
  // passwords and tokens (files, environment, prompt): to check both sides' options first.
  Result<ResolvedSide> resolve(const std::string& side, bool secrets = true) const;
  // --probe-ports parsed; empty when not given.
  Result<std::vector<uint16_t>> probePortList() const;
};

}  // namespace mf::cli
