// One POP3 probe attempt: greeting, CAPA (RFC 2449), STLS (RFC 2595 section 4), CAPA again,
// QUIT. Never USER/PASS/APOP/AUTH.
#include <algorithm>

#include "base/ascii.h"
#include "probe/attempt_io.h"
#include "probe/pop3_reply.h"

namespace mf::probe::detail {
namespace {

class Pop3Talk {
 public:
  Pop3Talk(net::Stream& stream, Deadline deadline) : io_(stream, deadline) {}
  AttemptIo& io() { return io_; }

  // Reads one reply; `command` (with CRLF) is sent first unless empty.
  Status exchange(std::string_view command, bool multiLine) {
    if (!command.empty()) MF_RETURN_IF_ERROR(io_.write(command));
    reader_.start(multiLine);
    for (;;) {
      std::string_view in = io_.pending();
      if (!in.empty()) {
        Pop3ReplyReader::Event event = reader_.feed(in);
        io_.consumeTo(in);
        if (event == Pop3ReplyReader::Event::kDone) return Status::ok();
        if (event == Pop3ReplyReader::Event::kError) return reader_.error();
      }
      MF_RETURN_IF_ERROR(io_.readMore());
    }
  }
  const Pop3ReplyReader& reply() const { return reader_; }

 private:
  AttemptIo io_;
  Pop3ReplyReader reader_;
};

bool hasCapability(const ProbeAttempt& attempt, std::string_view name) {
  return std::any_of(
      attempt.capabilities.begin(), attempt.capabilities.end(), [&](const std::string& line) {
        return equalsIgnoreCase(std::string_view(line).substr(0, line.find(' ')), name);
      });
}

// CAPA; false when the server does not know it (RFC 2449 is optional: old servers answer
// -ERR, and then nothing is known about them).
Result<bool> askCapa(Pop3Talk& talk, ProbeAttempt& attempt) {
  MF_RETURN_IF_ERROR(talk.exchange("CAPA\r\n", true));
  attempt.capabilities.clear();
  if (!talk.reply().ok()) return false;
  attempt.capabilities = talk.reply().lines();
  return true;
}

void finishCapabilities(ProbeAttempt& attempt, bool capaKnown) {
  attempt.mechanisms.clear();
  for (const std::string& line : attempt.capabilities) {
    // RFC 2449 section 6.3: "SASL PLAIN LOGIN ...".
    if (!startsWithIgnoreCase(line, "SASL ")) continue;
    std::string_view rest(line);
    rest.remove_prefix(5);
    while (!rest.empty()) {
      size_t end = rest.find(' ');
      std::string_view word = rest.substr(0, end);
      if (!word.empty()) attempt.mechanisms.push_back(toUpperAscii(word));
      if (end == std::string_view::npos) break;
      rest.remove_prefix(end + 1);
    }
  }
  // RFC 2449 section 6.8: USER means USER/PASS is accepted. A server without CAPA is assumed
  // to take USER/PASS (RFC 1939), as every client does.
  attempt.loginAllowed =
      !capaKnown || hasCapability(attempt, "USER") || !attempt.mechanisms.empty();
}

}  // namespace

ProbeAttempt probePop3(const net::Endpoint& endpoint, const ProbeOptions& options) {
  ProbeAttempt attempt;
  attempt.endpoint = endpoint;
  std::unique_ptr<net::Stream> stream = openStream(endpoint, options, attempt);
  if (!stream) return attempt;
  Pop3Talk talk(*stream, Deadline(options.timeouts.greeting));
  const std::string hostPort = endpoint.hostPort();

  Status status = talk.exchange({}, false);
  if (!status) {
    if (status.code() == Errc::kTimeout) {
      attempt.outcome = ProbeAttempt::kTimeout;
      attempt.detail = "no POP3 greeting from " + hostPort + " in time" +
                       (endpoint.security == net::Security::kTls
                            ? ""
                            : ": the port may expect TLS first (pop3s) or speak something else");
    } else if (status.code() == Errc::kProtocol || status.code() == Errc::kLimit) {
      attempt.outcome = ProbeAttempt::kNotThisProtocol;
      attempt.detail = hostPort + " did not send a POP3 greeting (it sent \"" +
                       excerpt(talk.io().head()) + "\"): is this a POP3 port?";
    } else {
      failAttempt(attempt, status, "waiting for the POP3 greeting");
    }
    return attempt;
  }
  attempt.greeting = talk.reply().text();
  if (!talk.reply().ok()) {
    attempt.outcome = ProbeAttempt::kOther;
    attempt.detail = hostPort + " refused the session at once: " + talk.reply().text();
    return attempt;
  }

  auto capa = askCapa(talk, attempt);
  if (!capa) {
    failAttempt(attempt, capa.status(), "CAPA");
    return attempt;
  }
  bool capaKnown = *capa;

  if (endpoint.security == net::Security::kStartTls) {
    if (capaKnown && !hasCapability(attempt, "STLS")) {
      attempt.outcome = ProbeAttempt::kTlsFailure;
      attempt.detail = hostPort + " does not offer STLS";
      return attempt;
    }
    status = talk.exchange("STLS\r\n", false);
    if (!status) {
      failAttempt(attempt, status, "STLS");
      return attempt;
    }
    if (!talk.reply().ok()) {
      attempt.outcome = ProbeAttempt::kTlsFailure;
      attempt.detail = hostPort + " refused STLS: " + talk.reply().text();
      return attempt;
    }
    // Data before the handshake could have been injected on the path (CVE-2011-0411 class).
    if (!talk.io().pending().empty()) {
      attempt.outcome = ProbeAttempt::kOther;
      attempt.detail = hostPort +
                       " sent data right after agreeing to STLS; refusing to go "
                       "on (possible injection)";
      return attempt;
    }
    if (!upgradeStream(*stream, endpoint, options, talk.io().remaining(), attempt)) {
      attempt.detail = "STLS: " + attempt.detail;
      return attempt;
    }
    // RFC 2595 section 4: the capabilities may change after TLS; ask again.
    capa = askCapa(talk, attempt);
    if (!capa) {
      failAttempt(attempt, capa.status(), "CAPA after STLS");
      return attempt;
    }
    capaKnown = *capa;
  }

  finishCapabilities(attempt, capaKnown);
  attempt.outcome = ProbeAttempt::kOk;
  if (!attempt.loginAllowed) {
    attempt.detail = "the server takes no login here (neither USER nor SASL in CAPA)";
  } else if (endpoint.security == net::Security::kNone) {
    attempt.detail = "works without encryption: a password would travel in clear text";
  }
  talk.io().limit(Millis(1000));
  (void)talk.exchange("QUIT\r\n", false);
  return attempt;
}

}  // namespace mf::probe::detail
