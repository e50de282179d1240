#include "probe/probe.h"

#include <algorithm>

#include "base/checked_number.h"
#include "probe/attempt_io.h"

namespace mf::probe {
namespace {

using net::Protocol;
using net::Security;

struct PortMode {
  uint16_t port;
  Security security;
};

// SPEC.md section 1: the standard permutations, implicit TLS first.
constexpr PortMode kImapStandard[] = {
    {993, Security::kTls}, {143, Security::kStartTls}, {143, Security::kNone}};
constexpr PortMode kPop3Standard[] = {
    {995, Security::kTls}, {110, Security::kStartTls}, {110, Security::kNone}};
constexpr Security kModes[] = {Security::kTls, Security::kStartTls, Security::kNone};

bool sameSettings(const net::Endpoint& a, const net::Endpoint& b) {
  return a.port == b.port && a.security == b.security;
}

bool isUsable(const ProbeAttempt& attempt, bool allowPlaintext) {
  return attempt.outcome == ProbeAttempt::kOk && attempt.loginAllowed &&
         (attempt.endpoint.security != Security::kNone || allowPlaintext);
}

std::string plural(size_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

}  // namespace

const char* outcomeName(ProbeAttempt::Outcome outcome) {
  switch (outcome) {
    case ProbeAttempt::kOk:
      return "ok";
    case ProbeAttempt::kRefused:
      return "refused";
    case ProbeAttempt::kTimeout:
      return "timeout";
    case ProbeAttempt::kTlsFailure:
      return "tls_failure";
    case ProbeAttempt::kNotThisProtocol:
      return "not_this_protocol";
    case ProbeAttempt::kDns:
      return "dns";
    case ProbeAttempt::kOther:
      break;
  }
  return "other";
}

const char* securityLabel(const net::Endpoint& endpoint) {
  switch (endpoint.security) {
    case Security::kTls:
      return "TLS";
    case Security::kStartTls:
      return endpoint.protocol == Protocol::kPop3 ? "STLS" : "STARTTLS";
    case Security::kNone:
      break;
  }
  return "none";
}

std::vector<net::Endpoint> probeCandidates(const net::Endpoint& given,
                                           const std::vector<uint16_t>& ports) {
  std::vector<net::Endpoint> out{given};
  auto add = [&](uint16_t port, Security security) {
    net::Endpoint candidate = given;
    candidate.port = port;
    candidate.security = security;
    bool seen = std::any_of(out.begin(), out.end(),
                            [&](const net::Endpoint& e) { return sameSettings(e, candidate); });
    if (!seen) out.push_back(std::move(candidate));
  };
  if (!ports.empty()) {
    for (uint16_t port : ports) {
      for (Security security : kModes) add(port, security);
    }
  } else if (given.protocol == Protocol::kPop3) {
    for (const PortMode& pm : kPop3Standard) add(pm.port, pm.security);
  } else {
    for (const PortMode& pm : kImapStandard) add(pm.port, pm.security);
  }
  return out;
}

ProbeAttempt probeOne(const net::Endpoint& endpoint, const ProbeOptions& options) {
  Clock::time_point start = Clock::now();
  ProbeAttempt attempt = endpoint.protocol == Protocol::kPop3
                             ? detail::probePop3(endpoint, options)
                             : detail::probeImap(endpoint, options);
  attempt.millis = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  return attempt;
}

ProbeResult probeEndpoint(const net::Endpoint& given, const ProbeOptions& options,
                          const AttemptRunner& runner) {
  ProbeResult result;
  for (const net::Endpoint& candidate : probeCandidates(given, options.ports)) {
    ProbeAttempt attempt = runner ? runner(candidate, options) : probeOne(candidate, options);
    attempt.endpoint = candidate;  // a runner reports on what it was asked, nothing else
    attempt.usable = isUsable(attempt, options.allowPlaintext);
    const size_t index = result.attempts.size();
    if (attempt.usable && !result.chosen) result.chosen = index;
    if (!attempt.usable && attempt.outcome == ProbeAttempt::kOk && attempt.loginAllowed &&
        candidate.security == Security::kNone && !result.plaintextOnly) {
      result.plaintextOnly = index;
    }
    result.attempts.push_back(std::move(attempt));
    if (options.onAttempt) options.onAttempt(result.attempts.back());
    if (result.chosen && !options.exhaustive) break;
  }
  // Server detection from what the chosen endpoint said, else from any that answered.
  std::optional<size_t> source = result.chosen;
  for (size_t i = 0; !source && i < result.attempts.size(); ++i) {
    if (result.attempts[i].outcome == ProbeAttempt::kOk) source = i;
  }
  if (source) {
    const ProbeAttempt& a = result.attempts[*source];
    result.server = detectServer(a.greeting, a.capabilities, a.serverId);
  }
  return result;
}

Result<std::vector<uint16_t>> parsePortList(std::string_view text) {
  std::vector<uint16_t> ports;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view item = text.substr(pos, comma - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    std::optional<uint64_t> port = parseDecimal(item, 65535);
    if (!port || *port == 0) {
      std::string shown = item.size() <= 20 ? std::string(item) : std::string(item.substr(0, 20));
      return Status(Errc::kUsage, "port list '" + std::string(text.substr(0, 100)) + "': '" +
                                      shown +
                                      "' is not a port (1-65535); write e.g. --ports 993,143");
    }
    if (std::find(ports.begin(), ports.end(), *port) != ports.end()) {
      return Status(Errc::kUsage, "port list: " + std::to_string(*port) + " is listed twice");
    }
    ports.push_back(static_cast<uint16_t>(*port));
    pos = comma + 1;
  }
  return ports;
}

std::string describeEndpoint(const net::Endpoint& endpoint) {
  return endpoint.toUrl() + " (" + securityLabel(endpoint) + ")";
}

std::string recommendation(const ProbeResult& result) {
  if (const net::Endpoint* chosen = result.chosenEndpoint()) {
    std::string use = "Use: " + chosen->toUrl();
    if (chosen->security == Security::kNone) use += " --allow-plaintext";
    if (chosen->security == Security::kStartTls) {
      use += std::string(" (") + securityLabel(*chosen) + ")";
    }
    if (!result.givenWorked() && !result.attempts.empty()) {
      use += "\nThe given settings " + describeEndpoint(result.attempts[0].endpoint) +
             " did not work; save the ones above.";
    }
    return use;
  }
  std::string out =
      "No usable settings found on " +
      (result.attempts.empty() ? std::string("the host") : result.attempts[0].endpoint.host) +
      " (" + plural(result.attempts.size(), "attempt") + ").";
  if (result.plaintextOnly) {
    const net::Endpoint& plain = result.attempts[*result.plaintextOnly].endpoint;
    out += "\n" + plain.toUrl() +
           " works only without encryption: the password would travel in clear text. Pass "
           "--allow-plaintext to use it anyway (only on a network you trust).";
    return out;
  }
  bool certificate = false, refusedAll = true, timeouts = false;
  for (const ProbeAttempt& a : result.attempts) {
    if (a.outcome == ProbeAttempt::kTlsFailure &&
        a.detail.find("certificate") != std::string::npos) {
      certificate = true;
    }
    if (a.outcome != ProbeAttempt::kRefused) refusedAll = false;
    if (a.outcome == ProbeAttempt::kTimeout) timeouts = true;
  }
  if (certificate) {
    out +=
        "\nA TLS port answered but its certificate was not accepted: use --ca-file FILE "
        "to trust the server's CA, or --insecure to skip verification (not recommended).";
  } else if (refusedAll && !result.attempts.empty()) {
    out +=
        "\nEvery port refused the connection: check the host name, that the mail service "
        "runs, and the ports (--ports P1,P2,... to try others).";
  } else if (timeouts) {
    out +=
        "\nSome ports did not answer in time: a firewall may drop the traffic, or the "
        "server is slow (--timeout SECONDS to wait longer).";
  } else {
    out += "\nCheck the host name and the ports (--ports P1,P2,... to try others).";
  }
  return out;
}

}  // namespace mf::probe
