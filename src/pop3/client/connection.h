// One POP3 connection: greeting, TLS (implicit for pop3s://, STLS for pop3://), CAPA,
// authentication, and sending commands / reading replies over a net::Stream. Knows POP3
// syntax, not migration: pop3_account.h builds the MailSource on top of it.
//
// Contract:
// - open() connects, reads the greeting (RFC 1939 section 4), asks CAPA (RFC 2449) and
//   negotiates TLS per the endpoint's security: implicit TLS before the greeting for
//   Security::kTls; STLS (RFC 2595 section 4) for kStartTls, after which CAPA is asked again.
//   Going on in clear text is refused (Errc::kPlaintextRefused) unless allowPlaintext. Bytes
//   that arrive after "+OK" to STLS but before the handshake are refused (kProtocol): they
//   could have been injected by anyone on the path.
// - login() picks, unless forceMechanism says otherwise: AUTH PLAIN (RFC 5034) when CAPA
//   lists "SASL ... PLAIN", else APOP (RFC 1939 section 7) when the greeting carries a
//   timestamp, else USER/PASS. A refusal is Errc::kAuth with the server's words and what to
//   do; [IN-USE], [LOGIN-DELAY] and [SYS/TEMP] (RFC 2449 section 8, RFC 3206) are not wrong
//   passwords but retryable server states (kServerNo, class kRetry). CAPA is asked again
//   after the login, since capabilities may change with it (RFC 2449 section 5).
// - Commands go through pop3::Command, so CR/LF/NUL in arguments and the verb DELE are
//   refused before anything is sent: mailferry never deletes from a POP3 source. send()
//   checks again right before the bytes leave (defence in depth).
// - send() queues a command and the shape of its reply (pipelining: several may be queued;
//   they are written together when a reply is read or flush() is called). readEvent() hands
//   out the reply parser's events in order. simple() and listing() are the one-at-a-time
//   conveniences.
// - A failure that may leave a reply half-read (I/O error, parser error) marks the
//   connection broken(): it only closes, never sends QUIT.
// - close() sends QUIT when the session is clean (connected, nothing pending, not broken):
//   RFC 1939 section 6: QUIT enters the UPDATE state, which removes messages marked with
//   DELE, and mailferry never marks any. Then it closes the socket.
// - Secrets: PASS / APOP / AUTH lines are wiped from the write buffer once sent; passwords
//   never appear in a Status message.
// Threading: one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/deadline.h"
#include "base/secret.h"
#include "base/status.h"
#include "net/endpoint.h"
#include "net/stream.h"
#include "pop3/wire/command.h"
#include "pop3/wire/reply_parser.h"

namespace mf::pop3 {

struct ConnectOptions {
  net::Endpoint endpoint;  // protocol kPop3; security kTls (pop3s), kStartTls (pop3), kNone
  net::TlsOptions tls;
  bool allowPlaintext = false;
  Timeouts timeouts;
  // "" = choose; "PLAIN" (AUTH PLAIN), "APOP", "USER" (USER/PASS); case-insensitive.
  std::string forceMechanism;
  ReplyLimits limits;
};

struct Credentials {
  std::string user;
  Secret password;
  // AUTH PLAIN authorization identity (RFC 4616): log in as `user` with `password` and act
  // as `authzid` (master users). "" = none. Needs AUTH PLAIN.
  std::string authzid;
};

class Connection {
 public:
  static Result<std::unique_ptr<Connection>> open(const ConnectOptions& options);
  ~Connection();  // close()
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  Status login(const Credentials& credentials);
  // "AUTH PLAIN as 'alice'", "APOP as 'alice'", "USER/PASS as 'alice'", for reports.
  const std::string& loginDescription() const { return loginDescription_; }

  // CAPA keywords (RFC 2449 section 6), upper-cased: "TOP", "UIDL", "PIPELINING", "STLS"...
  bool hasCapability(std::string_view keyword) const;
  bool capaKnown() const { return capaKnown_; }  // false if CAPA was refused
  const std::set<std::string>& saslMechanisms() const { return sasl_; }
  const std::string& greeting() const { return greeting_; }

  // Queues `command` (sent at the next readEvent() or flush()) and expects a reply of
  // `shape`. Fails without sending for a command Command::build() refuses.
  Status send(const Command& command, ReplyShape shape, bool secret = false);
  Status flush();
  // The next event of the replies in order; kError never comes out (it is a Status).
  Result<ReplyEvent> readEvent();
  const StatusLine& status() const { return parser_.status(); }
  size_t pending() const { return parser_.pending(); }

  // One command, one single-line reply. A -ERR reply is returned (not an error): the caller
  // decides what it means.
  Result<StatusLine> simple(const Command& command, bool secret = false);
  // One command with a multi-line reply; onLine gets each line after +OK. A -ERR is
  // returned like simple().
  Result<StatusLine> listing(const Command& command,
                             const std::function<Status(std::string_view)>& onLine);

  bool broken() const { return broken_; }
  void close();
  std::string describe() const;  // "pop3s://alice@host:995"
  std::string hostPort() const { return options_.endpoint.hostPort(); }
  uint64_t bytesRead() const { return stream_ ? stream_->bytesRead() : 0; }
  std::string tlsDescription() const { return stream_ ? stream_->tlsDescription() : ""; }

 private:
  explicit Connection(ConnectOptions options);
  Status handshake();
  Status readGreeting();
  Status refreshCapabilities();
  Result<StatusLine> readSingleReply();
  Status fail(Status status);  // marks broken
  Status loginUserPass(const Credentials& c);
  Status loginApop(const Credentials& c, const std::string& timestamp);
  Status loginPlain(const Credentials& c);
  Status refused(const Credentials& c, std::string_view how, const StatusLine& reply) const;

  ConnectOptions options_;
  std::unique_ptr<net::Stream> stream_;
  ReplyParser parser_;
  std::vector<char> buffer_;
  std::string_view unread_;  // bytes read from the socket, not yet given to the parser
  std::string out_;          // queued commands
  bool outSecret_ = false;   // out_ holds a password: wipe it after sending
  std::set<std::string> capabilities_;
  std::set<std::string> sasl_;
  bool capaKnown_ = false;
  std::string greeting_;
  std::string loginDescription_;
  bool broken_ = false;
};

}  // namespace mf::pop3
