// libFuzzer target for DeflateStream's reading side (net/deflate_stream.h): whatever a server
// sends after COMPRESS=DEFLATE (corrupt, truncated, a deflate bomb, split anywhere) must end
// in bytes or a clean error, never a crash or an overread, and read() never returns more than
// the capacity asked for.
//
// Input: byte 0 picks the chunk size the wire delivers, byte 1 how much of the rest arrived
// together with the server's OK (the `alreadyRead` bytes), the remainder is the wire. With the
// top bit of byte 0 set, the remainder is first deflated with zlib (sync flush, as Dovecot
// sends), so valid streams are explored too, not only the corrupt ones random bytes make.
#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "net/deflate_stream.h"

namespace {

using mf::Millis;
using mf::Result;
using mf::Status;

// The wire: hands out `wire` in chunks of at most `chunk` bytes, then reports EOF.
class WireStream final : public mf::net::Stream {
 public:
  WireStream(std::string wire, size_t chunk) : wire_(std::move(wire)), chunk_(chunk) {}
  Result<size_t> read(char* buffer, size_t capacity) override {
    if (at_ >= wire_.size()) return Status(mf::Errc::kClosed, "connection closed by peer");
    size_t n = std::min({capacity, chunk_, wire_.size() - at_});
    wire_.copy(buffer, n, at_);
    at_ += n;
    return n;
  }
  Status writeAll(std::string_view) override { return Status::ok(); }
  Result<bool> waitReadable(Millis) override { return at_ < wire_.size(); }
  Status startTls(const mf::net::TlsOptions&, Millis) override { return Status::ok(); }
  bool isTls() const override { return false; }
  std::string tlsDescription() const override { return ""; }
  void setReadTimeout(Millis) override {}
  void close() override {}
  uint64_t bytesRead() const override { return at_; }
  uint64_t bytesWritten() const override { return 0; }

 private:
  std::string wire_;
  size_t chunk_;
  size_t at_ = 0;
};

std::string deflateRaw(const std::string& plain) {
  z_stream z{};
  if (deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
  std::string out;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  z.avail_in = static_cast<uInt>(plain.size());
  char buf[4096];
  do {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    if (deflate(&z, Z_SYNC_FLUSH) == Z_STREAM_ERROR) std::abort();
    out.append(buf, sizeof buf - z.avail_out);
  } while (z.avail_out == 0);
  deflateEnd(&z);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const bool compressFirst = (data[0] & 0x80) != 0;
  const size_t chunk = 1 + (data[0] & 0x7f) * 97;
  const std::string plain(reinterpret_cast<const char*>(data + 2), size - 2);
  const std::string wire = compressFirst ? deflateRaw(plain) : plain;
  const size_t early = std::min<size_t>(wire.size(), data[1] * 3);
  auto stream = mf::net::wrapDeflate(std::make_unique<WireStream>(wire.substr(early), chunk),
                                     std::string_view(wire).substr(0, early), 1, "fuzz peer");
  if (!stream) return 0;
  // A bomb inflates about 1,000:1: stop well before that becomes slow.
  constexpr size_t kMaxInflated = 8u << 20;
  std::string out;
  size_t total = 0;
  char buffer[65536];
  const size_t capacities[] = {1, 7, 4096, sizeof buffer};
  for (size_t i = 0; total < kMaxInflated; ++i) {
    const size_t capacity = capacities[i % 4];
    auto n = (*stream)->read(buffer, capacity);
    if (!n) break;  // corrupt input, or the end of the wire: a clean error either way
    if (*n == 0 || *n > capacity) std::abort();  // read() returns 1..capacity bytes
    total += *n;
    if (compressFirst) out.append(buffer, *n);
  }
  // What zlib deflated comes back exactly, however the wire was split.
  if (compressFirst && out != plain) std::abort();
  return 0;
}
