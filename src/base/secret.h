// Secret: a password or token that must never reach a log, report, argv or error text.
//
// By construction: there is no implicit conversion to string and streaming or formatting a
// Secret prints "***". The only way to the plaintext is reveal(), which call sites use right
// where the bytes go onto an authenticated wire.
#pragma once

#include <ostream>
#include <string>
#include <string_view>

namespace mf {

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  Secret(const Secret&) = default;
  Secret& operator=(const Secret&) = default;
  ~Secret() { wipe(); }

  bool empty() const { return value_.empty(); }
  std::string_view reveal() const { return value_; }

 private:
  void wipe() {
    volatile char* p = value_.data();
    for (size_t i = 0; i < value_.size(); ++i) p[i] = 0;
  }
  std::string value_;
};

inline std::ostream& operator<<(std::ostream& out, const Secret&) {
  return out << "***";
}

}  // namespace mf
