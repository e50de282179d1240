#include "probe/attempt_io.h"

#include <algorithm>
#include <cstdio>

namespace mf::probe::detail {

Status AttemptIo::readMore() {
  if (pos_ > 0) {
    buffer_.erase(0, pos_);
    pos_ = 0;
  }
  Millis left = deadline_.remaining();
  if (left.count() <= 0) return Status(Errc::kTimeout, "the probe's time ran out");
  if (total_ >= kMaxAttemptBytes) {
    return Status(Errc::kLimit, "the server sent more than " + std::to_string(kMaxAttemptBytes) +
                                    " bytes before login; giving up on it");
  }
  stream_.setReadTimeout(left);
  char chunk[4096];
  size_t capacity = std::min(sizeof chunk, kMaxAttemptBytes - total_);
  MF_ASSIGN_OR_RETURN(size_t got, stream_.read(chunk, capacity));
  total_ += got;
  buffer_.append(chunk, got);
  if (head_.size() < 64) head_.append(chunk, std::min(got, 64 - head_.size()));
  return Status::ok();
}

ProbeAttempt::Outcome outcomeOf(const Status& status) {
  switch (status.code()) {
    case Errc::kRefused:
      return ProbeAttempt::kRefused;
    case Errc::kTimeout:
      return ProbeAttempt::kTimeout;
    case Errc::kDns:
      return ProbeAttempt::kDns;
    case Errc::kTls:
      return ProbeAttempt::kTlsFailure;
    default:
      return ProbeAttempt::kOther;
  }
}

void failAttempt(ProbeAttempt& attempt, const Status& status, const std::string& what) {
  attempt.outcome = outcomeOf(status);
  attempt.detail = what.empty() ? status.message() : what + ": " + status.message();
}

std::unique_ptr<net::Stream> openStream(const net::Endpoint& endpoint, const ProbeOptions& options,
                                        ProbeAttempt& attempt) {
  auto connected = net::connectTcp(endpoint.host, endpoint.port, options.timeouts);
  if (!connected) {
    failAttempt(attempt, connected.status());
    return nullptr;
  }
  std::unique_ptr<net::Stream> stream = std::move(connected).value();
  if (endpoint.security == net::Security::kTls &&
      !upgradeStream(*stream, endpoint, options, options.timeouts.greeting, attempt)) {
    return nullptr;
  }
  return stream;
}

bool upgradeStream(net::Stream& stream, const net::Endpoint& endpoint, const ProbeOptions& options,
                   Millis budget, ProbeAttempt& attempt) {
  net::TlsOptions tls = options.tls;
  if (tls.serverName.empty()) tls.serverName = endpoint.host;
  Status status = stream.startTls(tls, budget);
  if (!status) {
    failAttempt(attempt, status);
    return false;
  }
  attempt.tls = stream.tlsDescription();
  return true;
}

std::string excerpt(std::string_view bytes) {
  std::string out;
  for (char c : bytes.substr(0, 60)) {
    auto u = static_cast<unsigned char>(c);
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (u < 0x20 || u >= 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", u);
      out += hex;
    } else {
      out += c;
    }
  }
  if (bytes.size() > 60) out += "...";
  return out;
}

}  // namespace mf::probe::detail
