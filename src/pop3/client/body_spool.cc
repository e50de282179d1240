#include "pop3/client/body_spool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

namespace mf::pop3 {

BodySpool::BodySpool(size_t memoryLimit, std::string directory)
    : memoryLimit_(memoryLimit), directory_(std::move(directory)) {
  if (directory_.empty()) {
    const char* tmp = getenv("TMPDIR");
    directory_ = tmp != nullptr && *tmp ? tmp : "/tmp";
  }
}

BodySpool::~BodySpool() {
  if (fd_ >= 0) ::close(fd_);
}

Status BodySpool::fileError(const std::string& what, int err) const {
  return Status(Errc::kIo, ErrorClass::kRetry,
                what + " the temporary copy of a POP3 message in " + directory_ + ": " +
                    strerror(err) + ". Free some space there or point TMPDIR elsewhere.");
}

void BodySpool::reset() {
  memory_.clear();
  if (memory_.capacity() > memoryLimit_) memory_.shrink_to_fit();
  size_ = 0;
  if (spilled_ && fd_ >= 0) {
    // Keep the file for the next big message; only its content goes.
    if (ftruncate(fd_, 0) != 0 || lseek(fd_, 0, SEEK_SET) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  spilled_ = false;
}

Status BodySpool::writeFile(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fileError("cannot write", errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::ok();
}

Status BodySpool::spill() {
  if (fd_ < 0) {
    std::string templ = directory_ + "/mailferry-pop3-XXXXXX";
    fd_ = mkstemp(templ.data());
    if (fd_ < 0) return fileError("cannot create", errno);
    // Unlinked at once: the data lives only as long as this descriptor.
    unlink(templ.c_str());
  }
  spilled_ = true;
  MF_RETURN_IF_ERROR(writeFile(memory_));
  memory_.clear();
  memory_.shrink_to_fit();
  return Status::ok();
}

Status BodySpool::append(std::string_view data) {
  size_ += data.size();
  if (!spilled_ && memory_.size() + data.size() <= memoryLimit_) {
    memory_.append(data);
    return Status::ok();
  }
  if (!spilled_) MF_RETURN_IF_ERROR(spill());
  return writeFile(data);
}

Status BodySpool::replay(const std::function<Status(std::string_view)>& sink, size_t chunk) {
  if (chunk == 0) chunk = 1;
  if (!spilled_) {
    std::string_view all = memory_;
    while (!all.empty()) {
      size_t n = std::min(chunk, all.size());
      MF_RETURN_IF_ERROR(sink(all.substr(0, n)));
      all.remove_prefix(n);
    }
    return Status::ok();
  }
  std::vector<char> buf(chunk);
  uint64_t offset = 0;
  while (offset < size_) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(chunk, size_ - offset));
    ssize_t n = ::pread(fd_, buf.data(), want, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return fileError("cannot read", errno);
    }
    if (n == 0) return fileError("cannot read", EIO);  // shorter than written: not ours
    offset += static_cast<uint64_t>(n);
    MF_RETURN_IF_ERROR(sink(std::string_view(buf.data(), static_cast<size_t>(n))));
  }
  return Status::ok();
}

}  // namespace mf::pop3
