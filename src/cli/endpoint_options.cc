#include "cli/endpoint_options.h"

#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <utility>

#include "imap/client/login_format.h"
#include "imap/client/sasl.h"

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

}  // namespace

void EndpointOptions::addTo(CLI::App& app) {
  app.add_option("--from", from.url, "source URL: imaps://user@host[:port] or imap://...")
      ->required();
  app.add_option("--to", to.url, "destination URL: imaps://user@host[:port] or imap://...")
      ->required();
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

Result<imap::AccountOptions> EndpointOptions::resolve(const std::string& side) const {
  const SideOptions& s = side == "from" ? from : to;
  const std::string flag = "--" + side;
  auto endpoint = net::parseEndpointUrl(s.url);
  if (!endpoint) return endpoint.status().withContext(flag);
  if (endpoint->protocol != net::Protocol::kImap) {
    return Status(Errc::kUsage, flag + ": only imap:// and imaps:// are supported here");
  }
  imap::AccountOptions out;
  out.connect.endpoint = *endpoint;
  out.connect.tls.verify = !insecure;
  out.connect.tls.caFile = !s.caFile.empty() ? s.caFile : caFile;
  out.connect.allowPlaintext = allowPlaintext;
  auto ms = Millis(static_cast<int64_t>(timeoutSeconds * 1000));
  out.connect.timeouts.read = ms;
  out.connect.timeouts.greeting = std::min(ms, out.connect.timeouts.greeting);
  out.user = !s.user.empty() ? s.user : endpoint->user;
  if (out.user.empty()) {
    return Status(Errc::kUsage, flag +
                                    ": no user name: put it in the URL "
                                    "(imaps://alice@host) or use " +
                                    flag + "-user");
  }
  out.side = side;
  if (!s.auth.empty()) {
    if (!imap::sasl::parseScheme(s.auth)) {
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
  }
  if (!s.oauthTokenFile.empty()) {
    if (!s.admin.empty()) {
      return Status(Errc::kUsage, flag + "-oauth-token-file and " + flag +
                                      "-admin are two different logins: choose one");
    }
    MF_ASSIGN_OR_RETURN(out.oauthToken,
                        readTokenFile(s.oauthTokenFile, flag + "-oauth-token-file"));
    return out;
  }
  if (!s.admin.empty()) {
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
    const std::string adminEnv =
        side == "from" ? "MAILFERRY_FROM_ADMIN_PASSWORD" : "MAILFERRY_TO_ADMIN_PASSWORD";
    if (!s.adminPasswordFile.empty()) {
      MF_ASSIGN_OR_RETURN(out.adminPassword, readPasswordFile(s.adminPasswordFile));
    } else if (const char* env = std::getenv(adminEnv.c_str()); env && *env) {
      out.adminPassword = Secret(env);
    } else {
      auto prompted = promptPassword((side == "from" ? "Source" : "Destination") +
                                     std::string(" admin password for ") + out.admin + "@" +
                                     endpoint->host + ": ");
      if (!prompted) {
        return Status(Errc::kUsage, "no " + std::string(side == "from" ? "source" : "destination") +
                                        " admin password for '" + out.admin + "': set " + adminEnv +
                                        ", use " + flag +
                                        "-admin-password-file FILE, or run on a terminal to be "
                                        "asked");
      }
      out.adminPassword = std::move(prompted).value();
    }
    return out;  // the user's own password is not needed
  }
  const std::string envName = side == "from" ? "MAILFERRY_FROM_PASSWORD" : "MAILFERRY_TO_PASSWORD";
  if (!s.passwordFile.empty()) {
    MF_ASSIGN_OR_RETURN(out.password, readPasswordFile(s.passwordFile));
  } else if (const char* env = std::getenv(envName.c_str()); env && *env) {
    out.password = Secret(env);
  } else {
    auto prompted =
        promptPassword((side == "from" ? "Source" : "Destination") + std::string(" password for ") +
                       out.user + "@" + endpoint->host + ": ");
    if (!prompted) {
      return Status(Errc::kUsage, "no " + std::string(side == "from" ? "source" : "destination") +
                                      " password: set " + envName + ", use " + flag +
                                      "-password-file FILE, or run on a terminal to be asked");
    }
    out.password = std::move(prompted).value();
  }
  return out;
}

}  // namespace mf::cli
