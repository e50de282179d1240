#include "imap/client/connection.h"

#include <algorithm>
#include <chrono>
#include <map>

#include "base/ascii.h"
#include "base/base64.h"
#include "base/log.h"
#include "imap/client/server_errors.h"
#include "net/open_endpoint.h"

namespace mf::imap {
namespace {

constexpr size_t kReadBufferSize = 256 * 1024;

}  // namespace

Connection::Connection(ConnectOptions options)
    : options_(std::move(options)), buffer_(kReadBufferSize) {}

Connection::~Connection() = default;

std::string Connection::describe() const {
  return options_.endpoint.toUrl();
}

Result<std::unique_ptr<Connection>> Connection::open(const ConnectOptions& options) {
  std::unique_ptr<Connection> conn(new Connection(options));
  MF_RETURN_IF_ERROR(conn->handshake());
  return conn;
}

Status Connection::handshake() {
  const auto& ep = options_.endpoint;
  const net::TlsOptions tls = net::tlsOptionsFor(ep, options_.tls);
  MF_ASSIGN_OR_RETURN(stream_, net::openEndpoint(ep, options_.timeouts, tls));
  encrypted_ = stream_->isTls();
  MF_RETURN_IF_ERROR(readGreeting());
  if (capabilities_.empty()) MF_RETURN_IF_ERROR(refreshCapabilities());

  if (ep.security == net::Security::kStartTls && !preauth_) {
    if (hasCapability("STARTTLS")) {
      CommandBuilder cmd(nextTag(), "STARTTLS");
      MF_ASSIGN_OR_RETURN(Response done, execute(cmd));
      if (!done.isOk()) return statusFromTagged(done, "STARTTLS");
      // Bytes after the OK but before the handshake could have been injected by anyone on
      // the path (the STARTTLS command-injection class of attacks): refuse them.
      if (!pending_.empty()) {
        return Status(Errc::kProtocol, ep.hostPort() +
                                           " sent data right after agreeing to "
                                           "STARTTLS; refusing to continue (possible injection)");
      }
      // RFC 3501 6.2.1: discard everything learned before TLS, ask again afterwards.
      Status s = stream_->startTls(tls, options_.timeouts.greeting);
      if (!s) return s.withContext("STARTTLS with " + ep.hostPort());
      encrypted_ = true;
      capabilities_.clear();
      MF_RETURN_IF_ERROR(refreshCapabilities());
    } else if (!options_.allowPlaintext) {
      return Status(Errc::kPlaintextRefused,
                    ep.hostPort() +
                        " does not offer STARTTLS, so the password would travel in clear text. "
                        "Use imaps:// (TLS on port 993) if the server supports it, or pass "
                        "--allow-plaintext to accept the risk.");
    }
  } else if (ep.security == net::Security::kNone && !options_.allowPlaintext && !preauth_) {
    return Status(Errc::kPlaintextRefused,
                  ep.hostPort() +
                      " is an unencrypted connection: refusing to send the password. "
                      "Use imaps:// or imap:// (STARTTLS), or pass --allow-plaintext.");
  }
  stream_->setReadTimeout(options_.timeouts.read);
  return Status::ok();
}

Status Connection::readGreeting() {
  MF_ASSIGN_OR_RETURN(Response greet, readResponse());
  greeting_ = greet.text;
  if (greet.type != ResponseType::kUntagged || !greet.isStatus()) {
    return Status(Errc::kProtocol, options_.endpoint.hostPort() +
                                       " did not send an IMAP greeting; is this an IMAP port?");
  }
  if (greet.status == "BYE") {
    return Status(Errc::kClosed, options_.endpoint.hostPort() +
                                     " refused the session at once: " + serverWords(greet));
  }
  if (greet.status == "PREAUTH") preauth_ = true;
  absorbCapabilityCode(greet);
  return Status::ok();
}

void Connection::absorbCapabilityCode(const Response& response) {
  if (response.code != "CAPABILITY") return;
  capabilities_.clear();
  std::string_view args = response.codeArgs;
  size_t pos = 0;
  while (pos < args.size()) {
    size_t end = args.find(' ', pos);
    if (end == std::string_view::npos) end = args.size();
    if (end > pos) capabilities_.insert(toUpperAscii(args.substr(pos, end - pos)));
    pos = end + 1;
  }
}

Status Connection::refreshCapabilities() {
  CommandBuilder cmd(nextTag(), "CAPABILITY");
  std::set<std::string> caps;
  MF_ASSIGN_OR_RETURN(Response done, execute(cmd, [&](Response& r) {
                        if (r.name == "CAPABILITY") {
                          for (const auto& v : r.values) caps.insert(toUpperAscii(v.text));
                        }
                      }));
  if (!done.isOk()) return statusFromTagged(done, "CAPABILITY");
  capabilities_ = std::move(caps);
  absorbCapabilityCode(done);
  return Status::ok();
}

bool Connection::hasCapability(std::string_view name) const {
  return capabilities_.count(toUpperAscii(name)) > 0;
}

std::string Connection::nextTag() {
  return "M" + std::to_string(++tagCounter_);
}

Status Connection::sendRaw(std::string_view bytes) {
  if (!stream_) return Status(Errc::kClosed, "connection is closed");
  return stream_->writeAll(bytes);
}

Status Connection::send(const std::vector<CommandSegment>& segments,
                        const std::function<Status(Response&)>& onOther) {
  for (const auto& seg : segments) {
    MF_RETURN_IF_ERROR(sendRaw(seg.bytes));
    if (!seg.waitForContinuation) continue;
    for (;;) {
      MF_ASSIGN_OR_RETURN(Response r, readResponse());
      if (r.type == ResponseType::kContinuation) break;
      if (!onOther) {
        return Status(Errc::kProtocol, "expected a continuation from " +
                                           options_.endpoint.hostPort() + ", got: " + r.status +
                                           " " + r.text);
      }
      MF_RETURN_IF_ERROR(onOther(r));
      // A tagged answer to the command we are sending means the literal was refused.
      if (r.type == ResponseType::kTagged && !seg.bytes.empty() &&
          seg.bytes.compare(0, r.tag.size() + 1, r.tag + " ") == 0) {
        return statusFromTagged(r, "command");
      }
    }
  }
  return Status::ok();
}

Result<ParseEvent> Connection::readEvent() {
  for (;;) {
    ParseEvent ev = parser_.next(pending_);
    if (ev.kind == ParseEvent::kError) return parser_.error();
    if (ev.kind != ParseEvent::kNeedMore) return ev;
    if (!stream_) return Status(Errc::kClosed, "connection is closed");
    MF_ASSIGN_OR_RETURN(size_t n, stream_->read(buffer_.data(), buffer_.size()));
    pending_ = std::string_view(buffer_.data(), n);
  }
}

Result<bool> Connection::readable() {
  if (!pending_.empty()) return true;
  return stream_->waitReadable(Millis(0));
}

Result<Response> Connection::readResponse() {
  for (;;) {
    MF_ASSIGN_OR_RETURN(ParseEvent ev, readEvent());
    if (ev.kind == ParseEvent::kResponse) return parser_.takeResponse();
    // Literals are collected unless a stream predicate is set; streamed data outside a
    // streaming reader is a caller bug, so drop it rather than corrupt state.
  }
}

Result<Response> Connection::execute(CommandBuilder& command, const UntaggedHandler& onUntagged) {
  std::vector<CommandSegment> segments = command.build();
  if (segments.empty()) return Status(Errc::kInternal, "empty command");
  std::string tag = segments.front().bytes.substr(0, segments.front().bytes.find(' '));
  const auto sentAt = std::chrono::steady_clock::now();
  MF_RETURN_IF_ERROR(send(segments, [&](Response& r) -> Status {
    if (r.type == ResponseType::kUntagged && onUntagged) onUntagged(r);
    return Status::ok();
  }));
  for (;;) {
    MF_ASSIGN_OR_RETURN(Response r, readResponse());
    if (r.type == ResponseType::kTagged) {
      if (r.tag != tag) continue;  // a late answer to an earlier pipelined command
      auto took = std::chrono::duration_cast<std::chrono::microseconds>(
          std::chrono::steady_clock::now() - sentAt);
      if (shortestRoundTrip_.count() == 0 || took < shortestRoundTrip_) {
        shortestRoundTrip_ = std::max(took, std::chrono::microseconds(1));
      }
      return r;
    }
    if (r.type == ResponseType::kUntagged && r.status == "BYE") {
      return statusFromServer(r, options_.endpoint.hostPort() + " session");
    }
    if (r.type == ResponseType::kUntagged && onUntagged) onUntagged(r);
  }
}

Result<std::vector<Response>> Connection::executeAll(std::vector<CommandBuilder>& commands,
                                                     size_t window,
                                                     const PipelinedUntaggedHandler& onUntagged) {
  std::vector<Response> done(commands.size());
  std::vector<bool> answered(commands.size(), false);
  std::map<std::string, size_t> waiting;  // tag -> index of a command sent, not yet answered
  size_t sent = 0, oldest = 0;
  window = std::max<size_t>(window, 1);
  const std::string session = options_.endpoint.hostPort() + " session";
  auto take = [&](Response& r) -> Status {
    if (r.type == ResponseType::kTagged) {
      auto it = waiting.find(r.tag);
      if (it == waiting.end()) return Status::ok();  // a late answer to an earlier command
      done[it->second] = std::move(r);
      answered[it->second] = true;
      waiting.erase(it);
      while (oldest < sent && answered[oldest]) ++oldest;
      return Status::ok();
    }
    if (r.type == ResponseType::kUntagged && r.status == "BYE") return statusFromServer(r, session);
    if (r.type == ResponseType::kUntagged && onUntagged) onUntagged(std::min(oldest, sent - 1), r);
    return Status::ok();
  };
  while (oldest < commands.size()) {
    // Bounded, so the server's answers never fill the socket while we are still writing.
    while (sent < commands.size() && sent - oldest < window) {
      std::vector<CommandSegment> segments = commands[sent].build();
      if (segments.empty()) return Status(Errc::kInternal, "empty command");
      waiting[segments.front().bytes.substr(0, segments.front().bytes.find(' '))] = sent;
      const size_t index = sent++;
      Status sending = send(segments, take);
      // A literal the server refused: its tagged answer is that command's completion.
      if (!sending.isOk() && !answered[index]) return sending;
    }
    if (oldest >= commands.size()) break;
    MF_ASSIGN_OR_RETURN(Response r, readResponse());
    MF_RETURN_IF_ERROR(take(r));
  }
  return done;
}

Status Connection::statusFromTagged(const Response& tagged, std::string_view what) {
  return statusFromServer(tagged, what);
}

void Connection::abandon() {
  if (!stream_) return;
  stream_->close();
  deflate_ = nullptr;
  stream_.reset();
}

void Connection::logout() {
  if (!stream_) return;
  // Best effort with a short deadline: the work is done, a slow LOGOUT must not hang us.
  stream_->setReadTimeout(Millis(500));
  CommandBuilder cmd(nextTag(), "LOGOUT");
  (void)execute(cmd);
  stream_->close();
  deflate_ = nullptr;
  stream_.reset();
}

}  // namespace mf::imap
