#include "base/slot_files.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace mf {
namespace {

std::string fileSafe(const std::string& name) {
  std::string out = name;
  for (char& c : out) {
    const bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '-';
    if (!keep) c = '_';
  }
  return out;
}

std::string errnoText() {
  return std::strerror(errno);
}

// The directory must be ours and closed to others: anyone who can create files in it can hold
// our slots (and slow every run down to one connection).
Status checkPrivateDirectory(const std::string& path) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) {
    return Status(Errc::kConfig, ErrorClass::kConfiguration,
                  "cannot use " + path + ": " + errnoText());
  }
  if (!S_ISDIR(st.st_mode)) {
    return Status(Errc::kConfig, ErrorClass::kConfiguration,
                  path + " is not a directory (or is a symbolic link): remove it");
  }
  if (st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
    return Status(Errc::kConfig, ErrorClass::kConfiguration,
                  path + " must belong to this user with mode 0700: fix or remove it");
  }
  return Status::ok();
}

}  // namespace

SlotLease& SlotLease::operator=(SlotLease&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = other.fd_;
    index_ = other.index_;
    other.fd_ = -1;
  }
  return *this;
}

SlotLease::~SlotLease() {
  if (fd_ >= 0) close(fd_);  // closing the file drops the flock
}

Result<std::optional<SlotLease>> tryClaimSlot(const std::string& directory, const std::string& name,
                                              size_t count) {
  const std::string stem = directory + "/" + fileSafe(name) + ".";
  for (size_t n = 0; n < count; ++n) {
    const std::string path = stem + std::to_string(n);
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
      return Status(Errc::kIo, ErrorClass::kConfiguration,
                    "cannot open the slot file " + path + ": " + errnoText());
    }
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) return std::optional<SlotLease>(SlotLease(fd, n));
    const int err = errno;
    close(fd);
    if (err != EWOULDBLOCK) {
      errno = err;
      return Status(Errc::kIo, ErrorClass::kConfiguration,
                    "cannot lock the slot file " + path + ": " + errnoText());
    }
  }
  return std::optional<SlotLease>();
}

Result<std::string> userRuntimeDirectory() {
  std::string base;
  if (const char* x = std::getenv("XDG_RUNTIME_DIR"); x && *x) {
    base = std::string(x) + "/mailferry";
  } else {
    base = "/tmp/mailferry-" + std::to_string(geteuid());
  }
  if (mkdir(base.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status(Errc::kIo, ErrorClass::kConfiguration,
                  "cannot create " + base + ": " + errnoText());
  }
  MF_RETURN_IF_ERROR(checkPrivateDirectory(base));
  return base;
}

}  // namespace mf
