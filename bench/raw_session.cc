// bench: bare IMAP session; the contract is in raw_session.h.
#include "bench/raw_session.h"

#include <algorithm>
#include <cctype>
#include <utility>

namespace mf::bench {
namespace {

constexpr size_t kReadBufferSize = 256 * 1024;

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string describeAnswer(const imap::Response& r) {
  std::string out = r.status;
  if (!r.code.empty()) out += " [" + r.code + (r.codeArgs.empty() ? "" : " " + r.codeArgs) + "]";
  if (!r.text.empty()) out += " " + r.text;
  return out;
}

RawSession::RawSession(std::unique_ptr<net::Stream> stream, std::string name)
    : stream_(std::move(stream)), name_(std::move(name)), buffer_(kReadBufferSize) {}

Result<std::unique_ptr<RawSession>> RawSession::open(const std::string& host, uint16_t port,
                                                     const std::optional<net::TlsOptions>& tls,
                                                     const Timeouts& timeouts) {
  MF_ASSIGN_OR_RETURN(auto stream, net::connectTcp(host, port, timeouts));
  if (tls) MF_RETURN_IF_ERROR(stream->startTls(*tls, timeouts.greeting));
  std::unique_ptr<RawSession> s(
      new RawSession(std::move(stream), host + ":" + std::to_string(port)));
  for (;;) {
    MF_ASSIGN_OR_RETURN(imap::ParseEvent ev, s->next());
    if (ev.kind != imap::ParseEvent::kResponse) continue;
    imap::Response greeting = s->parser_.takeResponse();
    if (greeting.status != "OK") {
      return Status(Errc::kProtocol, s->name_ + " greeted with '" + describeAnswer(greeting) +
                                         "' instead of OK; is it an IMAP server?");
    }
    s->absorbCapabilities(greeting);
    return s;
  }
}

void RawSession::absorbCapabilities(const imap::Response& r) {
  if (r.code == "CAPABILITY") {
    caps_.clear();
    std::string args = r.codeArgs;
    size_t at = 0;
    while (at < args.size()) {
      size_t end = args.find(' ', at);
      if (end == std::string::npos) end = args.size();
      if (end > at) caps_.insert(upper(args.substr(at, end - at)));
      at = end + 1;
    }
  } else if (r.name == "CAPABILITY") {
    caps_.clear();
    for (const auto& v : r.values) caps_.insert(upper(v.text));
  }
}

bool RawSession::hasCapability(std::string_view name) const {
  return caps_.count(upper(name)) != 0;
}

Result<imap::ParseEvent> RawSession::next(const std::function<Status()>& beforeBlock) {
  for (;;) {
    imap::ParseEvent ev = parser_.next(pending_);
    if (ev.kind == imap::ParseEvent::kError) return parser_.error().withContext(name_);
    if (ev.kind != imap::ParseEvent::kNeedMore) return ev;
    if (beforeBlock) {
      MF_ASSIGN_OR_RETURN(bool now, stream_->waitReadable(Millis(0)));
      if (!now) MF_RETURN_IF_ERROR(beforeBlock());
    }
    MF_ASSIGN_OR_RETURN(size_t n, stream_->read(buffer_.data(), buffer_.size()));
    pending_ = std::string_view(buffer_.data(), n);
  }
}

Result<bool> RawSession::readable() {
  if (!pending_.empty()) return true;
  return stream_->waitReadable(Millis(0));
}

Status RawSession::sendSegments(const std::vector<imap::CommandSegment>& segments) {
  for (const auto& seg : segments) {
    MF_RETURN_IF_ERROR(stream_->writeAll(seg.bytes));
    if (!seg.waitForContinuation) continue;
    // RFC 3501 section 7.5: a synchronizing literal waits for "+".
    for (;;) {
      MF_ASSIGN_OR_RETURN(imap::ParseEvent ev, next());
      if (ev.kind != imap::ParseEvent::kResponse) continue;
      imap::Response r = parser_.takeResponse();
      if (r.type == imap::ResponseType::kContinuation) break;
      if (r.type == imap::ResponseType::kTagged) {
        return Status(Errc::kServerNo, name_ + " refused a literal: " + describeAnswer(r));
      }
    }
  }
  return Status::ok();
}

Result<imap::Response> RawSession::run(imap::CommandBuilder& command,
                                       const std::function<void(imap::Response&)>& onUntagged) {
  std::vector<imap::CommandSegment> segments = command.build();
  std::string tag = segments.front().bytes.substr(0, segments.front().bytes.find(' '));
  MF_RETURN_IF_ERROR(sendSegments(segments));
  for (;;) {
    MF_ASSIGN_OR_RETURN(imap::ParseEvent ev, next());
    if (ev.kind != imap::ParseEvent::kResponse) continue;
    imap::Response r = parser_.takeResponse();
    absorbCapabilities(r);
    if (r.type == imap::ResponseType::kTagged && r.tag == tag) {
      if (r.status == "OK") return r;
      return Status(r.status == "BAD" ? Errc::kServerBad : Errc::kServerNo,
                    name_ + ": " + describeAnswer(r));
    }
    if (r.type == imap::ResponseType::kUntagged && r.status == "BYE") {
      return Status(Errc::kClosed, name_ + " closed the session: " + describeAnswer(r));
    }
    if (r.type == imap::ResponseType::kUntagged && onUntagged) onUntagged(r);
  }
}

Status RawSession::login(const std::string& user, const Secret& password) {
  imap::CommandBuilder cmd(nextTag(), "LOGIN");
  cmd.astring(user);
  cmd.quotedOrLiteral(password.reveal());
  auto done = run(cmd);
  if (!done) {
    // The server's answer never contains the password; ours must not either.
    return Status(Errc::kAuth,
                  "login as '" + user + "' at " + name_ + " failed: " + done.status().message());
  }
  imap::CommandBuilder caps(nextTag(), "CAPABILITY");
  return run(caps).status();
}

void RawSession::logout() {
  imap::CommandBuilder cmd(nextTag(), "LOGOUT");
  (void)run(cmd);
  stream_->close();
}

}  // namespace mf::bench
