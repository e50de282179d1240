// Status and Result<T>: how every layer reports failure across its boundary.
//
// Contract: exceptions never cross a layer; functions that can fail return Status or
// Result<T>, both [[nodiscard]]. An error carries a stable code (Errc), a retry class
// and a human message that says what went wrong and what to do. Messages never
// contain secrets (see secret.h).
#pragma once

#include <cassert>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace mf {

// Stable error codes; their names appear in JSON output and reports, so never renumber
// or rename one (append new ones at the end).
enum class Errc {
  kOk = 0,
  kUsage,             // bad command line or option
  kConfig,            // bad configuration (URL, file, mapping rule)
  kDns,               // host name does not resolve
  kRefused,           // TCP connection refused
  kUnreachable,       // network or host unreachable
  kTimeout,           // a deadline passed (connect, greeting, read)
  kTls,               // TLS handshake or certificate failure
  kClosed,            // peer closed the connection
  kIo,                // other socket or file error
  kProtocol,          // peer violated the protocol in a way we cannot tolerate
  kLimit,             // an explicit limit was exceeded (line length, literal size, nesting)
  kAuth,              // login refused
  kPlaintextRefused,  // would send a password in clear text without --allow-plaintext
  kNotFound,          // folder or message does not exist
  kServerNo,          // server answered NO to a command
  kServerBad,         // server answered BAD to a command
  kStore,             // state store failure
  kInternal,          // a bug in mailferry
  kCancelled,         // stopped on request
  kThrottled,         // the server asks us to slow down (retryAfter() may say how long)
  kTooBig,            // the destination refuses the message for its size
  kOverQuota,         // the destination mailbox is full
  kBadMessage,        // the destination refuses the message's content (header, NUL, lines)
  kKeywordRefused,    // the destination refuses a keyword
  kAlreadyExists,     // CREATE of a folder that exists (maybe under another case)
};

// Retry class (DESIGN.md practice 6): flows unchanged into reports.
enum class ErrorClass {
  kRetry,             // transient: retry now or later
  kSource,            // problem with the source data or server
  kDestinationLimit,  // the destination refuses (size, quota, naming)
  kConfiguration,     // needs the user to change something
};

std::string_view errcName(Errc code);
std::string_view errorClassName(ErrorClass cls);
ErrorClass defaultClassOf(Errc code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Errc code, std::string message)
      : code_(code), class_(defaultClassOf(code)), message_(std::move(message)) {}
  Status(Errc code, ErrorClass cls, std::string message)
      : code_(code), class_(cls), message_(std::move(message)) {}

  static Status ok() { return Status(); }

  bool isOk() const { return code_ == Errc::kOk; }
  explicit operator bool() const { return isOk(); }
  Errc code() const { return code_; }
  ErrorClass errorClass() const { return class_; }
  const std::string& message() const { return message_; }

  // Returns a copy whose message is "<context>: <message>".
  Status withContext(std::string_view context) const;

  // How long the server asked us to wait before retrying (throttling hints), if it said.
  std::optional<std::chrono::milliseconds> retryAfter() const { return retryAfter_; }
  Status withRetryAfter(std::chrono::milliseconds wait) const {
    Status copy = *this;
    copy.retryAfter_ = wait;
    return copy;
  }

 private:
  Errc code_ = Errc::kOk;
  ErrorClass class_ = ErrorClass::kRetry;
  std::string message_;
  std::optional<std::chrono::milliseconds> retryAfter_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    assert(!status_.isOk());
  }

  bool isOk() const { return value_.has_value(); }
  explicit operator bool() const { return isOk(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace mf

// Propagates a failed Status out of the enclosing function.
#define MF_RETURN_IF_ERROR(expr)               \
  do {                                         \
    ::mf::Status mf_status_ = (expr);          \
    if (!mf_status_.isOk()) return mf_status_; \
  } while (0)

#define MF_CONCAT_INNER(a, b) a##b
#define MF_CONCAT(a, b) MF_CONCAT_INNER(a, b)
// MF_ASSIGN_OR_RETURN(auto x, resultExpr): binds the value or returns the error.
#define MF_ASSIGN_OR_RETURN(lhs, expr) \
  MF_ASSIGN_OR_RETURN_IMPL(MF_CONCAT(mf_result_, __LINE__), lhs, expr)
#define MF_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.isOk()) return tmp.status();          \
  lhs = std::move(tmp).value()
