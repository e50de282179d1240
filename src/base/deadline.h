// Deadlines: every wait in mailferry has one (DESIGN.md practice 10). Named defaults live
// here so they are documented in one place.
#pragma once

#include <chrono>

namespace mf {

using Clock = std::chrono::steady_clock;
using Millis = std::chrono::milliseconds;

struct Timeouts {
  Millis connect{15'000};   // TCP connect
  Millis greeting{30'000};  // server greeting and TLS handshake
  Millis read{120'000};     // any single read while a command is outstanding
};

class Deadline {
 public:
  explicit Deadline(Millis budget) : at_(Clock::now() + budget) {}
  static Deadline after(Millis budget) { return Deadline(budget); }
  bool expired() const { return Clock::now() >= at_; }
  // Milliseconds left, never negative.
  Millis remaining() const {
    auto left = std::chrono::duration_cast<Millis>(at_ - Clock::now());
    return left.count() < 0 ? Millis(0) : left;
  }

 private:
  Clock::time_point at_;
};

}  // namespace mf
