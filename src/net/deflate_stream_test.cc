// DeflateStream against zlib used directly as the peer (what a server's COMPRESS=DEFLATE
// produces and expects: raw DEFLATE, sync-flushed), over an in-memory inner stream that
// delivers the peer's bytes in chunks of any size.
#include "net/deflate_stream.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <deque>
#include <random>
#include <string>

namespace mf::net {
namespace {

// The wire: what the peer sent (handed out chunk by chunk) and what we wrote.
class MemoryStream final : public Stream {
 public:
  std::deque<std::string> incoming;
  std::string written;
  bool closed = false;

  Result<size_t> read(char* buffer, size_t capacity) override {
    if (incoming.empty()) return Status(Errc::kClosed, "connection closed by peer");
    std::string& front = incoming.front();
    size_t n = std::min(capacity, front.size());
    front.copy(buffer, n);
    front.erase(0, n);
    if (front.empty()) incoming.pop_front();
    bytesRead_ += n;
    return n;
  }
  Status writeAll(std::string_view data) override {
    written.append(data);
    return Status::ok();
  }
  Result<bool> waitReadable(Millis) override { return !incoming.empty(); }
  Status startTls(const TlsOptions&, Millis) override { return Status::ok(); }
  bool isTls() const override { return false; }
  std::string tlsDescription() const override { return ""; }
  void setReadTimeout(Millis) override {}
  void close() override { closed = true; }
  uint64_t bytesRead() const override { return bytesRead_; }
  uint64_t bytesWritten() const override { return written.size(); }

 private:
  uint64_t bytesRead_ = 0;
};

// The peer's side: raw DEFLATE with a sync flush after each message, as Dovecot sends.
class PeerDeflater {
 public:
  PeerDeflater() { EXPECT_EQ(deflateInit2(&z_, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK); }
  ~PeerDeflater() { deflateEnd(&z_); }
  std::string compress(std::string_view data, int flush = Z_SYNC_FLUSH) {
    std::string out;
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z_.avail_in = static_cast<uInt>(data.size());
    char buf[4096];
    do {
      z_.next_out = reinterpret_cast<Bytef*>(buf);
      z_.avail_out = sizeof buf;
      EXPECT_NE(deflate(&z_, flush), Z_STREAM_ERROR);
      out.append(buf, sizeof buf - z_.avail_out);
    } while (z_.avail_out == 0);
    return out;
  }

 private:
  z_stream z_{};
};

std::string inflateAll(std::string_view wire) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, -15), Z_OK);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(wire.data()));
  z.avail_in = static_cast<uInt>(wire.size());
  std::string out;
  char buf[4096];
  int rc;
  do {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_SYNC_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
  } while (rc == Z_OK && (z.avail_in > 0 || z.avail_out == 0));
  inflateEnd(&z);
  return out;
}

std::string mixedPayload(size_t size, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s;
  while (s.size() < size) {
    if (rng() % 3 == 0) {
      for (int i = 0; i < 3000 && s.size() < size; ++i) s.push_back(static_cast<char>(rng()));
    } else {
      s += "* 17 FETCH (UID 4711 BODY[] {12}\r\nSubject: hi\r\n)\r\n";
    }
  }
  s.resize(size);
  return s;
}

std::unique_ptr<DeflateStream> wrap(MemoryStream*& inner, std::string_view alreadyRead = {}) {
  auto owned = std::make_unique<MemoryStream>();
  inner = owned.get();
  auto wrapped = wrapDeflate(std::move(owned), alreadyRead, 1, "imap.example:143");
  EXPECT_TRUE(wrapped.isOk()) << wrapped.status().message();
  return std::move(wrapped).value();
}

std::string readAll(Stream& s, size_t capacity) {
  std::string out;
  std::vector<char> buf(capacity);
  for (;;) {
    auto n = s.read(buf.data(), buf.size());
    if (!n.isOk()) break;
    out.append(buf.data(), *n);
  }
  return out;
}

TEST(DeflateStream, WhatItWritesIsRawDeflateThePeerCanReadAfterEachWrite) {
  MemoryStream* inner;
  auto s = wrap(inner);
  std::string sent;
  for (int i = 0; i < 5; ++i) {
    std::string command = "A" + std::to_string(i) + " NOOP\r\n" + mixedPayload(40000, i);
    ASSERT_TRUE(s->writeAll(command).isOk());
    sent += command;
    // Sync-flushed: everything written so far decodes now, without waiting for more.
    EXPECT_EQ(inflateAll(inner->written), sent) << "after write " << i;
  }
  EXPECT_EQ(s->plainBytesWritten(), sent.size());
  EXPECT_EQ(s->bytesWritten(), inner->written.size());
}

TEST(DeflateStream, ALargeIncompressibleWriteGoesThroughWhole) {
  MemoryStream* inner;
  auto s = wrap(inner);
  std::string big;
  std::mt19937 rng(7);
  for (int i = 0; i < 3 * 1024 * 1024; ++i) big.push_back(static_cast<char>(rng()));
  ASSERT_TRUE(s->writeAll(big).isOk());
  EXPECT_EQ(inflateAll(inner->written), big);
}

TEST(DeflateStream, ReadsThePeersStreamWhateverTheChunking) {
  for (size_t chunk : {1u, 7u, 1000u, 1u << 20}) {
    PeerDeflater peer;
    std::string plain, wire;
    for (int i = 0; i < 4; ++i) {
      std::string part = mixedPayload(30000 + i * 1000, 100 + i);
      plain += part;
      wire += peer.compress(part);
    }
    MemoryStream* inner;
    auto s = wrap(inner);
    for (size_t pos = 0; pos < wire.size(); pos += chunk)
      inner->incoming.push_back(wire.substr(pos, chunk));
    EXPECT_EQ(readAll(*s, 777), plain) << "chunk " << chunk;
    EXPECT_EQ(s->plainBytesRead(), plain.size());
  }
}

TEST(DeflateStream, BytesReadBehindTheOkAreInflatedFirst) {
  PeerDeflater peer;
  std::string first = peer.compress("* OK still here\r\n");
  std::string second = peer.compress("A2 OK done\r\n");
  MemoryStream* inner;
  auto s = wrap(inner, first);
  inner->incoming.push_back(second);
  EXPECT_EQ(readAll(*s, 4096), "* OK still here\r\nA2 OK done\r\n");
}

TEST(DeflateStream, AFlushMarkerAloneIsNotReadable) {
  PeerDeflater peer;
  // A sync flush with no data (an empty stored block): inflates to nothing.
  std::string markerOnly = peer.compress("");
  ASSERT_FALSE(markerOnly.empty());
  std::string data = peer.compress("* 1 EXISTS\r\n");
  MemoryStream* inner;
  auto s = wrap(inner);
  inner->incoming.push_back(markerOnly);
  auto ready = s->waitReadable(Millis(0));
  ASSERT_TRUE(ready.isOk());
  EXPECT_FALSE(*ready) << "nothing to read yet, a read would block";
  inner->incoming.push_back(data);
  ready = s->waitReadable(Millis(0));
  ASSERT_TRUE(ready.isOk());
  EXPECT_TRUE(*ready);
  EXPECT_EQ(readAll(*s, 4096), "* 1 EXISTS\r\n");
}

TEST(DeflateStream, CorruptInputIsAProtocolErrorNamingThePeer) {
  MemoryStream* inner;
  auto s = wrap(inner);
  inner->incoming.push_back(std::string("\xff\xff\xff\xff garbage", 12));
  char buf[100];
  auto n = s->read(buf, sizeof buf);
  ASSERT_FALSE(n.isOk());
  EXPECT_EQ(n.status().code(), Errc::kProtocol);
  EXPECT_NE(n.status().message().find("imap.example:143"), std::string::npos)
      << n.status().message();
}

TEST(DeflateStream, TheInnerStreamsErrorsPassThrough) {
  MemoryStream* inner;
  auto s = wrap(inner);
  char buf[10];
  auto n = s->read(buf, sizeof buf);
  ASSERT_FALSE(n.isOk());
  EXPECT_EQ(n.status().code(), Errc::kClosed);
}

TEST(DeflateStream, StartTlsAfterCompressIsRefused) {
  MemoryStream* inner;
  auto s = wrap(inner);
  Status st = s->startTls(TlsOptions{}, Millis(100));
  EXPECT_FALSE(st.isOk());
  s->close();
  EXPECT_TRUE(inner->closed);
}

}  // namespace
}  // namespace mf::net
