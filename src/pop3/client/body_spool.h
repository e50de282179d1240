// BodySpool: holds one message body until its exact size is known, in bounded memory.
//
// Why: BodyConsumer::begin() needs the exact byte count before the first byte (the
// destination announces it in APPEND's literal, RFC 3501 section 4.3), and POP3 gives none
// that can be trusted: LIST's size (RFC 1939 section 5) is the server's own count, which may
// count line ends differently from what RETR sends, and RETR itself only ends with ".".
// So a body is taken in whole first: in memory up to `memoryLimit` bytes (most messages),
// then, once it grows past that, in an anonymous temporary file (created with mkstemp in
// `directory` and unlinked at once, so nothing is left behind even after kill -9; mode 0600).
// Memory use is at most memoryLimit plus one read chunk, whatever the message size.
//
// The alternative, RETR twice (count, then stream), doubles the download; spilling costs one
// local write and read of big messages only (measured in body_spool_test.cc).
// Threading: one thread at a time. Not copyable.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace mf::pop3 {

class BodySpool {
 public:
  // `directory` "" = $TMPDIR, else /tmp.
  explicit BodySpool(size_t memoryLimit = 1 << 20, std::string directory = "");
  ~BodySpool();
  BodySpool(const BodySpool&) = delete;
  BodySpool& operator=(const BodySpool&) = delete;

  // Forgets the body (the file, if any, is truncated and kept for the next one).
  void reset();
  Status append(std::string_view data);
  uint64_t size() const { return size_; }
  bool spilled() const { return spilled_; }

  // Hands the whole body to `sink` in chunks of at most `chunk` bytes, in order.
  Status replay(const std::function<Status(std::string_view)>& sink, size_t chunk = 256 * 1024);

 private:
  Status spill();
  Status writeFile(std::string_view data);
  Status fileError(const std::string& what, int err) const;

  size_t memoryLimit_;
  std::string directory_;
  std::string memory_;
  uint64_t size_ = 0;
  bool spilled_ = false;
  int fd_ = -1;
};

}  // namespace mf::pop3
