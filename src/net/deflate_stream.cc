// Raw DEFLATE over another Stream (contract in deflate_stream.h).
//
// Reading keeps two buffers: `compressed_` (wire bytes not yet inflated) and `plain_`
// (inflated bytes not yet handed out). read() and waitReadable() both go through
// inflateSome(), so waitReadable() can tell whether a read would really produce data: a
// packet holding only a sync-flush marker inflates to nothing and must not count as readable.
#include "net/deflate_stream.h"

#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

namespace mf::net {
namespace {

constexpr size_t kChunk = 64 * 1024;
// zlib counts in 32-bit uInt: larger writes go through in pieces of this size.
constexpr size_t kMaxDeflateInput = 1u << 30;

class DeflateStreamImpl final : public DeflateStream {
 public:
  DeflateStreamImpl(std::unique_ptr<Stream> inner, std::string peer)
      : inner_(std::move(inner)), peer_(std::move(peer)), wire_(kChunk), deflated_(kChunk) {}
  ~DeflateStreamImpl() override {
    if (deflateReady_) deflateEnd(&out_);
    if (inflateReady_) inflateEnd(&in_);
  }
  DeflateStreamImpl(const DeflateStreamImpl&) = delete;
  DeflateStreamImpl& operator=(const DeflateStreamImpl&) = delete;

  Status init(std::string_view alreadyRead, int level) {
    // Negative window bits: raw DEFLATE without zlib header or checksum (RFC 4978 section 4).
    if (deflateInit2(&out_, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      return Status(Errc::kInternal, "cannot set up DEFLATE compression (zlib)");
    }
    deflateReady_ = true;
    if (inflateInit2(&in_, -15) != Z_OK) {
      return Status(Errc::kInternal, "cannot set up DEFLATE decompression (zlib)");
    }
    inflateReady_ = true;
    compressed_.assign(alreadyRead.data(), alreadyRead.size());
    return Status::ok();
  }

  Result<size_t> read(char* buffer, size_t capacity) override {
    if (capacity == 0) return Status(Errc::kInternal, "read with capacity 0");
    for (;;) {
      if (plainPos_ < plain_.size()) {
        size_t n = std::min(capacity, plain_.size() - plainPos_);
        std::copy_n(plain_.data() + plainPos_, n, buffer);
        plainPos_ += n;
        return n;
      }
      if (inflatable()) {
        MF_RETURN_IF_ERROR(inflateSome());
        continue;
      }
      MF_RETURN_IF_ERROR(readWire());
    }
  }

  Status writeAll(std::string_view data) override {
    do {
      std::string_view piece = data.substr(0, std::min(data.size(), kMaxDeflateInput));
      data.remove_prefix(piece.size());
      out_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(piece.data()));
      out_.avail_in = static_cast<uInt>(piece.size());
      // Sync flush after the last piece: the server must be able to read the whole command.
      const int flush = data.empty() ? Z_SYNC_FLUSH : Z_NO_FLUSH;
      do {
        out_.next_out = reinterpret_cast<Bytef*>(deflated_.data());
        out_.avail_out = static_cast<uInt>(deflated_.size());
        int rc = deflate(&out_, flush);
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
          return Status(Errc::kInternal,
                        "DEFLATE compression failed (zlib " + std::to_string(rc) + ")");
        }
        size_t produced = deflated_.size() - out_.avail_out;
        if (produced > 0) MF_RETURN_IF_ERROR(inner_->writeAll({deflated_.data(), produced}));
      } while (out_.avail_out == 0 || out_.avail_in > 0);
      plainWritten_ += piece.size();
    } while (!data.empty());
    return Status::ok();
  }

  Result<bool> waitReadable(Millis wait) override {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    for (;;) {
      if (plainPos_ < plain_.size()) return true;
      if (inflatable()) {
        MF_RETURN_IF_ERROR(inflateSome());
        continue;
      }
      auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
      MF_ASSIGN_OR_RETURN(bool ready, inner_->waitReadable(std::max(left, Millis(0))));
      if (!ready) return false;
      MF_RETURN_IF_ERROR(readWire());
    }
  }

  Status startTls(const TlsOptions&, Millis) override {
    return Status(Errc::kInternal, "STARTTLS after COMPRESS is not allowed (RFC 4978)");
  }
  bool isTls() const override { return inner_->isTls(); }
  std::string tlsDescription() const override { return inner_->tlsDescription(); }
  void setReadTimeout(Millis timeout) override { inner_->setReadTimeout(timeout); }
  void close() override { inner_->close(); }
  uint64_t bytesRead() const override { return inner_->bytesRead(); }
  uint64_t bytesWritten() const override { return inner_->bytesWritten(); }
  uint64_t plainBytesRead() const override { return plainRead_; }
  uint64_t plainBytesWritten() const override { return plainWritten_; }

 private:
  // True if inflate() may produce bytes without reading the wire: input is held, or the last
  // call filled its output and zlib may hold more.
  bool inflatable() const { return compressedPos_ < compressed_.size() || outputWasFull_; }

  // Inflates held input into plain_ (which the callers have drained).
  Status inflateSome() {
    if (ended_ && compressedPos_ < compressed_.size()) {
      return Status(Errc::kProtocol, peer_ +
                                         " sent data after ending its compressed stream "
                                         "(COMPRESS=DEFLATE)");
    }
    plain_.resize(kChunk);
    plainPos_ = 0;
    const size_t held = compressed_.size() - compressedPos_;
    in_.next_in = reinterpret_cast<Bytef*>(compressed_.data() + compressedPos_);
    in_.avail_in = static_cast<uInt>(held);
    in_.next_out = reinterpret_cast<Bytef*>(plain_.data());
    in_.avail_out = static_cast<uInt>(plain_.size());
    int rc = inflate(&in_, Z_SYNC_FLUSH);
    const size_t consumed = held - in_.avail_in;
    const size_t produced = plain_.size() - in_.avail_out;
    plain_.resize(produced);
    plainRead_ += produced;
    compressedPos_ += consumed;
    if (compressedPos_ == compressed_.size()) {
      compressed_.clear();
      compressedPos_ = 0;
    }
    outputWasFull_ = in_.avail_out == 0;
    if (rc == Z_STREAM_END) {
      ended_ = true;
      outputWasFull_ = false;
    } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
      return Status(Errc::kProtocol,
                    peer_ + " sent corrupt compressed data (COMPRESS=DEFLATE): " +
                        (in_.msg != nullptr ? in_.msg : "zlib error " + std::to_string(rc)));
    }
    if (consumed == 0 && produced == 0 && compressedPos_ < compressed_.size()) {
      // zlib made no progress with input in hand: it will not on the next call either.
      return Status(Errc::kProtocol, peer_ +
                                         " sent compressed data that cannot be decoded "
                                         "(COMPRESS=DEFLATE)");
    }
    return Status::ok();
  }

  Status readWire() {
    if (ended_) {
      return Status(Errc::kClosed,
                    "connection closed by " + peer_ + " (it ended its compressed stream)");
    }
    MF_ASSIGN_OR_RETURN(size_t n, inner_->read(wire_.data(), wire_.size()));
    compressed_.append(wire_.data(), n);
    return Status::ok();
  }

  std::unique_ptr<Stream> inner_;
  std::string peer_;
  z_stream out_{};
  z_stream in_{};
  bool deflateReady_ = false;
  bool inflateReady_ = false;
  std::vector<char> wire_;      // one inner read
  std::vector<char> deflated_;  // one deflate output step
  std::string compressed_;      // wire bytes not inflated yet, from compressedPos_
  size_t compressedPos_ = 0;
  std::string plain_;  // inflated bytes not handed out yet, from plainPos_
  size_t plainPos_ = 0;
  bool outputWasFull_ = false;
  bool ended_ = false;
  uint64_t plainRead_ = 0;
  uint64_t plainWritten_ = 0;
};

}  // namespace

Result<std::unique_ptr<DeflateStream>> wrapDeflate(std::unique_ptr<Stream> inner,
                                                   std::string_view alreadyRead, int level,
                                                   std::string peer) {
  if (!inner) return Status(Errc::kInternal, "COMPRESS on a closed connection");
  auto stream = std::make_unique<DeflateStreamImpl>(std::move(inner), std::move(peer));
  MF_RETURN_IF_ERROR(stream->init(alreadyRead, level));
  return std::unique_ptr<DeflateStream>(std::move(stream));
}

}  // namespace mf::net
