#include "probe/pop3_reply.h"

#include "base/ascii.h"

namespace mf::probe {

void Pop3ReplyReader::start(bool multiLine) {
  multiLine_ = multiLine;
  haveStatus_ = false;
  done_ = false;
  ok_ = false;
  partial_.clear();
  text_.clear();
  lines_.clear();
  error_ = Status::ok();
}

Pop3ReplyReader::Event Pop3ReplyReader::fail(Errc code, std::string message) {
  error_ = Status(code, std::move(message));
  return Event::kError;
}

Pop3ReplyReader::Event Pop3ReplyReader::feed(std::string_view& input) {
  if (!error_.isOk()) return Event::kError;
  if (done_) return Event::kDone;
  while (!input.empty()) {
    size_t newline = input.find('\n');
    size_t take = newline == std::string_view::npos ? input.size() : newline;
    if (partial_.size() + take > limits_.maxLineLength) {
      return fail(Errc::kLimit,
                  "POP3 line longer than " + std::to_string(limits_.maxLineLength) + " bytes");
    }
    partial_.append(input.substr(0, take));
    if (newline == std::string_view::npos) {
      input.remove_prefix(take);
      return Event::kNeedMore;
    }
    input.remove_prefix(take + 1);
    std::string line = std::move(partial_);
    partial_.clear();
    if (!line.empty() && line.back() == '\r') line.pop_back();
    Event event = takeLine(std::move(line));
    if (event != Event::kNeedMore) return event;
  }
  return Event::kNeedMore;
}

Pop3ReplyReader::Event Pop3ReplyReader::takeLine(std::string line) {
  if (!haveStatus_) {
    // RFC 1939 section 3: "+OK" or "-ERR", then optionally a space and text.
    std::string_view rest;
    if (startsWithIgnoreCase(line, "+OK")) {
      ok_ = true;
      rest = std::string_view(line).substr(3);
    } else if (startsWithIgnoreCase(line, "-ERR")) {
      rest = std::string_view(line).substr(4);
    } else {
      return fail(Errc::kProtocol, "not a POP3 reply (expected +OK or -ERR)");
    }
    if (!rest.empty() && rest.front() != ' ') {
      return fail(Errc::kProtocol, "not a POP3 reply (expected +OK or -ERR)");
    }
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    text_ = std::string(rest);
    haveStatus_ = true;
    if (!multiLine_ || !ok_) {
      done_ = true;
      return Event::kDone;
    }
    return Event::kNeedMore;
  }
  // RFC 1939 section 3: a line of just "." ends the body; a leading "." is otherwise stuffed.
  if (line == ".") {
    done_ = true;
    return Event::kDone;
  }
  if (lines_.size() >= limits_.maxLines) {
    return fail(Errc::kLimit,
                "POP3 reply with more than " + std::to_string(limits_.maxLines) + " lines");
  }
  if (!line.empty() && line.front() == '.') line.erase(0, 1);
  lines_.push_back(std::move(line));
  return Event::kNeedMore;
}

}  // namespace mf::probe
