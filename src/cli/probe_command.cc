// `mailferry probe URL`: which port and security mode of a mail server work (probe/probe.h).
// Prints one line per attempt as it finishes, then the settings to use; with --json one
// object per attempt and a final "result" object. Exit 0 when usable settings were found,
// 3 (connection failure) when none, 2 on a usage error. Never logs in: no password needed.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "probe/probe.h"

namespace mf::cli {
namespace {

struct ProbeArgs {
  std::string url;
  std::string ports;
  bool json = false;
  std::string caFile;
  bool insecure = false;
  bool allowPlaintext = false;
  bool all = false;
  double timeoutSeconds = 10;
};

nlohmann::json endpointJson(const net::Endpoint& e) {
  return {{"url", e.toUrl()},
          {"protocol", e.protocol == net::Protocol::kPop3 ? "pop3" : "imap"},
          {"host", e.host},
          {"port", e.port},
          {"security", net::securityName(e.security)}};
}

nlohmann::json attemptJson(const probe::ProbeAttempt& a) {
  nlohmann::json id = nlohmann::json::object();
  for (const auto& [key, value] : a.serverId) id[key] = value;
  nlohmann::json out = endpointJson(a.endpoint);
  out["event"] = "attempt";
  out["outcome"] = probe::outcomeName(a.outcome);
  out["detail"] = a.detail;
  out["greeting"] = a.greeting;
  out["capabilities"] = a.capabilities;
  out["mechanisms"] = a.mechanisms;
  out["server_id"] = id;
  out["login_allowed"] = a.loginAllowed;
  out["usable"] = a.usable;
  out["tls"] = a.tls;
  out["millis"] = static_cast<int64_t>(a.millis + 0.5);
  return out;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : " ") + item;
  return out;
}

void printAttempt(const probe::ProbeAttempt& a) {
  std::string line = "  " + probe::describeEndpoint(a.endpoint) + ": ";
  if (a.outcome == probe::ProbeAttempt::kOk) {
    line += a.usable ? "ok" : "answers, not usable";
    line += " - \"" + a.greeting + "\"";
    if (!a.tls.empty()) line += "; " + a.tls;
    line += "; capabilities: " + (a.capabilities.empty() ? "(none)" : joined(a.capabilities));
    line += "; login: ";
    if (!a.loginAllowed) {
      line += "not allowed";
    } else {
      line += a.mechanisms.empty() ? "USER/LOGIN" : joined(a.mechanisms);
    }
    if (!a.detail.empty()) line += " (" + a.detail + ")";
  } else {
    line += probe::outcomeName(a.outcome);
    line += " - " + a.detail;
  }
  char millis[32];
  std::snprintf(millis, sizeof millis, " [%.0f ms]", a.millis);
  std::printf("%s%s\n", line.c_str(), millis);
  std::fflush(stdout);
}

int run(const ProbeArgs& args) {
  auto given = net::parseEndpointUrl(args.url);
  if (!given) {
    std::fprintf(stderr, "mailferry: %s\n", given.status().message().c_str());
    return kExitUsage;
  }
  probe::ProbeOptions options;
  if (!args.ports.empty()) {
    auto ports = probe::parsePortList(args.ports);
    if (!ports) {
      std::fprintf(stderr, "mailferry: --ports: %s\n", ports.status().message().c_str());
      return kExitUsage;
    }
    options.ports = std::move(ports).value();
  }
  options.tls.verify = !args.insecure;
  options.tls.caFile = args.caFile;
  options.allowPlaintext = args.allowPlaintext;
  options.exhaustive = args.all;
  Millis timeout(static_cast<int64_t>(args.timeoutSeconds * 1000));
  options.timeouts = Timeouts{timeout, timeout, timeout};
  if (args.insecure) {
    std::fprintf(stderr, "mailferry: warning: --insecure: TLS certificates are not verified\n");
  }
  if (args.json) {
    options.onAttempt = [](const probe::ProbeAttempt& a) {
      std::printf("%s\n", attemptJson(a).dump().c_str());
      std::fflush(stdout);
    };
  } else {
    std::printf("Probing %s on %s\n", given->protocol == net::Protocol::kPop3 ? "POP3" : "IMAP",
                given->host.c_str());
    options.onAttempt = printAttempt;
  }

  probe::ProbeResult result = probe::probeEndpoint(*given, options);
  const std::string advice = probe::recommendation(result);
  const std::string notice = probe::nonMailNotice(result.server);
  if (args.json) {
    nlohmann::json out = {{"event", "result"},
                          {"given", endpointJson(*given)},
                          {"given_worked", result.givenWorked()},
                          {"chosen", nullptr},
                          {"plaintext_only", nullptr},
                          {"server", probe::serverKindName(result.server)},
                          {"server_title", probe::serverKindTitle(result.server)},
                          {"notice", notice},
                          {"advice", advice},
                          {"attempts", result.attempts.size()}};
    if (const net::Endpoint* chosen = result.chosenEndpoint())
      out["chosen"] = endpointJson(*chosen);
    if (result.plaintextOnly) {
      out["plaintext_only"] = endpointJson(result.attempts[*result.plaintextOnly].endpoint);
    }
    std::printf("%s\n", out.dump().c_str());
  } else {
    if (result.server != probe::ServerKind::kOther) {
      std::printf("Server: %s\n", probe::serverKindTitle(result.server));
    }
    std::printf("%s\n", advice.c_str());
    if (!notice.empty()) std::printf("Note: %s\n", notice.c_str());
  }
  return result.chosen ? kExitOk : kExitConnection;
}

}  // namespace

std::function<int()> addProbeCommand(CLI::App& app) {
  auto args = std::make_shared<ProbeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "probe", "find which port and security mode of a mail server work (no login)");
  cmd->add_option("url", args->url, "imap://, imaps://, pop3:// or pop3s://host[:port]")
      ->required();
  cmd->add_option("--ports", args->ports,
                  "try these ports (comma-separated), each with TLS, STARTTLS and none, instead "
                  "of the standard ones (993,143 / 995,110)");
  cmd->add_flag("--json", args->json, "one JSON object per attempt, then a \"result\" object");
  cmd->add_option("--ca-file", args->caFile, "extra trusted CA certificates (PEM)");
  cmd->add_flag("--insecure", args->insecure, "do not verify TLS certificates (not recommended)");
  cmd->add_flag("--allow-plaintext", args->allowPlaintext,
                "accept settings without encryption (a password would travel in clear text)");
  cmd->add_flag("--all", args->all, "try every permutation, even after usable settings were found");
  cmd->add_option("--timeout", args->timeoutSeconds,
                  "seconds to wait for each connection and each server's answers (default 10)")
      ->check(CLI::PositiveNumber);
  return [cmd, args]() -> int {
    if (!cmd->parsed()) return -1;
    return run(*args);
  };
}

}  // namespace mf::cli
