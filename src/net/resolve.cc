#include "net/resolve.h"

#include <sys/socket.h>

#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <string_view>
#include <system_error>
#include <thread>

#include "base/ascii.h"
#include "net/net_util.h"

namespace mf::net::detail {
namespace {

// State shared between the caller and the lookup thread; whoever finishes last frees it.
struct Lookup {
  std::string host;
  std::string service;
  bool numeric = false;

  std::mutex mutex;
  std::condition_variable finished;
  bool done = false;       // guarded by mutex
  bool abandoned = false;  // guarded by mutex: the caller gave up, the thread cleans up
  int rc = 0;
  int savedErrno = 0;
  addrinfo* list = nullptr;
};

void runLookup(const std::shared_ptr<Lookup>& lookup) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  // No AI_ADDRCONFIG: glibc ignores loopback when deciding which families are "configured",
  // so on a loopback-only machine it would hide "localhost".
  hints.ai_flags = AI_NUMERICSERV | (lookup->numeric ? AI_NUMERICHOST : 0);
  addrinfo* list = nullptr;
  int rc = getaddrinfo(lookup->host.c_str(), lookup->service.c_str(), &hints, &list);
  int savedErrno = errno;

  std::lock_guard<std::mutex> lock(lookup->mutex);
  if (lookup->abandoned) {
    if (list != nullptr) freeaddrinfo(list);
    return;
  }
  lookup->rc = rc;
  lookup->savedErrno = savedErrno;
  lookup->list = list;
  lookup->done = true;
  lookup->finished.notify_one();
}

Status dnsError(const std::string& host, int rc, int savedErrno) {
  std::string reason = rc == EAI_SYSTEM ? errnoText(savedErrno) : gai_strerror(rc);
  std::string message = "cannot resolve host '" + host + "': " + reason + ". Check the host name.";
  // A temporary failure (the name server did not answer) is worth retrying; a name that
  // does not exist needs the user to fix the configuration.
  if (rc == EAI_AGAIN) {
    return Status(Errc::kDns, ErrorClass::kRetry,
                  message + " The name server did not answer; check the network and DNS.");
  }
  return Status(Errc::kDns, message);
}

}  // namespace

// RFC 6761 section 6.4: "invalid" and every name under it never exist, and resolvers should
// answer so at once. glibc asks the configured name server anyway; answering here spares a
// query that can only fail (and keeps a mistyped placeholder off the network).
bool isReservedInvalidName(std::string_view host) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);  // absolute form
  constexpr std::string_view kLabel = "invalid";
  if (host.size() < kLabel.size()) return false;
  std::string_view last = host.substr(host.size() - kLabel.size());
  if (!equalsIgnoreCase(last, kLabel)) return false;
  return host.size() == kLabel.size() || host[host.size() - kLabel.size() - 1] == '.';
}

Result<AddrInfoList> resolveTcp(const std::string& host, uint16_t port, Millis timeout) {
  if (isReservedInvalidName(host)) {  // never an address literal
    return Status(Errc::kDns, "cannot resolve host '" + host +
                                  "': names ending in .invalid never exist (RFC 6761). "
                                  "Check the host name.");
  }
  auto lookup = std::make_shared<Lookup>();
  lookup->host = host;
  lookup->service = std::to_string(port);
  lookup->numeric = isIpLiteral(host);

  std::thread helper;
  if (lookup->numeric) {
    runLookup(lookup);  // no network involved
  } else {
    try {
      helper = std::thread(runLookup, lookup);
    } catch (const std::system_error&) {
      runLookup(lookup);  // cannot start a thread: resolve here, without the deadline
    }
  }

  std::unique_lock<std::mutex> lock(lookup->mutex);
  const bool done = lookup->finished.wait_for(lock, timeout, [&] { return lookup->done; });
  if (!done) lookup->abandoned = true;
  lock.unlock();
  // A helper that answered in time is about to return: joined, it has also freed its
  // per-thread resolver state (glibc keeps query buffers per thread) before the caller goes
  // on, so nothing of it is left behind when the process exits. An abandoned one finishes
  // on its own.
  if (helper.joinable()) {
    if (done) {
      helper.join();
    } else {
      helper.detach();
    }
  }
  if (!done) {
    return Status(Errc::kTimeout, "cannot resolve host '" + host + "' within " +
                                      formatDuration(timeout) +
                                      " (connect timeout): the name server did not answer. "
                                      "Check the network and DNS settings.");
  }
  if (lookup->rc != 0) return dnsError(host, lookup->rc, lookup->savedErrno);
  if (lookup->list == nullptr) return dnsError(host, EAI_NONAME, 0);
  return AddrInfoList(lookup->list);
}

}  // namespace mf::net::detail
