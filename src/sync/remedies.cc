#include "sync/remedies.h"

namespace mf::sync {

std::string remedyFor(Errc code) {
  switch (code) {
    case Errc::kTooBig:
      return "The destination does not accept messages this large: raise its size limit, or "
             "move the message by another way (e.g. save the attachment) and leave it here.";
    case Errc::kOverQuota:
      return "The destination mailbox is full: raise its quota or free space, then run again "
             "with --retry-errors.";
    case Errc::kBadMessage:
      return "The destination refuses the message's content (header, NUL bytes or line "
             "length); the source copy is unchanged. Check the message in the source mailbox.";
    case Errc::kKeywordRefused:
      return "The destination refuses one of the message's keywords; mailferry copies it "
             "again without keywords.";
    case Errc::kThrottled:
    case Errc::kClosed:
    case Errc::kTimeout:
    case Errc::kIo:
      return "A temporary problem: the next run (or --retry-errors) tries this message again.";
    case Errc::kNotFound:
      return "The message disappeared from the source while mailferry ran; nothing to do.";
    default:
      return "The destination refused this message; see the server's words. Run again with "
             "--retry-errors after fixing the cause.";
  }
}

std::string describeFailure(const Status& status) {
  return status.message() + " -- what to do: " + remedyFor(status.code());
}

}  // namespace mf::sync
