// Endpoint probing: which port and security mode of a mail server actually work.
//
// A probe speaks only up to what the server says before login: the greeting, CAPABILITY
// (IMAP) or CAPA (POP3), STARTTLS / STLS and the capabilities again after it (RFC 3501
// section 6.2.1, RFC 2595 section 4: what was learned before TLS is discarded), and the IMAP
// ID (RFC 2971) when offered. It never sends a user name or password.
//
// Contract:
// - probeCandidates() lists what is tried, in order: the given settings first, then the other
//   permutations on the same host: IMAP 993/TLS, 143/STARTTLS, 143/none; POP3 995/TLS,
//   110/STLS, 110/none. With `ports` (--ports / --probe-ports), every listed port is tried
//   with each mode instead, implicit TLS first, then STARTTLS/STLS, then none. No endpoint
//   appears twice.
// - probeEndpoint() runs the attempts in that order and chooses the first usable one: it
//   worked, a login is possible there (no LOGINDISABLED, or SASL mechanisms offered), and it
//   is encrypted (TLS or STARTTLS), unless allowPlaintext. An endpoint that works only without
//   encryption is reported (plaintextOnly) but not chosen without allowPlaintext: a password
//   is never sent in clear text unless the user said so (SPEC.md section 1). Unless
//   `exhaustive`, probing stops at the chosen endpoint.
// - Every attempt is bounded: timeouts.connect for TCP (and DNS), timeouts.greeting for the
//   TLS handshake and for all of the conversation after it, and at most 1 MiB read.
// - Outcomes: kRefused, kTimeout, kDns from the connection; kTlsFailure for a failed TLS
//   handshake (its detail names the reason, e.g. "wrong version number" when TLS meets a
//   plain-text port, or the certificate problem) and for STARTTLS/STLS not offered or
//   refused; kNotThisProtocol when the greeting is not IMAP (or not POP3); kOther for
//   anything else (a BYE / -ERR greeting, a closed connection, data injected after STARTTLS).
// - Thread-safe: no shared state. onAttempt (if set) is called after each attempt, in order.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/deadline.h"
#include "net/endpoint.h"
#include "net/stream.h"
#include "probe/server_kind.h"

namespace mf::probe {

struct ProbeAttempt {
  enum Outcome { kOk, kRefused, kTimeout, kTlsFailure, kNotThisProtocol, kDns, kOther };

  net::Endpoint endpoint;
  Outcome outcome = kOther;
  std::string detail;    // why it failed; for kOk a note such as "no encryption"
  std::string greeting;  // the greeting's text (after "* OK" / "+OK", response code removed)
  std::vector<std::string> capabilities;  // the last ones seen (after TLS when used)
  std::vector<std::string> mechanisms;    // SASL mechanisms: IMAP AUTH=..., POP3 "SASL ..."
  IdFields serverId;                      // IMAP ID response fields (RFC 2971), if any
  bool loginAllowed = false;  // the server would take a login here (no LOGINDISABLED, ...)
  bool usable = false;        // set by probeEndpoint(): the rules above
  std::string tls;            // negotiated TLS ("TLSv1.3 TLS_AES_256_GCM_SHA384"); "" if plain
  double millis = 0;          // how long the attempt took
};

// "ok", "refused", "timeout", "tls_failure", "not_this_protocol", "dns", "other".
const char* outcomeName(ProbeAttempt::Outcome outcome);
// "TLS", "STARTTLS" / "STLS" (POP3), "none".
const char* securityLabel(const net::Endpoint& endpoint);

struct ProbeOptions {
  std::vector<uint16_t> ports;  // replaces the standard port list when not empty
  net::TlsOptions tls;          // serverName defaults to the host
  Timeouts timeouts{Millis(10'000), Millis(10'000), Millis(10'000)};
  bool allowPlaintext = false;
  bool exhaustive = false;  // go on after a usable endpoint was found (diagnostics)
  std::function<void(const ProbeAttempt&)> onAttempt;
};

struct ProbeResult {
  std::vector<ProbeAttempt> attempts;
  std::optional<size_t> chosen;            // index into attempts
  std::optional<size_t> plaintextOnly;     // a working unencrypted endpoint, not chosen
  ServerKind server = ServerKind::kOther;  // from the chosen (else first working) attempt

  const net::Endpoint* chosenEndpoint() const {
    return chosen ? &attempts[*chosen].endpoint : nullptr;
  }
  // The given settings (always attempts[0]) were usable.
  bool givenWorked() const { return chosen && *chosen == 0; }
};

std::vector<net::Endpoint> probeCandidates(const net::Endpoint& given,
                                           const std::vector<uint16_t>& ports);

// One attempt over the network (IMAP or POP3 by endpoint.protocol). `usable` is left false.
ProbeAttempt probeOne(const net::Endpoint& endpoint, const ProbeOptions& options);

using AttemptRunner = std::function<ProbeAttempt(const net::Endpoint&, const ProbeOptions&)>;

// `runner` defaults to probeOne; tests pass a fake.
ProbeResult probeEndpoint(const net::Endpoint& given, const ProbeOptions& options,
                          const AttemptRunner& runner = {});

// Parses "--ports 993,143,10143": ports 1-65535, comma-separated, spaces allowed, no
// duplicates. Errc::kUsage naming the bad entry otherwise.
Result<std::vector<uint16_t>> parsePortList(std::string_view text);

// "imap://alice@host:143 (STARTTLS)": the URL alone cannot tell STARTTLS from none.
std::string describeEndpoint(const net::Endpoint& endpoint);

// What to tell the user, e.g. "Use: imaps://host:993", or why nothing can be used and what
// to try. Several lines for the failure case, no trailing newline.
std::string recommendation(const ProbeResult& result);

}  // namespace mf::probe
