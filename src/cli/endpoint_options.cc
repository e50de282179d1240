#include "cli/endpoint_options.h"

#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <utility>

#include "base/ascii.h"
#include "imap/client/login_format.h"
#include "imap/client/sasl.h"
#include "probe/probe.h"

namespace mf::cli {
namespace {

Result<Secret> readPasswordFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status(Errc::kUsage, "cannot read password file '" + path +
                                    "': check the path and "
                                    "its permissions");
  }
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return Secret(std::move(line));
}

// The first line of `path`, surrounding blanks removed (a token file saved by an editor
// often ends with a newline or spaces, which are never part of a token).
Result<Secret> readTokenFile(const std::string& path, const std::string& flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status(Errc::kUsage, "cannot read the access token file '" + path + "' (" + flag +
                                    "): check the path and its permissions");
  }
  std::string line;
  std::getline(in, line);
  size_t begin = line.find_first_not_of(" \t\r\n");
  size_t end = line.find_last_not_of(" \t\r\n");
  std::string token = begin == std::string::npos ? "" : line.substr(begin, end - begin + 1);
  std::fill(line.begin(), line.end(), '\0');
  if (token.empty()) {
    return Status(Errc::kUsage, "the access token file '" + path + "' (" + flag +
                                    ") is empty: put the token on its first line");
  }
  return Secret(std::move(token));
}

Result<Secret> promptPassword(const std::string& prompt) {
  if (!isatty(STDIN_FILENO)) {
    return Status(Errc::kUsage, "no password given");
  }
  std::cerr << prompt << std::flush;
  termios old{};
  tcgetattr(STDIN_FILENO, &old);
  termios quiet = old;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  std::string line;
  std::getline(std::cin, line);
  tcsetattr(STDIN_FILENO, TCSANOW, &old);
  std::cerr << "\n";
  return Secret(std::move(line));
}

// True for "imaps://alice@" and "imaps://": a URL that names a user (or nothing) but no host.
bool hostless(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return false;
  std::string_view rest(url);
  rest.remove_prefix(scheme + 3);
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  return rest.empty() || rest.back() == '@';
}

const char* protocolName(net::Protocol p) {
  return p == net::Protocol::kPop3 ? "POP3" : "IMAP";
}

// The server of one side, by the rule in endpoint_options.h: what the URL writes wins, the
// preset fills in the rest.
Result<net::Endpoint> serverOf(const SideOptions& s, const std::string& flag,
                               const std::string& what,
                               const std::optional<presets::Preset>& preset) {
  if (s.url.empty() || hostless(s.url)) {
    if (!preset) {
      return Status(Errc::kUsage, flag + ": give the " + what +
                                      " server as a URL (imaps://user@host" +
                                      (what == "source" ? ", pop3s://user@host" : "") +
                                      ") or a provider preset (" + flag +
                                      "-preset NAME; `mailferry presets` lists them)");
    }
    std::string user;
    if (!s.url.empty()) {
      // Parsed with a stand-in host, so the user part is decoded and checked exactly as in
      // a full URL (percent-encoding, no password).
      std::string url = s.url;
      if (url.back() == '/') url.pop_back();
      auto parsed = net::parseEndpointUrl(url + "preset.invalid");
      if (!parsed) return parsed.status().withContext(flag);
      if (parsed->protocol != preset->protocol) {
        return Status(Errc::kUsage, flag + ": the " + preset->name + " preset is " +
                                        protocolName(preset->protocol) + " but the URL says " +
                                        protocolName(parsed->protocol) +
                                        ": write the URL with the preset's scheme, or leave it "
                                        "out and give the user with " +
                                        flag + "-user");
      }
      user = parsed->user;
    }
    auto endpoint = preset->endpoint(user);
    if (!endpoint) {
      return Status(Errc::kUsage,
                    flag + "-preset: " + endpoint.status().message() + " (" + flag + " " +
                        (preset->protocol == net::Protocol::kPop3 ? "pop3s" : "imaps") +
                        "://user@HOST)");
    }
    return endpoint;
  }
  auto endpoint = net::parseEndpointUrl(s.url);
  if (!endpoint) return endpoint.status().withContext(flag);
  if (preset && endpoint->protocol != preset->protocol) {
    return Status(Errc::kUsage, flag + ": the " + preset->name + " preset is " +
                                    protocolName(preset->protocol) + " but the URL says " +
                                    protocolName(endpoint->protocol));
  }
  return endpoint;
}

}  // namespace

void EndpointOptions::addTo(CLI::App& app) {
  app.add_option("--from", from.url,
                 "source URL: imaps://user@host[:port], imap:// (STARTTLS), pop3s:// or pop3:// "
                 "(STLS); with --from-preset it may be just imaps://user@ or left out");
  app.add_option("--to", to.url,
                 "destination URL: imaps://user@host[:port] or imap:// (STARTTLS); with "
                 "--to-preset it may be just imaps://user@ or left out");
  app.add_option("--from-preset", from.preset,
                 "source provider preset (mailferry presets lists them): server, login rule, "
                 "limits and folder rules");
  app.add_option("--to-preset", to.preset,
                 "destination provider preset: server, login rule, largest message, "
                 "connection limit and reserved folder names");
  app.add_option("--from-user", from.user, "source login name (instead of the user in --from)");
  app.add_option("--to-user", to.user, "destination login name (instead of the user in --to)");
  app.add_option("--from-password-file", from.passwordFile,
                 "file whose first line is the source password (else $MAILFERRY_FROM_PASSWORD "
                 "or a prompt)");
  app.add_option("--to-password-file", to.passwordFile,
                 "file whose first line is the destination password (else "
                 "$MAILFERRY_TO_PASSWORD or a prompt)");
  app.add_option("--ca-file", caFile, "extra trusted CA certificates (PEM), both sides");
  app.add_option("--from-ca-file", from.caFile, "extra trusted CA certificates for the source");
  app.add_option("--to-ca-file", to.caFile, "extra trusted CA certificates for the destination");
  app.add_flag("--insecure", insecure,
               "do not verify TLS certificates (shown in every report; not recommended)");
  app.add_flag("--allow-plaintext", allowPlaintext,
               "allow sending passwords over an unencrypted connection");
  app.add_option("--timeout", timeoutSeconds, "seconds to wait for any server answer")
      ->check(CLI::PositiveNumber);
  app.add_option("--compress", compress,
                 "yes: COMPRESS=DEFLATE (RFC 4978) on IMAP connections whose server offers it; "
                 "pays on links slower than ~10 MB/s, costs CPU on both ends (default: no)")
      ->check(CLI::IsMember({"yes", "no"}));
  app.add_option("--probe-ports", probePorts,
                 "when the given settings cannot connect, probe these ports (comma-separated; "
                 "each with TLS, STARTTLS and none) instead of the standard ones (993,143 / "
                 "995,110)");
  for (auto [side, opts] : {std::pair<std::string, SideOptions*>{"from", &from}, {"to", &to}}) {
    const std::string what = side == "from" ? "source" : "destination";
    const std::string env =
        side == "from" ? "MAILFERRY_FROM_ADMIN_PASSWORD" : "MAILFERRY_TO_ADMIN_PASSWORD";
    app.add_option("--" + side + "-auth", opts->auth,
                   "force the " + what +
                       " login mechanism: LOGIN, PLAIN, AUTH=LOGIN, CRAM-MD5, "
                       "XOAUTH2, OAUTHBEARER, X-MASTERAUTH, XGWTRUSTEDAPP (default: the best one "
                       "the server offers)");
    app.add_option("--" + side + "-oauth-token-file", opts->oauthTokenFile,
                   "file whose first line is an OAuth 2 access token for the " + what +
                       " (XOAUTH2 / OAUTHBEARER); no password is then needed");
    app.add_option("--" + side + "-admin", opts->admin,
                   "log in to the " + what +
                       " as this admin (master) user on behalf of the "
                       "user; the admin password comes from $" +
                       env + " or --" + side + "-admin-password-file");
    app.add_option(
        "--" + side + "-admin-password-file", opts->adminPasswordFile,
        "file whose first line is the " + what + " admin password (else $" + env + " or a prompt)");
    app.add_option(
        "--" + side + "-login-format", opts->loginFormat,
        "how the " + what +
            " admin login is written: auto (default), exchange "
            "(domain\\admin\\user), exchange-slash, dovecot (user*admin), mirapoint "
            "(#user@domain#admin#), sasl (PLAIN authzid=user, authcid=admin), or a template "
            "with {user} {admin} {domain} {email}");
    app.add_option("--" + side + "-admin-domain", opts->adminDomain,
                   "{domain} of the " + what +
                       " login format (default: the part after @ of "
                       "the user)");
  }
}

Result<std::vector<uint16_t>> EndpointOptions::probePortList() const {
  if (probePorts.empty()) return std::vector<uint16_t>{};
  auto ports = probe::parsePortList(probePorts);
  if (!ports) return ports.status().withContext("--probe-ports");
  return ports;
}

Result<ResolvedSide> EndpointOptions::resolve(const std::string& side, bool secrets) const {
  const SideOptions& s = side == "from" ? from : to;
  const std::string flag = "--" + side;
  ResolvedSide resolved;
  resolved.side = side;
  const std::string what = resolved.what();
  if (!s.preset.empty()) {
    auto catalog = presets::loadPresets();
    if (!catalog) return catalog.status().withContext(flag + "-preset");
    const presets::Preset* preset = catalog->find(s.preset);
    if (preset == nullptr) {
      return Status(Errc::kUsage, flag + "-preset: no preset named '" + s.preset + "'; known: " +
                                      catalog->names() + " (`mailferry presets` shows them)");
    }
    resolved.preset = *preset;
  }
  MF_ASSIGN_OR_RETURN(net::Endpoint endpoint, serverOf(s, flag, what, resolved.preset));
  if (side == "to" && endpoint.protocol != net::Protocol::kImap) {
    return Status(Errc::kUsage, flag +
                                    ": the destination must be an IMAP server (imaps:// or "
                                    "imap://): POP3 can only read mail");
  }
  const bool pop3 = endpoint.protocol == net::Protocol::kPop3;

  imap::AccountOptions& out = resolved.account;
  out.connect.tls.verify = !insecure;
  out.connect.tls.caFile = !s.caFile.empty() ? s.caFile : caFile;
  out.connect.allowPlaintext = allowPlaintext;
  out.connect.compress = compress == "yes";
  auto ms = Millis(static_cast<int64_t>(timeoutSeconds * 1000));
  out.connect.timeouts.read = ms;
  out.connect.timeouts.greeting = std::min(ms, out.connect.timeouts.greeting);
  std::string user = !s.user.empty() ? s.user : endpoint.user;
  if (user.empty()) {
    return Status(Errc::kUsage, flag + ": no user name: put it in the URL (" +
                                    (pop3 ? "pop3s" : "imaps") + "://alice@host) or use " + flag +
                                    "-user");
  }
  if (resolved.preset) {
    // Presets know how the provider spells logins (GoDaddy: the full address; iCloud: the
    // part before '@'): the user is read as the e-mail address.
    std::string login = resolved.preset->loginFor(user);
    if (login != user) {
      resolved.notices.push_back(what + " preset " + resolved.preset->name + ": logging in as '" +
                                 login + "' (" + presets::loginRuleName(resolved.preset->login) +
                                 " rule of " + resolved.preset->title + " for '" + user + "')");
    }
    user = std::move(login);
  }
  endpoint.user = user;
  out.connect.endpoint = endpoint;
  out.user = user;
  out.side = side;
  if (!s.auth.empty()) {
    if (pop3) {
      static constexpr std::string_view kPop3Schemes[] = {"PLAIN", "APOP", "USER"};
      bool known = false;
      for (std::string_view name : kPop3Schemes) known = known || equalsIgnoreCase(s.auth, name);
      if (!known) {
        return Status(Errc::kUsage, flag + "-auth: unknown POP3 login mechanism '" + s.auth +
                                        "': use PLAIN (AUTH PLAIN), APOP or USER (USER/PASS)");
      }
    } else if (!imap::sasl::parseScheme(s.auth)) {
      return Status(Errc::kUsage, flag + "-auth: unknown login mechanism '" + s.auth +
                                      "': use one of " + std::string(imap::sasl::schemeList()));
    }
    out.connect.forceMechanism = s.auth;
  }
  if (s.admin.empty()) {
    for (const auto& [value, name] : {std::pair{&s.loginFormat, "-login-format"},
                                      {&s.adminDomain, "-admin-domain"},
                                      {&s.adminPasswordFile, "-admin-password-file"}}) {
      if (!value->empty()) {
        return Status(Errc::kUsage, flag + name +
                                        " only applies to an admin login: give the "
                                        "admin with " +
                                        flag + "-admin NAME");
      }
    }
  } else {
    auto format = imap::parseLoginFormat(s.loginFormat);
    if (!format) return format.status().withContext(flag + "-login-format");
    out.loginFormat = std::move(format).value();
    out.admin = s.admin;
    out.adminDomain = s.adminDomain;
    if (out.loginFormat.combinesNames()) {
      // Fail before connecting when the name cannot be built (no domain known).
      auto name = imap::combineLogin(out.loginFormat, out.user, out.admin, out.adminDomain);
      if (!name) {
        return Status(Errc::kUsage, flag + "-login-format: " + name.status().message() + " (" +
                                        flag + "-admin-domain DOMAIN)");
      }
    }
  }
  if (!s.oauthTokenFile.empty()) {
    if (pop3) {
      return Status(Errc::kUsage, flag +
                                      "-oauth-token-file: mailferry logs in to POP3 with a "
                                      "password (AUTH PLAIN, APOP or USER/PASS), not a token");
    }
    if (!s.admin.empty()) {
      return Status(Errc::kUsage, flag + "-oauth-token-file and " + flag +
                                      "-admin are two different logins: choose one");
    }
    if (!secrets) return resolved;
    MF_ASSIGN_OR_RETURN(out.oauthToken,
                        readTokenFile(s.oauthTokenFile, flag + "-oauth-token-file"));
    return resolved;
  }
  if (!secrets) return resolved;
  if (!s.admin.empty()) {
    const std::string adminEnv =
        side == "from" ? "MAILFERRY_FROM_ADMIN_PASSWORD" : "MAILFERRY_TO_ADMIN_PASSWORD";
    if (!s.adminPasswordFile.empty()) {
      MF_ASSIGN_OR_RETURN(out.adminPassword, readPasswordFile(s.adminPasswordFile));
    } else if (const char* env = std::getenv(adminEnv.c_str()); env && *env) {
      out.adminPassword = Secret(env);
    } else {
      auto prompted = promptPassword((side == "from" ? "Source" : "Destination") +
                                     std::string(" admin password for ") + out.admin + "@" +
                                     endpoint.host + ": ");
      if (!prompted) {
        return Status(Errc::kUsage, "no " + what + " admin password for '" + out.admin + "': set " +
                                        adminEnv + ", use " + flag +
                                        "-admin-password-file FILE, or run on a terminal to be "
                                        "asked");
      }
      out.adminPassword = std::move(prompted).value();
    }
    return resolved;  // the user's own password is not needed
  }
  const std::string envName = side == "from" ? "MAILFERRY_FROM_PASSWORD" : "MAILFERRY_TO_PASSWORD";
  if (!s.passwordFile.empty()) {
    MF_ASSIGN_OR_RETURN(out.password, readPasswordFile(s.passwordFile));
  } else if (const char* env = std::getenv(envName.c_str()); env && *env) {
    out.password = Secret(env);
  } else {
    auto prompted =
        promptPassword((side == "from" ? "Source" : "Destination") + std::string(" password for ") +
                       out.user + "@" + endpoint.host + ": ");
    if (!prompted) {
      return Status(Errc::kUsage, "no " + what + " password: set " + envName + ", use " + flag +
                                      "-password-file FILE, or run on a terminal to be asked");
    }
    out.password = std::move(prompted).value();
  }
  return resolved;
}

}  // namespace mf::cli
