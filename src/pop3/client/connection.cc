#include "pop3/client/connection.h"

#include <algorithm>

#include "base/ascii.h"
#include "net/open_endpoint.h"
#include "pop3/wire/auth.h"

namespace mf::pop3 {
namespace {

constexpr size_t kReadBufferSize = 256 * 1024;
// QUIT is a courtesy once the work is done: do not let a slow server hold us up.
constexpr Millis kQuitTimeout{2000};

void wipe(std::string& s) {
  std::fill(s.begin(), s.end(), '\0');
  s.clear();
}

// Defence in depth: whatever built it, no line starting with DELE leaves this process.
bool startsWithDele(std::string_view bytes) {
  size_t pos = 0;
  while (pos < bytes.size()) {
    std::string_view line = bytes.substr(pos);
    if (line.size() >= 4 && Command::isForbidden(line.substr(0, 4)) &&
        (line.size() == 4 || line[4] == ' ' || line[4] == '\r' || line[4] == '\n')) {
      return true;
    }
    size_t lf = bytes.find('\n', pos);
    if (lf == std::string_view::npos) break;
    pos = lf + 1;
  }
  return false;
}

}  // namespace

Connection::Connection(ConnectOptions options)
    : options_(std::move(options)), parser_(options_.limits), buffer_(kReadBufferSize) {}

Connection::~Connection() {
  close();
}

std::string Connection::describe() const {
  return options_.endpoint.toUrl();
}

Result<std::unique_ptr<Connection>> Connection::open(const ConnectOptions& options) {
  std::unique_ptr<Connection> conn(new Connection(options));
  MF_RETURN_IF_ERROR(conn->handshake());
  return conn;
}

Status Connection::fail(Status status) {
  broken_ = true;
  return status;
}

Status Connection::handshake() {
  const auto& ep = options_.endpoint;
  const net::TlsOptions tls = net::tlsOptionsFor(ep, options_.tls);
  MF_ASSIGN_OR_RETURN(stream_, net::openEndpoint(ep, options_.timeouts, tls));
  MF_RETURN_IF_ERROR(readGreeting());
  MF_RETURN_IF_ERROR(refreshCapabilities());

  if (ep.security == net::Security::kStartTls) {
    // Without CAPA we cannot know; asking costs one round trip and a -ERR.
    bool offered = !capaKnown_ || hasCapability("STLS");
    bool upgraded = false;
    if (offered) {
      MF_ASSIGN_OR_RETURN(StatusLine reply, simple(Command("STLS")));
      if (reply.isOk()) {
        if (!unread_.empty()) {
          return fail(Status(Errc::kProtocol,
                             ep.hostPort() + " sent data right after agreeing to STLS; refusing "
                                             "to continue (possible injection)"));
        }
        Status s = stream_->startTls(tls, options_.timeouts.greeting);
        if (!s) return fail(s.withContext("STLS with " + ep.hostPort()));
        // RFC 2595 section 4: forget what was learned before TLS, ask again.
        MF_RETURN_IF_ERROR(refreshCapabilities());
        upgraded = true;
      }
    }
    if (!upgraded && !options_.allowPlaintext) {
      return Status(Errc::kPlaintextRefused,
                    ep.hostPort() +
                        " does not offer STLS, so the password would travel in clear text. Use "
                        "pop3s:// (TLS on port 995) if the server supports it, or pass "
                        "--allow-plaintext to accept the risk.");
    }
  } else if (ep.security == net::Security::kNone && !options_.allowPlaintext) {
    return Status(Errc::kPlaintextRefused,
                  ep.hostPort() +
                      " is an unencrypted connection: refusing to send the password. Use "
                      "pop3s:// or pop3:// (STLS), or pass --allow-plaintext.");
  }
  stream_->setReadTimeout(options_.timeouts.read);
  return Status::ok();
}

Status Connection::readGreeting() {
  parser_.expect(ReplyShape::kSingleLine);
  auto greet = readSingleReply();
  if (!greet) {
    if (greet.status().code() == Errc::kProtocol) {
      return Status(Errc::kProtocol, options_.endpoint.hostPort() +
                                         " did not send a POP3 greeting; is this a POP3 port? (" +
                                         greet.status().message() + ")");
    }
    return greet.status();
  }
  if (!greet->isOk()) {
    return fail(Status(Errc::kClosed, options_.endpoint.hostPort() +
                                          " refused the session at once: " + greet->words()));
  }
  greeting_ = greet->text;
  return Status::ok();
}

Status Connection::refreshCapabilities() {
  std::set<std::string> caps, sasl;
  MF_ASSIGN_OR_RETURN(StatusLine reply, listing(Command("CAPA"), [&](std::string_view line) {
                        size_t space = line.find(' ');
                        std::string keyword = toUpperAscii(line.substr(0, space));
                        if (keyword.empty()) return Status::ok();
                        caps.insert(keyword);
                        if (keyword == "SASL" && space != std::string_view::npos) {
                          std::string_view rest = line.substr(space + 1);
                          size_t pos = 0;
                          while (pos < rest.size()) {
                            size_t end = rest.find(' ', pos);
                            if (end == std::string_view::npos) end = rest.size();
                            if (end > pos) sasl.insert(toUpperAscii(rest.substr(pos, end - pos)));
                            pos = end + 1;
                          }
                        }
                        return Status::ok();
                      }));
  // RFC 2449 section 5: a server without CAPA answers -ERR; we then know nothing and try.
  capaKnown_ = reply.isOk();
  capabilities_ = std::move(caps);
  sasl_ = std::move(sasl);
  return Status::ok();
}

bool Connection::hasCapability(std::string_view keyword) const {
  return capabilities_.count(toUpperAscii(keyword)) > 0;
}

Status Connection::send(const Command& command, ReplyShape shape, bool secret) {
  if (broken_ || !stream_) return Status(Errc::kClosed, "the POP3 connection is closed");
  MF_ASSIGN_OR_RETURN(std::string line, command.build());
  if (startsWithDele(line)) {
    wipe(line);
    return Status(Errc::kInternal,
                  "refusing to send DELE: mailferry never deletes anything from a POP3 source");
  }
  out_ += line;
  if (secret) {
    outSecret_ = true;
    wipe(line);
  }
  parser_.expect(shape);
  return Status::ok();
}

Status Connection::flush() {
  if (out_.empty()) return Status::ok();
  if (!stream_) return Status(Errc::kClosed, "the POP3 connection is closed");
  Status s = stream_->writeAll(out_);
  if (outSecret_) {
    wipe(out_);
    outSecret_ = false;
  } else {
    out_.clear();
  }
  if (!s) return fail(s);
  return Status::ok();
}

Result<ReplyEvent> Connection::readEvent() {
  MF_RETURN_IF_ERROR(flush());
  for (;;) {
    ReplyEvent ev = parser_.next(unread_);
    if (ev.kind == ReplyEvent::kError) {
      return fail(parser_.error().withContext("reading from " + options_.endpoint.hostPort()));
    }
    if (ev.kind != ReplyEvent::kNeedMore) return ev;
    if (!stream_) return Status(Errc::kClosed, "the POP3 connection is closed");
    auto n = stream_->read(buffer_.data(), buffer_.size());
    if (!n) return fail(n.status());
    unread_ = std::string_view(buffer_.data(), *n);
  }
}

Result<StatusLine> Connection::readSingleReply() {
  StatusLine line;
  for (;;) {
    MF_ASSIGN_OR_RETURN(ReplyEvent ev, readEvent());
    if (ev.kind == ReplyEvent::kStatus) line = parser_.status();
    if (ev.kind == ReplyEvent::kEnd) return line;
  }
}

Result<StatusLine> Connection::simple(const Command& command, bool secret) {
  MF_RETURN_IF_ERROR(send(command, ReplyShape::kSingleLine, secret));
  return readSingleReply();
}

Result<StatusLine> Connection::listing(const Command& command,
                                       const std::function<Status(std::string_view)>& onLine) {
  MF_RETURN_IF_ERROR(send(command, ReplyShape::kMultiLine));
  StatusLine line;
  Status handlerError;
  for (;;) {
    MF_ASSIGN_OR_RETURN(ReplyEvent ev, readEvent());
    if (ev.kind == ReplyEvent::kStatus) line = parser_.status();
    // After a handler error the rest of the listing is still read, so the session stays
    // in step; the error is returned at the end.
    if (ev.kind == ReplyEvent::kLine && handlerError.isOk()) handlerError = onLine(ev.data);
    if (ev.kind == ReplyEvent::kEnd) {
      if (!handlerError.isOk()) return handlerError;
      return line;
    }
  }
}

Status Connection::login(const Credentials& c) {
  std::string mech = toUpperAscii(options_.forceMechanism);
  if (mech == "AUTH PLAIN" || mech == "SASL-PLAIN") mech = "PLAIN";
  if (mech == "USER/PASS") mech = "USER";
  std::optional<std::string> timestamp = apopTimestamp(greeting_);
  if (mech.empty()) {
    if (sasl_.count("PLAIN") || !c.authzid.empty()) {
      mech = "PLAIN";
    } else if (timestamp) {
      mech = "APOP";
    } else {
      mech = "USER";
    }
  }
  if (!c.authzid.empty() && mech != "PLAIN") {
    return Status(Errc::kConfig, "an authorization identity needs AUTH PLAIN, not " + mech);
  }
  if (mech == "PLAIN") return loginPlain(c);
  if (mech == "APOP") {
    if (!timestamp) {
      return Status(Errc::kConfig, hostPort() +
                                       " cannot do APOP: its greeting carries no timestamp. "
                                       "Choose another authentication mechanism.");
    }
    return loginApop(c, *timestamp);
  }
  if (mech == "USER") return loginUserPass(c);
  return Status(Errc::kUsage, "unsupported POP3 authentication mechanism '" + mech +
                                  "' (supported: PLAIN, APOP, USER)");
}

Status Connection::refused(const Credentials& c, std::string_view how,
                           const StatusLine& reply) const {
  const std::string who = "'" + c.user + "' at " + hostPort();
  // RFC 2449 section 8 and RFC 3206: these codes say the credentials may well be right.
  if (reply.code == "IN-USE") {
    return Status(Errc::kServerNo, ErrorClass::kRetry,
                  "the mailbox of " + who + " is in use by another POP3 session (" + reply.words() +
                      "); try again once that session has ended");
  }
  if (reply.code == "LOGIN-DELAY") {
    return Status(
        Errc::kServerNo, ErrorClass::kRetry,
        who + " may not log in again this soon (" + reply.words() + "); wait and try again");
  }
  if (reply.code == "SYS/TEMP") {
    return Status(Errc::kServerNo, ErrorClass::kRetry,
                  "login as " + who + " failed for a temporary server reason (" + reply.words() +
                      "); try again later");
  }
  if (reply.code == "SYS/PERM") {
    return Status(Errc::kServerNo, ErrorClass::kSource,
                  "login as " + who + " failed for a server-side reason (" + reply.words() +
                      "); ask the server's administrator");
  }
  std::string words = reply.words();
  if (words.empty() || words.back() != '.') words += '.';
  return Status(Errc::kAuth, "login as " + who + " was refused (" + std::string(how) +
                                 "): " + words + " Check the user name and password.");
}

Status Connection::loginUserPass(const Credentials& c) {
  MF_ASSIGN_OR_RETURN(StatusLine user, simple(Command("USER").arg(c.user)));
  if (!user.isOk()) return refused(c, "USER/PASS", user);
  MF_ASSIGN_OR_RETURN(StatusLine pass,
                      simple(Command("PASS").trailing(c.password.reveal()), /*secret=*/true));
  if (!pass.isOk()) return refused(c, "USER/PASS", pass);
  loginDescription_ = "USER/PASS as '" + c.user + "'";
  return refreshCapabilities();
}

Status Connection::loginApop(const Credentials& c, const std::string& timestamp) {
  MF_ASSIGN_OR_RETURN(std::string digest, apopDigest(timestamp, c.password));
  MF_ASSIGN_OR_RETURN(StatusLine reply, simple(Command("APOP").arg(c.user).arg(digest), true));
  if (!reply.isOk()) return refused(c, "APOP", reply);
  loginDescription_ = "APOP as '" + c.user + "'";
  return refreshCapabilities();
}

Status Connection::loginPlain(const Credentials& c) {
  // RFC 4616: authzid = the identity to act as; authcid = who proves it. With an authzid
  // the given user is the one whose password this is (a master user).
  std::string encoded = c.authzid.empty() ? saslPlainResponse("", c.user, c.password)
                                          : saslPlainResponse(c.authzid, c.user, c.password);
  // RFC 5034 section 4: the initial response may go on the AUTH line if the line stays
  // within 255 octets; otherwise wait for the server's "+" and send it alone.
  const bool initial = std::string("AUTH PLAIN ").size() + encoded.size() + 2 <= kMaxCommandLength;
  Command auth("AUTH");
  auth.arg("PLAIN");
  if (initial) auth.arg(encoded.empty() ? "=" : encoded);
  auto first = simple(auth, /*secret=*/true);
  if (!first) {
    wipe(encoded);
    return first.status();
  }
  StatusLine reply = *first;
  if (reply.kind == StatusLine::kContinuation) {
    auto line = saslResponseLine(initial ? "*" : encoded);
    wipe(encoded);
    if (!line) return line.status();
    out_ += *line;
    outSecret_ = true;
    wipe(*line);
    parser_.expect(ReplyShape::kSingleLine);
    MF_ASSIGN_OR_RETURN(reply, readSingleReply());
  }
  wipe(encoded);
  if (!reply.isOk()) return refused(c, "AUTH PLAIN", reply);
  loginDescription_ = "AUTH PLAIN as '" + c.user + "'";
  if (!c.authzid.empty()) loginDescription_ += " for '" + c.authzid + "'";
  return refreshCapabilities();
}

void Connection::close() {
  if (!stream_) return;
  if (!broken_ && parser_.pending() == 0) {
    stream_->setReadTimeout(kQuitTimeout);
    (void)simple(Command("QUIT"));
  }
  stream_->close();
  stream_.reset();
}

}  // namespace mf::pop3
