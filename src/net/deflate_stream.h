// A Stream that compresses what it writes and decompresses what it reads with raw DEFLATE
// (RFC 1951, no zlib or gzip framing): the IMAP COMPRESS=DEFLATE extension (RFC 4978), which
// applies to every byte after the server's OK to "COMPRESS DEFLATE", in both directions.
//
// Contract:
// - wrapDeflate() takes over the connected (and, if wanted, already TLS) inner stream.
//   `alreadyRead` holds bytes the caller read from the inner stream after the OK: they are
//   compressed already and are inflated first, so nothing the server sent is lost.
// - writeAll() compresses `data` and ends with a sync flush (Z_SYNC_FLUSH), so the server can
//   decompress every byte written so far: what IMAP needs (the server answers each command),
//   and cheap because callers write in large coalesced chunks. Each call is one deflate pass.
// - read() returns decompressed bytes; it reads the inner stream only when the inflater has
//   nothing left. Corrupt input is Errc::kProtocol naming the peer; the inner stream's errors
//   (kClosed, kTimeout, kTls...) pass through unchanged.
// - waitReadable() is true at once while decompressed or not yet inflated bytes are held.
// - startTls() is refused (kInternal): RFC 4978 forbids STARTTLS after COMPRESS.
// - bytesRead()/bytesWritten() count the bytes on the wire (the inner stream's);
//   plainBytesRead()/plainBytesWritten() the bytes before compression, for the compression
//   ratio.
// Fuzzed by deflate_stream_fuzz.cc (corrupt, truncated and split input; round trips).
// Limits: one inflate step produces at most one read buffer's worth; memory is the zlib state
// (~300 KB for both directions at the level used) plus two 64 KB buffers, whatever the traffic.
#pragma once

#include <memory>
#include <string_view>

#include "net/stream.h"

namespace mf::net {

class DeflateStream : public Stream {
 public:
  virtual uint64_t plainBytesRead() const = 0;
  virtual uint64_t plainBytesWritten() const = 0;
};

// `level` is zlib's 1 (fastest) .. 9 (smallest); mailferry uses 1: attachments are mostly
// compressed already, and text shrinks almost as much at level 1 (docs/performance.md).
Result<std::unique_ptr<DeflateStream>> wrapDeflate(std::unique_ptr<Stream> inner,
                                                   std::string_view alreadyRead, int level,
                                                   std::string peer);

}  // namespace mf::net
