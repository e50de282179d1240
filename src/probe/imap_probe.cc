// One IMAP probe attempt: greeting, CAPABILITY, STARTTLS, CAPABILITY again, ID, LOGOUT.
// Responses are read with the IMAP response parser (imap/wire), never by hand.
#include <algorithm>

#include "base/ascii.h"
#include "imap/wire/command_builder.h"
#include "imap/wire/response_parser.h"
#include "probe/attempt_io.h"

namespace mf::probe::detail {
namespace {

// Nothing a server says before login needs more; anything bigger is not worth reading.
imap::ParserLimits probeLimits() {
  imap::ParserLimits limits;
  limits.maxLineLength = 64 * 1024;
  limits.maxInlineLiteral = 64 * 1024;
  limits.maxLiteral = 64 * 1024;
  limits.maxNesting = 8;
  limits.maxValuesPerResponse = 4096;
  limits.maxResponseBytes = 256 * 1024;
  return limits;
}

constexpr size_t kMaxResponsesPerCommand = 1000;

std::string serverWords(const imap::Response& r) {
  std::string words;
  if (!r.code.empty()) {
    words += "[" + r.code;
    if (!r.codeArgs.empty()) words += " " + r.codeArgs;
    words += "] ";
  }
  return words + r.text;
}

std::vector<std::string> splitAtoms(std::string_view text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    if (end > pos) out.emplace_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

class ImapTalk {
 public:
  ImapTalk(net::Stream& stream, Deadline deadline, const net::Endpoint& endpoint)
      : io_(stream, deadline), parser_(probeLimits()), hostPort_(endpoint.hostPort()) {}

  AttemptIo& io() { return io_; }

  Result<imap::Response> next() {
    for (;;) {
      std::string_view in = io_.pending();
      if (!in.empty()) {
        imap::ParseEvent event = parser_.next(in);
        io_.consumeTo(in);
        if (event.kind == imap::ParseEvent::kResponse) return parser_.takeResponse();
        if (event.kind == imap::ParseEvent::kError) return parser_.error();
        if (event.kind != imap::ParseEvent::kNeedMore) {
          // No stream predicate is set, so literals are never streamed.
          return Status(Errc::kInternal, "unexpected literal event while probing");
        }
      }
      MF_RETURN_IF_ERROR(io_.readMore());
    }
  }

  // Sends `command` and collects its untagged responses until the tagged one.
  Result<imap::Response> execute(imap::CommandBuilder& command, const std::string& tag,
                                 std::vector<imap::Response>& untagged) {
    for (const imap::CommandSegment& segment : command.build()) {
      // Probe commands have no literals, so there is never a continuation to wait for.
      MF_RETURN_IF_ERROR(io_.write(segment.bytes));
    }
    for (size_t n = 0; n < kMaxResponsesPerCommand; ++n) {
      MF_ASSIGN_OR_RETURN(imap::Response response, next());
      if (response.type == imap::ResponseType::kTagged && response.tag == tag) return response;
      if (response.type == imap::ResponseType::kUntagged && response.status == "BYE") {
        return Status(Errc::kClosed, hostPort_ + " closed the session: " + serverWords(response));
      }
      untagged.push_back(std::move(response));
    }
    return Status(Errc::kLimit, hostPort_ + " sent more than " +
                                    std::to_string(kMaxResponsesPerCommand) +
                                    " responses to one command");
  }

  // After STARTTLS: the parser starts afresh on the TLS layer.
  void resetParser() { parser_ = imap::ResponseParser(probeLimits()); }

  std::string nextTag() { return "P" + std::to_string(++tags_); }

 private:
  AttemptIo io_;
  imap::ResponseParser parser_;
  std::string hostPort_;
  int tags_ = 0;
};

void setCapabilities(ProbeAttempt& attempt, std::vector<std::string> caps) {
  attempt.capabilities = std::move(caps);
}

bool hasCapability(const ProbeAttempt& attempt, std::string_view name) {
  return std::any_of(attempt.capabilities.begin(), attempt.capabilities.end(),
                     [&](const std::string& c) { return equalsIgnoreCase(c, name); });
}

Status refreshCapabilities(ImapTalk& talk, ProbeAttempt& attempt) {
  std::string tag = talk.nextTag();
  imap::CommandBuilder command(tag, "CAPABILITY");
  std::vector<imap::Response> untagged;
  MF_ASSIGN_OR_RETURN(imap::Response done, talk.execute(command, tag, untagged));
  if (!done.isOk()) {
    return Status(Errc::kProtocol, "CAPABILITY was refused: " + serverWords(done));
  }
  std::vector<std::string> caps;
  for (const imap::Response& r : untagged) {
    if (r.name != "CAPABILITY") continue;
    for (const imap::Value& v : r.values) caps.emplace_back(v.asText());
  }
  // RFC 3501 7.1: a tagged OK may carry the capabilities as a response code instead.
  if (caps.empty() && done.code == "CAPABILITY") caps = splitAtoms(done.codeArgs);
  setCapabilities(attempt, std::move(caps));
  return Status::ok();
}

// RFC 2971: "ID (name value ...)" or "ID NIL". Not fatal when refused.
void askId(ImapTalk& talk, ProbeAttempt& attempt) {
  std::string tag = talk.nextTag();
  imap::CommandBuilder command(tag, "ID");
  // RFC 2971 section 4: the field names and values are strings, never atoms.
  command.openList();
  for (const char* item : {"name", "mailferry", "version", "0.1.0"}) command.quotedOrLiteral(item);
  command.closeList();
  std::vector<imap::Response> untagged;
  auto done = talk.execute(command, tag, untagged);
  if (!done) return;
  for (const imap::Response& r : untagged) {
    if (r.name != "ID" || r.values.empty() || r.values[0].kind != imap::Value::Kind::kList) {
      continue;
    }
    const auto& items = r.values[0].items;
    for (size_t i = 0; i + 1 < items.size(); i += 2) {
      attempt.serverId.emplace_back(std::string(items[i].asText()),
                                    std::string(items[i + 1].asText()));
    }
  }
}

void finishCapabilities(ProbeAttempt& attempt, bool preauth) {
  attempt.mechanisms.clear();
  for (const std::string& cap : attempt.capabilities) {
    if (cap.size() > 5 && startsWithIgnoreCase(cap, "AUTH=")) {
      attempt.mechanisms.push_back(toUpperAscii(std::string_view(cap).substr(5)));
    }
  }
  // RFC 3501 6.2.3: LOGINDISABLED forbids LOGIN; AUTHENTICATE with an offered mechanism may
  // still work (RFC 3501 6.2.2).
  attempt.loginAllowed =
      preauth || !hasCapability(attempt, "LOGINDISABLED") || !attempt.mechanisms.empty();
}

// Sends LOGOUT and waits briefly for its answer; the outcome does not matter any more.
void logout(ImapTalk& talk) {
  std::string tag = talk.nextTag();
  imap::CommandBuilder command(tag, "LOGOUT");
  std::vector<imap::Response> untagged;
  talk.io().limit(Millis(1000));
  (void)talk.execute(command, tag, untagged);
}

}  // namespace

ProbeAttempt probeImap(const net::Endpoint& endpoint, const ProbeOptions& options) {
  ProbeAttempt attempt;
  attempt.endpoint = endpoint;
  std::unique_ptr<net::Stream> stream = openStream(endpoint, options, attempt);
  if (!stream) return attempt;
  ImapTalk talk(*stream, Deadline(options.timeouts.greeting), endpoint);
  const std::string hostPort = endpoint.hostPort();

  auto greeting = talk.next();
  if (!greeting) {
    const Status& s = greeting.status();
    if (s.code() == Errc::kTimeout) {
      attempt.outcome = ProbeAttempt::kTimeout;
      attempt.detail = "no IMAP greeting from " + hostPort + " in time" +
                       (endpoint.security == net::Security::kTls
                            ? ""
                            : ": the port may expect TLS first (imaps) or speak something else");
    } else if (s.code() == Errc::kProtocol || s.code() == Errc::kLimit) {
      attempt.outcome = ProbeAttempt::kNotThisProtocol;
      attempt.detail = hostPort + " did not send an IMAP greeting (it sent \"" +
                       excerpt(talk.io().head()) + "\"): " + s.message();
    } else {
      failAttempt(attempt, s, "waiting for the IMAP greeting");
    }
    return attempt;
  }
  const imap::Response& greet = *greeting;
  if (greet.type != imap::ResponseType::kUntagged ||
      (greet.status != "OK" && greet.status != "PREAUTH" && greet.status != "BYE")) {
    attempt.outcome = ProbeAttempt::kNotThisProtocol;
    attempt.detail = hostPort + " did not send an IMAP greeting (it sent \"" +
                     excerpt(talk.io().head()) + "\"): is this an IMAP port?";
    return attempt;
  }
  attempt.greeting = greet.text;
  if (greet.status == "BYE") {
    attempt.outcome = ProbeAttempt::kOther;
    attempt.detail = hostPort + " refused the session at once: " + serverWords(greet);
    return attempt;
  }
  const bool preauth = greet.status == "PREAUTH";
  if (greet.code == "CAPABILITY") setCapabilities(attempt, splitAtoms(greet.codeArgs));

  Status status = attempt.capabilities.empty() ? refreshCapabilities(talk, attempt) : Status();
  if (!status) {
    failAttempt(attempt, status, "CAPABILITY");
    return attempt;
  }

  if (endpoint.security == net::Security::kStartTls) {
    if (preauth) {
      // RFC 3501 6.2.1: STARTTLS is only valid before authentication.
      attempt.outcome = ProbeAttempt::kTlsFailure;
      attempt.detail = hostPort +
                       " pre-authenticated the session (PREAUTH), so STARTTLS "
                       "cannot be used";
      return attempt;
    }
    if (!hasCapability(attempt, "STARTTLS")) {
      attempt.outcome = ProbeAttempt::kTlsFailure;
      attempt.detail = hostPort + " does not offer STARTTLS";
      return attempt;
    }
    std::string tag = talk.nextTag();
    imap::CommandBuilder command(tag, "STARTTLS");
    std::vector<imap::Response> untagged;
    auto done = talk.execute(command, tag, untagged);
    if (!done) {
      failAttempt(attempt, done.status(), "STARTTLS");
      return attempt;
    }
    if (!done->isOk()) {
      attempt.outcome = ProbeAttempt::kTlsFailure;
      attempt.detail = hostPort + " refused STARTTLS: " + serverWords(*done);
      return attempt;
    }
    // Bytes after the OK but before the handshake could have been injected by anyone on the
    // path (CVE-2011-0411 class): refuse them, as the client does.
    if (!talk.io().pending().empty()) {
      attempt.outcome = ProbeAttempt::kOther;
      attempt.detail = hostPort +
                       " sent data right after agreeing to STARTTLS; refusing to "
                       "go on (possible injection)";
      return attempt;
    }
    if (!upgradeStream(*stream, endpoint, options, talk.io().remaining(), attempt)) {
      attempt.detail = "STARTTLS: " + attempt.detail;
      return attempt;
    }
    talk.resetParser();
    // RFC 3501 6.2.1: forget the capabilities learned before TLS and ask again.
    attempt.capabilities.clear();
    status = refreshCapabilities(talk, attempt);
    if (!status) {
      failAttempt(attempt, status, "CAPABILITY after STARTTLS");
      return attempt;
    }
  }

  if (hasCapability(attempt, "ID")) askId(talk, attempt);
  finishCapabilities(attempt, preauth);
  attempt.outcome = ProbeAttempt::kOk;
  if (!attempt.loginAllowed) {
    attempt.detail = "the server takes no login here (LOGINDISABLED and no AUTH= mechanism)";
  } else if (endpoint.security == net::Security::kNone) {
    attempt.detail = "works without encryption: a password would travel in clear text";
  }
  logout(talk);
  return attempt;
}

}  // namespace mf::probe::detail
