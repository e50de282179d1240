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
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/deadline.h"
#include "base/status.h"

namespace mf::net {

struct TlsOptions {
  bool verify = true;          // false only with an explicit --insecure
  std::string caFile;          // extra trusted CA bundle (PEM); empty = system CAs only
  std::string serverName;      // name to verify and send as SNI; defaults to the host
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
