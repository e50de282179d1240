#include "base/status.h"

namespace mf {

std::string_view errcName(Errc code) {
  switch (code) {
    case Errc::kOk:
      return "ok";
    case Errc::kUsage:
      return "usage";
    case Errc::kConfig:
      return "config";
    case Errc::kDns:
      return "dns";
    case Errc::kRefused:
      return "connection_refused";
    case Errc::kUnreachable:
      return "unreachable";
    case Errc::kTimeout:
      return "timeout";
    case Errc::kTls:
      return "tls";
    case Errc::kClosed:
      return "connection_closed";
    case Errc::kIo:
      return "io";
    case Errc::kProtocol:
      return "protocol";
    case Errc::kLimit:
      return "limit";
    case Errc::kAuth:
      return "auth";
    case Errc::kPlaintextRefused:
      return "plaintext_refused";
    case Errc::kNotFound:
      return "not_found";
    case Errc::kServerNo:
      return "server_no";
    case Errc::kServerBad:
      return "server_bad";
    case Errc::kStore:
      return "store";
    case Errc::kInternal:
      return "internal";
    case Errc::kCancelled:
      return "cancelled";
    case Errc::kThrottled:
      return "throttled";
    case Errc::kTooBig:
      return "too_big";
    case Errc::kOverQuota:
      return "over_quota";
    case Errc::kBadMessage:
      return "bad_message";
    case Errc::kKeywordRefused:
      return "keyword_refused";
    case Errc::kAlreadyExists:
      return "already_exists";
  }
  return "unknown";
}

std::string_view errorClassName(ErrorClass cls) {
  switch (cls) {
    case ErrorClass::kRetry:
      return "retry";
    case ErrorClass::kSource:
      return "source";
    case ErrorClass::kDestinationLimit:
      return "destination_limit";
    case ErrorClass::kConfiguration:
      return "configuration";
  }
  return "unknown";
}

ErrorClass defaultClassOf(Errc code) {
  switch (code) {
    case Errc::kUsage:
    case Errc::kConfig:
    case Errc::kDns:
    case Errc::kTls:
    case Errc::kAuth:
    case Errc::kPlaintextRefused:
    case Errc::kNotFound:
      return ErrorClass::kConfiguration;
    case Errc::kLimit:
    case Errc::kServerNo:
    case Errc::kTooBig:
    case Errc::kOverQuota:
    case Errc::kKeywordRefused:
    case Errc::kAlreadyExists:
      return ErrorClass::kDestinationLimit;
    case Errc::kBadMessage:
      return ErrorClass::kSource;
    case Errc::kProtocol:
    case Errc::kServerBad:
      return ErrorClass::kSource;
    default:
      return ErrorClass::kRetry;
  }
}

Status Status::withContext(std::string_view context) const {
  if (isOk()) return *this;
  std::string message(context);
  message += ": ";
  message += message_;
  Status out(code_, class_, std::move(message));
  out.retryAfter_ = retryAfter_;
  return out;
}

}  // namespace mf
