// One IMAP connection: greeting, TLS (implicit or STARTTLS), capabilities, authentication,
// and sending commands / reading responses over a net::Stream. Knows IMAP syntax, not
// migration: imap_account.h builds the access interfaces on top of it.
//
// Contract:
// - open() connects, checks the greeting, negotiates TLS per the endpoint's security and
//   refuses to go on in clear text (Errc::kPlaintextRefused) unless allowPlaintext.
// - login() logs in with the scheme chosen from what the server advertises, or the forced
//   one (connection_login.cc says which and why), then checks that the session really is
//   usable: a refusal, or a login "accepted" whose next command fails (Exchange's "User is
//   authenticated but not connected"), is Errc::kAuth with the server's words and a remedy.
//   LOGINDISABLED (RFC 3501 6.2.3) is respected. Secrets never reach a message. With
//   options.compress and a server offering COMPRESS=DEFLATE, compression starts right after
//   the login (a server that then refuses it leaves the session uncompressed, not failed).
// - execute() sends one command and reads to its tagged completion; untagged responses go
//   to the handler (or are dropped). A tagged NO/BAD is returned as a Status carrying the
//   server's text (kServerNo / kServerBad). A BYE or EOF is kClosed.
// - executeAll() pipelines commands without streamed literals (a window of them in flight).
// - For pipelining, send() and readEvent() are exposed; the caller then owns tag matching.
// - shortestRoundTrip(): the quickest execute() seen, send to tagged completion: how far the
//   server is (about 0.1 ms on loopback, the network's round trip over a WAN).
// Threading: one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/deadline.h"
#include "base/secret.h"
#include "base/status.h"
#include "imap/client/login_format.h"
#include "imap/wire/command_builder.h"
#include "imap/wire/response_parser.h"
#include "net/deflate_stream.h"
#include "net/endpoint.h"
#include "net/stream.h"

namespace mf::imap {

struct ConnectOptions {
  net::Endpoint endpoint;
  net::TlsOptions tls;
  bool allowPlaintext = false;
  Timeouts timeouts;
  std::string forceMechanism;  // "" = choose; else a sasl::parseScheme() name ("CRAM-MD5")
  // After login, turn on COMPRESS=DEFLATE (RFC 4978) if the server offers it.
  bool compress = false;
};

// Who logs in, and with what. Exactly one of password, oauthToken, admin is normally used:
// an admin login needs neither the user's password nor a token.
struct Credentials {
  std::string user;     // the mailbox's user name
  Secret password;      // the user's own password
  std::string authzid;  // AUTHENTICATE PLAIN authorization identity (RFC 4616), "" = none
  Secret oauthToken;    // access token for XOAUTH2 / OAUTHBEARER
  std::string admin;    // admin (master) user; "" = log in as the user
  Secret adminPassword;
  LoginFormat loginFormat;  // how user and admin combine (login_format.h)
  std::string adminDomain;  // {domain} when the user has no @domain
  std::string side;         // "from" / "to": only to name the options in messages
};

using UntaggedHandler = std::function<void(Response&)>;

class Connection {
 public:
  static Result<std::unique_ptr<Connection>> open(const ConnectOptions& options);
  ~Connection();

  Status login(const Credentials& credentials);
  Status login(const std::string& user, const Secret& password);  // the user's own password
  // How the last successful login was done ("AUTHENTICATE PLAIN as 'alice'"), for reports.
  const std::string& loginDescription() const { return loginDescription_; }

  // Sends the command and waits for its tagged completion.
  Result<Response> execute(CommandBuilder& command, const UntaggedHandler& onUntagged = {});

  // Sends `commands` pipelined, at most `window` unanswered at a time, and returns the tagged
  // completion of each, in order. An untagged response goes to `onUntagged` with the index of
  // the oldest command still unanswered (the one a server that answers in order is working
  // on). A BYE or EOF fails the whole call; a NO or BAD is just that command's completion.
  using PipelinedUntaggedHandler = std::function<void(size_t oldest, Response&)>;
  Result<std::vector<Response>> executeAll(std::vector<CommandBuilder>& commands, size_t window,
                                           const PipelinedUntaggedHandler& onUntagged = {});
  // The shortest execute() round trip so far; zero before the first.
  std::chrono::microseconds shortestRoundTrip() const { return shortestRoundTrip_; }
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
  void setStreamPredicate(StreamPredicate predicate) {
    parser_.setStreamPredicate(std::move(predicate));
  }

  // Turns a tagged NO/BAD into a Status with the server's words. `what` names the command.
  static Status statusFromTagged(const Response& tagged, std::string_view what);

  // True once COMPRESS=DEFLATE is on.
  bool compressed() const { return deflate_ != nullptr; }

  void logout();
  // Closes the socket without a word: for a session left in the middle of a command (an
  // unfinished APPEND literal would otherwise swallow our LOGOUT as message bytes).
  void abandon();
  std::string describe() const;  // "imaps://alice@host:993"

  uint64_t bytesRead() const { return stream_ ? stream_->bytesRead() : 0; }

 private:
  explicit Connection(ConnectOptions options);
  Status handshake();
  Status readGreeting();
  Status refreshCapabilities();
  void absorbCapabilityCode(const Response& response);
  Result<Response> readResponse();  // next complete response (no streaming expected)
  // Login steps, in connection_login.cc.
  struct LoginPlan;
  Result<LoginPlan> planLogin(const Credentials& credentials) const;
  Status runLogin(const LoginPlan& plan);
  Status authenticate(const LoginPlan& plan);
  Status loginCommand(const LoginPlan& plan, std::string_view user, const Secret& password);
  Status answerOneChallenge(const LoginPlan& plan, const std::string& tag,
                            const std::function<std::string(const Response&)>& answer);
  Status kerioMasterAuth(const LoginPlan& plan);
  Status groupWiseTrustedApp(const LoginPlan& plan);
  Status checkSession(const LoginPlan& plan);
  Status startCompression();
  Status refused(const LoginPlan& plan, const Response& answer) const;
  Result<Response> executeSecret(CommandBuilder& command);  // wipes the command bytes
  std::string offeredMechanisms() const;
  // A tagged OK carrying [CAPABILITY ...] (RFC 3501 7.1) replaces ours; true if it did.
  bool absorbLoginCapabilities(const Response& done);

  ConnectOptions options_;
  std::unique_ptr<net::Stream> stream_;
  net::DeflateStream* deflate_ = nullptr;  // stream_ itself, once COMPRESS is on
  ResponseParser parser_;
  std::vector<char> buffer_;
  std::string_view pending_;
  std::set<std::string> capabilities_;  // upper-cased
  std::string greeting_;
  bool preauth_ = false;
  bool encrypted_ = false;  // TLS is on (implicit or after STARTTLS)
  bool capabilitiesFromLogin_ = false;
  std::chrono::microseconds shortestRoundTrip_{0};
  std::string loginDescription_;
  uint64_t tagCounter_ = 0;
};

}  // namespace mf::imap
