// bench: a bare IMAP session for raw_limit — connect, greeting, LOGIN, commands, parser events.
//
// This is deliberately not imap/client: the raw limit must measure what the wire and the
// servers allow, without mailferry's session logic. It still uses the project's net streams,
// response parser and quoting command builder, so it speaks correct IMAP.
//
// Contract:
// - open() connects to host:port (plain, or implicit TLS when tls.has_value()), reads the
//   greeting and returns a session ready for login(). Errors name host:port.
// - login() sends LOGIN with quoted (or literal) arguments, then CAPABILITY.
// - run() sends one command and reads to its tagged completion; untagged responses go to the
//   handler. A tagged NO/BAD is Errc::kServerNo/kServerBad with the server's text.
// - next() returns the next parser event, reading as needed; before a read that would block
//   it calls `beforeBlock` (raw_limit flushes its output there). Literal data views stay valid
//   until the next call.
// - write() sends bytes as they are (the caller builds them with CommandBuilder).
// One thread at a time; the session owns its stream.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/deadline.h"
#include "base/secret.h"
#include "base/status.h"
#include "imap/wire/command_builder.h"
#include "imap/wire/response_parser.h"
#include "net/stream.h"

namespace mf::bench {

class RawSession {
 public:
  static Result<std::unique_ptr<RawSession>> open(const std::string& host, uint16_t port,
                                                  const std::optional<net::TlsOptions>& tls,
                                                  const Timeouts& timeouts);

  Status login(const std::string& user, const Secret& password);
  Result<imap::Response> run(imap::CommandBuilder& command,
                             const std::function<void(imap::Response&)>& onUntagged = {});
  Result<imap::ParseEvent> next(const std::function<Status()>& beforeBlock = {});
  // True when next() can produce something without blocking (buffered or readable now).
  Result<bool> readable();
  Status write(std::string_view bytes) { return stream_->writeAll(bytes); }
  std::string nextTag() { return "R" + std::to_string(++tags_); }
  bool hasCapability(std::string_view upper) const;
  imap::ResponseParser& parser() { return parser_; }
  const std::string& name() const { return name_; }
  void logout();

 private:
  RawSession(std::unique_ptr<net::Stream> stream, std::string name);
  Status sendSegments(const std::vector<imap::CommandSegment>& segments);
  void absorbCapabilities(const imap::Response& r);

  std::unique_ptr<net::Stream> stream_;
  std::string name_;  // "host:port", for messages
  imap::ResponseParser parser_;
  std::vector<char> buffer_;
  std::string_view pending_;
  std::set<std::string> caps_;
  uint64_t tags_ = 0;
};

// "NO [CODE] text" of a tagged answer, for messages.
std::string describeAnswer(const imap::Response& r);

}  // namespace mf::bench
