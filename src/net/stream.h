// Byte streams over TCP, optionally wrapped in TLS (implicit or upgraded by STARTTLS/STLS).
//
// Contract:
// - connectTcp() resolves the host (IPv4 and IPv6, tries each address in turn) and connects
//   within timeouts.connect. Errors are specific: Errc::kDns (name does not resolve),
//   kRefused (nothing listens on the port), kUnreachable, kTimeout; each message names
//   host:port and says what to check.
// - Stream::startTls() performs a TLS handshake on the open connection (used both for
//   implicit TLS right after connect and for STARTTLS). With options.verify the certificate
//   is checked against the system CAs plus options.caFile, and the host name (or IP
//   address) against the certificate, with SNI set for names. A failure is Errc::kTls and
//   names the certificate problem (e.g. "self-signed certificate", "certificate has
//   expired", "hostname mismatch") and the remedy (--ca-file or --insecure).
// - read() blocks at most the current read timeout and returns the bytes available (at
//   least 1), or kClosed on orderly EOF, kTimeout when the timeout passes, kIo/kTls on errors.
// - writeAll() writes every byte or fails (kTimeout after the read timeout without progress).
// - waitReadable(0) lets a pipelining caller check without blocking whether a read would
//   return data (including bytes already buffered inside TLS).
// - A Stream is used by one thread at a time. The destructor closes the socket.
//
// Details that callers may rely on:
// - connectTcp(): one deadline (timeouts.connect) covers name resolution and all addresses;
//   resolution runs on a short-lived helper thread because getaddrinfo() has no timeout.
//   The stream's initial read timeout is timeouts.read. Only the port is taken from the
//   caller; host may be a name, an IPv4 literal or an IPv6 literal (brackets optional).
// - connectTcp() failures: kDns "cannot resolve host 'x': ... Check the host name.";
//   kRefused "connection refused by host:port: nothing is listening there. ...";
//   kTimeout "no answer from host:port within 15 s (connect timeout): ..."; kUnreachable.
// - SIGPIPE: never raised by this layer (send() with MSG_NOSIGNAL, and TLS writes go through
//   a socket BIO that does the same), so no process-wide signal setup is needed.
// - startTls(): the caller must have consumed every plain-text byte the server sent before
//   the TLS handshake (and should treat leftover buffered bytes after the STARTTLS reply as
//   a protocol error: they could be injected by an attacker, CVE-2011-0411 style). If the
//   handshake fails, the stream is closed (later calls return kClosed). TLS 1.2 or newer.
//   A CA file that cannot be loaded is Errc::kConfig naming the file.
// - EOF is kClosed "connection closed by server host:port", also for a TLS peer that closes
//   without close_notify (IMAP/POP3 framing detects truncation on its own) and for a reset.
// - After a fatal TLS error every later read/write returns the same error.
// - read() with capacity 0 is kInternal; any call after close() is kClosed.
// - waitReadable() on TLS processes records without application data (TLS 1.3 session
//   tickets) instead of reporting them as readable, so read() after true does not block.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/deadline.h"
#include "base/status.h"

namespace mf::net {

struct TlsOptions {
  bool verify = true;      // false only with an explicit --insecure
  std::string caFile;      // extra trusted CA bundle (PEM); empty = system CAs only
  std::string serverName;  // name to verify and send as SNI; defaults to the host
};

class Stream {
 public:
  virtual ~Stream() = default;

  virtual Result<size_t> read(char* buffer, size_t capacity) = 0;
  virtual Status writeAll(std::string_view data) = 0;
  // Returns true if data can be read now (or within `wait`), false on timeout.
  virtual Result<bool> waitReadable(Millis wait) = 0;

  virtual Status startTls(const TlsOptions& options, Millis handshakeTimeout) = 0;
  virtual bool isTls() const = 0;
  // Description of the negotiated TLS session ("TLSv1.3 TLS_AES_256_GCM_SHA384"), empty if plain.
  virtual std::string tlsDescription() const = 0;

  virtual void setReadTimeout(Millis timeout) = 0;
  virtual void close() = 0;

  // Bytes moved since creation, for progress and benchmarks.
  virtual uint64_t bytesRead() const = 0;
  virtual uint64_t bytesWritten() const = 0;
};

// Connects a plain TCP stream; call startTls() on it for implicit TLS.
Result<std::unique_ptr<Stream>> connectTcp(const std::string& host, uint16_t port,
                                           const Timeouts& timeouts);

}  // namespace mf::net
