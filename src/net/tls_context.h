// Internal: OpenSSL contexts and the socket BIO used by TLS streams.
//
// Contract:
// - sharedTlsContext() returns a client SSL_CTX configured for `options` (TLS 1.2 or newer,
//   system CAs plus options.caFile when options.verify). Contexts are cached per
//   (verify, caFile) for the life of the process, because loading the system CA bundle for
//   every one of hundreds of connections is wasted work; the pointer stays valid forever and
//   must not be freed or modified. A CA file that cannot be loaded is Errc::kConfig naming
//   the file (not cached, so a fixed file is picked up on the next attempt).
// - newSocketBio() wraps a non-blocking socket (not owned) in a BIO that sends with
//   MSG_NOSIGNAL, so a peer that closed the connection yields EPIPE instead of a SIGPIPE
//   that would kill the process. This keeps SIGPIPE handling local to the net layer: no
//   process-wide signal disposition is needed.
// Thread-safe.
#pragma once

#include <openssl/ssl.h>

#include "base/status.h"
#include "net/stream.h"

namespace mf::net::detail {

Result<SSL_CTX*> sharedTlsContext(const TlsOptions& options);

// Returns nullptr when OpenSSL is out of memory.
BIO* newSocketBio(int fd);

// The same socket BIO behind a BIO_f_buffer of `bufferBytes` for writes: OpenSSL hands each
// TLS record (at most 16 KB) to its write BIO separately, and the buffer lets one send()
// carry several. The owner must BIO_flush() it when a write is complete.
BIO* newBufferedSocketBio(int fd, int bufferBytes);

}  // namespace mf::net::detail
