#include "cli/endpoint_options.h"

#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>

namespace mf::cli {
namespace {

Result<Secret> readPasswordFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status(Errc::kUsage, "cannot read password file '" + path + "': check the path and "
                                "its permissions");
  }
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return Secret(std::move(line));
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
  app.add_option("--from", from.url, "source URL: imaps://user@host[:port] or imap://...")->required();
  app.add_option("--to", to.url, "destination URL: imaps://user@host[:port] or imap://...")->required();
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
    return Status(Errc::kUsage, flag + ": no user name: put it in the URL "
                                "(imaps://alice@host) or use " + flag + "-user");
  }
  const std::string envName = side == "from" ? "MAILFERRY_FROM_PASSWORD" : "MAILFERRY_TO_PASSWORD";
  if (!s.passwordFile.empty()) {
    MF_ASSIGN_OR_RETURN(out.password, readPasswordFile(s.passwordFile));
  } else if (const char* env = std::getenv(envName.c_str()); env && *env) {
    out.password = Secret(env);
  } else {
    auto prompted = promptPassword((side == "from" ? "Source" : "Destination") +
                                   std::string(" password for ") + out.user + "@" +
                                   endpoint->host + ": ");
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
