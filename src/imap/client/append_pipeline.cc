#include "imap/client/append_pipeline.h"

#include <algorithm>

#include "base/checked_number.h"
#include "imap/client/server_errors.h"

namespace mf::imap {
namespace {
constexpr size_t kFlushThreshold = 128 * 1024;
}  // namespace

std::vector<uint32_t> expandUidSet(std::string_view set, size_t limit) {
  std::vector<uint32_t> out;
  size_t pos = 0;
  while (pos < set.size()) {
    size_t comma = set.find(',', pos);
    if (comma == std::string_view::npos) comma = set.size();
    std::string_view part = set.substr(pos, comma - pos);
    size_t colon = part.find(':');
    auto lo = parseU32(part.substr(0, colon));
    auto hi = colon == std::string_view::npos ? lo : parseU32(part.substr(colon + 1));
    if (!lo || !hi) return {};
    uint32_t a = std::min(*lo, *hi), b = std::max(*lo, *hi);
    if (b - a >= limit || out.size() + (b - a + 1) > limit) return {};
    for (uint64_t u = a; u <= b; ++u) out.push_back(static_cast<uint32_t>(u));
    pos = comma + 1;
  }
  return out;
}

void AppendPipeline::setBatching(size_t maxMessages, uint64_t maxBytes) {
  const bool multi = conn_.hasCapability("MULTIAPPEND");
  batchMessages_ = multi && maxMessages > 1 ? maxMessages : 1;
  batchBytes_ = maxBytes;
}

Status AppendPipeline::sendBuffered() {
  if (buffer_.empty()) return Status::ok();
  Status s = conn_.sendRaw(buffer_);
  buffer_.clear();
  return s;
}

Status AppendPipeline::closeCommand() {
  if (!open_) return Status::ok();
  for (const auto& seg : open_->build()) buffer_ += seg.bytes;  // the final CRLF
  open_.reset();
  openCount_ = 0;
  openBytes_ = 0;
  if (buffer_.size() >= kFlushThreshold) return sendBuffered();
  return Status::ok();
}

Status AppendPipeline::flush() {
  MF_RETURN_IF_ERROR(closeCommand());
  return sendBuffered();
}

Status AppendPipeline::begin(const access::AppendRequest& request) {
  if (mailbox_.empty()) return Status(Errc::kInternal, "append without an open folder");
  if (remaining_ != 0) return Status(Errc::kInternal, "append inside another append");
  const bool plus = conn_.literalPlus();
  if (open_ &&
      (openCount_ >= batchMessages_ || (batchBytes_ && openBytes_ + request.size > batchBytes_))) {
    MF_RETURN_IF_ERROR(closeCommand());
  }
  if (!open_) {
    Command command;
    command.tag = conn_.nextTag();
    open_.emplace(command.tag, "APPEND", plus);
    open_->astring(mailbox_);
    commands_.push_back(std::move(command));
  }
  // RFC 3502: each further message of a MULTIAPPEND is " (flags) date-time literal".
  open_->flagList(request.flags);
  if (!request.internalDate.empty()) open_->quotedOrLiteral(request.internalDate);
  open_->literalHeader(request.size);
  for (const auto& seg : open_->takeSegments()) buffer_ += seg.bytes;
  commands_.back().tickets.push_back(request.ticket);
  ++messagesInFlight_;
  ++openCount_;
  openBytes_ += request.size;
  remaining_ = request.size;
  discard_ = false;
  if (batchMessages_ == 1) {
    // One message per command: it ends with this message's literal.
    // (The builder is closed in end(), after the bytes.)
  }
  if (!plus) {
    MF_RETURN_IF_ERROR(sendBuffered());
    MF_RETURN_IF_ERROR(waitForContinuation(commands_.back().tag));
  }
  return Status::ok();
}

Status AppendPipeline::waitForContinuation(const std::string& tag) {
  for (;;) {
    MF_ASSIGN_OR_RETURN(ParseEvent ev, conn_.readEvent());
    if (ev.kind != ParseEvent::kResponse) continue;
    Response r = conn_.parser().takeResponse();
    if (r.type == ResponseType::kContinuation) return Status::ok();
    const bool ours = r.type == ResponseType::kTagged && r.tag == tag;
    MF_RETURN_IF_ERROR(handleResponse(r));
    if (ours) {
      // Refused before this literal was sent: the command is over; drop the body.
      discard_ = true;
      open_.reset();
      openCount_ = 0;
      openBytes_ = 0;
      return Status::ok();
    }
  }
}

Status AppendPipeline::data(std::string_view chunk) {
  if (chunk.size() > remaining_)
    return Status(Errc::kInternal, "append body longer than announced");
  remaining_ -= chunk.size();
  if (discard_) return Status::ok();
  if (buffer_.size() + chunk.size() <= kFlushThreshold) {
    buffer_.append(chunk);
    return Status::ok();
  }
  MF_RETURN_IF_ERROR(sendBuffered());
  return conn_.sendRaw(chunk);
}

Status AppendPipeline::end() {
  if (remaining_ != 0) return Status(Errc::kInternal, "append body shorter than announced");
  if (discard_) {
    discard_ = false;
    return Status::ok();
  }
  if (batchMessages_ == 1) return closeCommand();
  if (buffer_.size() >= kFlushThreshold) return sendBuffered();
  return Status::ok();
}

Status AppendPipeline::handleResponse(Response& r) {
  if (r.type == ResponseType::kUntagged && r.status == "BYE") {
    return statusFromServer(r, conn_.describe() + " session");
  }
  if (r.type != ResponseType::kTagged) return Status::ok();
  auto it = std::find_if(commands_.begin(), commands_.end(),
                         [&](const Command& c) { return c.tag == r.tag; });
  if (it == commands_.end()) return Status::ok();
  const size_t n = it->tickets.size();
  std::vector<uint32_t> uids;
  uint32_t uidValidity = 0;
  Status refusal;
  if (r.isOk()) {
    if (r.code == "APPENDUID") {
      // RFC 4315: APPENDUID <uidvalidity> <uid-set>, in the order the messages were sent.
      size_t space = r.codeArgs.find(' ');
      if (space != std::string::npos) {
        uidValidity = parseU32(r.codeArgs.substr(0, space)).value_or(0);
        uids = expandUidSet(std::string_view(r.codeArgs).substr(space + 1), n);
        if (uids.size() != n) uids.clear();
      }
    }
  } else {
    // A refusal is about the message (too big, bad header...) unless the server throttles
    // the session, which the engine handles by waiting and retrying.
    refusal = appendRefusal(r);
  }
  for (size_t i = 0; i < n; ++i) {
    access::AppendResult result;
    result.ticket = it->tickets[i];
    result.status = refusal;
    result.inBatch = n > 1;
    if (!uids.empty()) result.uid = uids[i];
    result.uidValidity = uidValidity;
    completed_.push_back(std::move(result));
  }
  messagesInFlight_ -= std::min(messagesInFlight_, n);
  commands_.erase(it);
  return Status::ok();
}

Result<Response> AppendPipeline::runBetween(CommandBuilder& command) {
  if (remaining_ != 0) return Status(Errc::kInternal, "command inside an append");
  MF_RETURN_IF_ERROR(flush());
  std::vector<CommandSegment> segments = command.build();
  if (segments.empty()) return Status(Errc::kInternal, "empty command");
  const std::string tag = segments.front().bytes.substr(0, segments.front().bytes.find(' '));
  MF_RETURN_IF_ERROR(conn_.send(segments, [this](Response& r) { return handleResponse(r); }));
  for (;;) {
    MF_ASSIGN_OR_RETURN(ParseEvent ev, conn_.readEvent());
    if (ev.kind != ParseEvent::kResponse) continue;
    Response r = conn_.parser().takeResponse();
    if (r.type == ResponseType::kTagged && r.tag == tag) return r;
    MF_RETURN_IF_ERROR(handleResponse(r));
  }
}

Result<std::vector<access::AppendResult>> AppendPipeline::collect(bool wait) {
  if (wait) MF_RETURN_IF_ERROR(flush());
  for (;;) {
    bool canRead = false;
    if (wait && completed_.empty() && !commands_.empty()) {
      canRead = true;  // block until the next answer
    } else {
      MF_ASSIGN_OR_RETURN(canRead, conn_.readable());
    }
    if (!canRead) break;
    MF_ASSIGN_OR_RETURN(ParseEvent ev, conn_.readEvent());
    if (ev.kind != ParseEvent::kResponse) continue;
    Response r = conn_.parser().takeResponse();
    MF_RETURN_IF_ERROR(handleResponse(r));
  }
  std::vector<access::AppendResult> out;
  out.swap(completed_);
  return out;
}

}  // namespace mf::imap
