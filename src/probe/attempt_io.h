// Internal to src/probe: the bounded byte buffer one probe attempt reads through, and the
// mapping of net errors to attempt outcomes. Shared by the IMAP and POP3 probes.
//
// Contract: every read waits at most until the attempt's deadline (Errc::kTimeout after it)
// and an attempt reads at most kMaxAttemptBytes in total (Errc::kLimit): a probe talks to
// servers it knows nothing about yet, so neither a silent nor an endless one may hold it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/deadline.h"
#include "base/status.h"
#include "net/stream.h"
#include "probe/probe.h"

namespace mf::probe::detail {

constexpr size_t kMaxAttemptBytes = 1 << 20;

class AttemptIo {
 public:
  AttemptIo(net::Stream& stream, Deadline deadline) : stream_(stream), deadline_(deadline) {}

  // Bytes read and not yet consumed.
  std::string_view pending() const { return std::string_view(buffer_).substr(pos_); }
  // The caller parsed pending() down to `rest` (a suffix of it).
  void consumeTo(std::string_view rest) { pos_ = buffer_.size() - rest.size(); }
  // Reads at least one more byte into pending().
  Status readMore();
  Status write(std::string_view bytes) { return stream_.writeAll(bytes); }
  Millis remaining() const { return deadline_.remaining(); }
  // Shortens the attempt's remaining time to at most `budget` (for the polite goodbye).
  void limit(Millis budget) {
    if (budget < deadline_.remaining()) deadline_ = Deadline(budget);
  }
  // The first bytes the server ever sent, for error messages about what it is.
  const std::string& head() const { return head_; }
  net::Stream& stream() { return stream_; }

 private:
  net::Stream& stream_;
  Deadline deadline_;
  std::string buffer_;
  std::string head_;
  size_t pos_ = 0;
  size_t total_ = 0;
};

// Outcome for a failed connectTcp() / startTls() / read.
ProbeAttempt::Outcome outcomeOf(const Status& status);

// Fills attempt.outcome and detail from `status`, prefixed by `what` ("STARTTLS: ...").
void failAttempt(ProbeAttempt& attempt, const Status& status, const std::string& what = {});

// Connects (and does the implicit TLS handshake for Security::kTls). On failure fills the
// attempt and returns null.
std::unique_ptr<net::Stream> openStream(const net::Endpoint& endpoint, const ProbeOptions& options,
                                        ProbeAttempt& attempt);

// Upgrades an open stream (STARTTLS / STLS); false (attempt filled) on failure.
bool upgradeStream(net::Stream& stream, const net::Endpoint& endpoint, const ProbeOptions& options,
                   Millis budget, ProbeAttempt& attempt);

// Printable excerpt of what a server sent (control bytes escaped, at most ~60 characters).
std::string excerpt(std::string_view bytes);

ProbeAttempt probeImap(const net::Endpoint& endpoint, const ProbeOptions& options);
ProbeAttempt probePop3(const net::Endpoint& endpoint, const ProbeOptions& options);

}  // namespace mf::probe::detail
