// One IMAP connection: greeting, TLS (implicit or STARTTLS), capabilities, authentication,
// and sending commands / reading responses over a net::Stream. Knows IMAP syntax, not
// migration: imap_account.h builds the access interfaces on top of it.
//
// Contract:
// - open() connects, checks the greeting, negotiates TLS per the endpoint's security and
//   refuses to go on in clear text (Errc::kPlaintextRefused) unless allowPlaintext.
// - login() picks the best mechanism the server offers (AUTHENTICATE PLAIN, else LOGIN),
//   or the forced one; a refusal is Errc::kAuth with the server's text and a remedy.
// - execute() sends one command and reads to its tagged completion; untagged responses go
//   to the handler (or are dropped). A tagged NO/BAD is returned as a Status carrying the
//   server's text (kServerNo / kServerBad). A BYE or EOF is kClosed.
// - For pipelining, send() and readEvent() are exposed; the caller then owns tag matching.
// Threading: one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/deadline.h"
#include "base/secret.h"
#include "base/status.h"
#include "imap/wire/command_builder.h"
#include "imap/wire/response_parser.h"
#include "net/endpoint.h"
#include "net/stream.h"

namespace mf::imap {

struct ConnectOptions {
  net::Endpoint endpoint;
  net::TlsOptions tls;
  bool allowPlaintext = false;
  Timeouts timeouts;
  std::string forceMechanism;  // "", "LOGIN", "PLAIN"
};

using UntaggedHandler = std::function<void(Response&)>;

class Connection {
 public:
  static Result<std::unique_ptr<Connection>> open(const ConnectOptions& options);
  ~Connection();

  Status login(const std::string& user, const Secret& password);

  // Sends the command and waits for its tagged completion.
  Result<Response> execute(CommandBuilder& command, const UntaggedHandler& onUntagged = {});

  // A fresh tag ("A1", "A2", ...).
  std::string nextTag();
  bool hasCapability(std::string_view name) const;  // case-insensitive, e.g. "LITERAL+"
  const std::set<std::string>& capabilities() const { return capabilities_; }
  const std::string& greeting() const { return greeting_; }
  bool literalPlus() const { return hasCapability("LITERAL+"); }
  const ConnectOptions& options() const { return options_; }

  // Low level, for pipelining and streaming.
  // Sends segments; waits for a continuation after each synchronizing literal header,
  // handing other responses read meanwhile to `onOther` (may be empty: then they are an error).
  Status send(const std::vector<CommandSegment>& segments,
              const std::function<Status(Response&)>& onOther = {});
  Status sendRaw(std::string_view bytes);
  // Reads the next parser event, reading from the socket as needed. Literal data views
  // stay valid until the next call.
  Result<ParseEvent> readEvent();
  // True if a complete event can be produced without blocking (data buffered or readable).
  Result<bool> readable();
  ResponseParser& parser() { return parser_; }
  void setStreamPredicate(StreamPredicate predicate) { parser_.setStreamPredicate(std::move(predicate)); }

  // Turns a tagged NO/BAD into a Status with the server's words. `what` names the command.
  static Status statusFromTagged(const Response& tagged, std::string_view what);

  void logout();
  std::string describe() const;  // "imaps://alice@host:993"

  uint64_t bytesRead() const { return stream_ ? stream_->bytesRead() : 0; }

 private:
  explicit Connection(ConnectOptions options);
  Status handshake();
  Status readGreeting();
  Status refreshCapabilities();
  void absorbCapabilityCode(const Response& response);
  Result<Response> readResponse();  // next complete response (no streaming expected)
  Status authenticatePlain(const std::string& user, const Secret& password);
  Status loginCommand(const std::string& user, const Secret& password);

  ConnectOptions options_;
  std::unique_ptr<net::Stream> stream_;
  ResponseParser parser_;
  std::vector<char> buffer_;
  std::string_view pending_;
  std::set<std::string> capabilities_;  // upper-cased
  std::string greeting_;
  bool preauth_ = false;
  uint64_t tagCounter_ = 0;
};

}  // namespace mf::imap
