// Incremental POP3 reply parser; the contract is in reply_parser.h.
//
// Shape: three states per reply. kStatusLine gathers one line and classifies it (RFC 1939
// section 3: "+OK" / "-ERR"; RFC 5034 section 4: "+ " continuation). kLines gathers whole
// lines (CAPA, LIST, UIDL: short lines that the caller parses). kData hands a message out
// in chunks: a chunk runs over as many lines as the input holds and stops only right after
// a LF that is followed by ".", so the one byte that may need unstuffing is looked at with
// the parser back at a line start.
#include "pop3/wire/reply_parser.h"

#include <algorithm>
#include <cstring>

#include "base/ascii.h"

namespace mf::pop3 {
namespace {

// How much of an offending line an error message quotes.
constexpr size_t kQuotedLineMax = 120;
// A line buffer grown by one long line is given back so an idle connection stays small.
constexpr size_t kKeepLineCapacity = 64 * 1024;

bool isBlank(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && isBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && isBlank(s.back())) s.remove_suffix(1);
  return s;
}

// Printable ASCII kept, everything else \xNN, truncated: safe for a log.
std::string printable(std::string_view line) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  size_t n = std::min(line.size(), kQuotedLineMax);
  for (size_t i = 0; i < n; ++i) {
    auto c = static_cast<unsigned char>(line[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else if (c == '\\') {
      out += "\\\\";
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  if (line.size() > n) out += "...";
  return out;
}

ReplyEvent event(ReplyEvent::Kind kind, std::string_view data = {}) {
  ReplyEvent ev;
  ev.kind = kind;
  ev.data = data;
  return ev;
}

}  // namespace

std::string StatusLine::words() const {
  if (code.empty()) return text;
  return text.empty() ? "[" + code + "]" : "[" + code + "] " + text;
}

ReplyParser::ReplyParser(ReplyLimits limits) : limits_(limits) {}

void ReplyParser::expect(ReplyShape shape) {
  expected_.push_back(shape);
}

ReplyEvent ReplyParser::fail(Status status) {
  error_ = std::move(status);
  state_ = State::kError;
  return event(ReplyEvent::kError);
}

ReplyEvent ReplyParser::limit(std::string what) {
  return fail(Status(Errc::kLimit, "POP3 reply " + what));
}

ReplyEvent ReplyParser::next(std::string_view& input) {
  for (;;) {
    switch (state_) {
      case State::kError:
        return event(ReplyEvent::kError);

      case State::kEnd:
        expected_.pop_front();
        state_ = State::kStatusLine;
        return event(ReplyEvent::kEnd);

      case State::kStatusLine: {
        if (input.empty()) return event(ReplyEvent::kNeedMore);
        if (expected_.empty()) {
          return fail(Status(Errc::kProtocol,
                             "POP3 server sent data while no command was waiting for an answer"));
        }
        std::string_view line;
        if (!readLine(input, line)) {
          if (state_ == State::kError) return event(ReplyEvent::kError);
          return event(ReplyEvent::kNeedMore);
        }
        return onStatusLine(line);
      }

      case State::kLines: {
        if (input.empty()) return event(ReplyEvent::kNeedMore);
        std::string_view line;
        if (!readLine(input, line)) {
          if (state_ == State::kError) return event(ReplyEvent::kError);
          return event(ReplyEvent::kNeedMore);
        }
        ReplyEvent ev = onListLine(line);
        if (ev.kind != ReplyEvent::kNeedMore) return ev;
        break;
      }

      case State::kData: {
        if (overLimit_) return dataLimit();
        ReplyEvent ev = nextData(input);
        if (ev.kind != ReplyEvent::kNeedMore || input.empty()) return ev;
        break;
      }
    }
  }
}

bool ReplyParser::readLine(std::string_view& input, std::string_view& line) {
  // A CR may wait at the end of the buffer for its LF, hence the + 1 while the LF is unseen.
  const size_t bufferMax = limits_.maxLineLength + 1;
  const void* lf = std::memchr(input.data(), '\n', input.size());
  if (lf == nullptr) {
    if (input.size() > bufferMax - std::min(bufferMax, lineBuf_.size())) {
      limit("line longer than maxLineLength (" + std::to_string(limits_.maxLineLength) + " bytes)");
      return false;
    }
    lineBuf_.append(input);
    input.remove_prefix(input.size());
    return false;
  }
  size_t n = static_cast<size_t>(static_cast<const char*>(lf) - input.data());
  if (lineBuf_.empty()) {
    line = input.substr(0, n);
  } else {
    if (n > bufferMax - std::min(bufferMax, lineBuf_.size())) {
      limit("line longer than maxLineLength (" + std::to_string(limits_.maxLineLength) + " bytes)");
      return false;
    }
    lineBuf_.append(input.data(), n);
    line = lineBuf_;
  }
  input.remove_prefix(n + 1);
  // RFC 1939 lines end in CRLF; a bare LF is tolerated.
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() > limits_.maxLineLength) {
    limit("line longer than maxLineLength (" + std::to_string(limits_.maxLineLength) + " bytes)");
    return false;
  }
  return true;
}

// `line` may be a view into lineBuf_: everything needed is copied before it is cleared.
ReplyEvent ReplyParser::onStatusLine(std::string_view line) {
  StatusLine st;
  std::string_view rest;
  // The indicator must end at a blank or the line end: "+OKAY" is not "+OK".
  auto indicator = [&](std::string_view word) {
    return startsWithIgnoreCase(line, word) &&
           (line.size() == word.size() || isBlank(line[word.size()]));
  };
  if (indicator("+OK")) {
    st.kind = StatusLine::kOk;
    rest = line.substr(3);
  } else if (indicator("-ERR")) {
    st.kind = StatusLine::kErr;
    rest = line.substr(4);
  } else if (line == "+" || (line.size() > 1 && line[0] == '+' && isBlank(line[1]))) {
    // RFC 5034 section 4: continue-req = "+" SP [base64] CRLF.
    st.kind = StatusLine::kContinuation;
    rest = line.substr(1);
  } else {
    Status bad(Errc::kProtocol,
               "POP3 reply does not start with +OK or -ERR: \"" + printable(line) + "\"");
    lineBuf_.clear();
    return fail(std::move(bad));
  }
  rest = trim(rest);
  // RFC 2449 section 8: "[" resp-code "]" right after the status indicator.
  if (st.kind != StatusLine::kContinuation && !rest.empty() && rest[0] == '[') {
    size_t close = rest.find(']');
    if (close != std::string_view::npos) {
      st.code += toUpperAscii(trim(rest.substr(1, close - 1)));
      rest = trim(rest.substr(close + 1));
    }
  }
  st.text = std::string(rest);
  status_ = std::move(st);
  lineBuf_.clear();
  if (lineBuf_.capacity() > kKeepLineCapacity) lineBuf_.shrink_to_fit();

  const ReplyShape shape = expected_.front();
  if (status_.isOk() && shape == ReplyShape::kMultiLine) {
    state_ = State::kLines;
    lines_ = 0;
  } else if (status_.isOk() && shape == ReplyShape::kMultiLineData) {
    state_ = State::kData;
    dataBytes_ = 0;
    overLimit_ = false;
    atLineStart_ = true;
    held_.clear();
  } else {
    state_ = State::kEnd;
  }
  return event(ReplyEvent::kStatus);
}

ReplyEvent ReplyParser::onListLine(std::string_view line) {
  // `line` may be a view into lineBuf_, which must be empty for the next line: such a line
  // is handed out from a copy (out_, valid until the next call).
  if (line == ".") {
    lineBuf_.clear();
    expected_.pop_front();
    state_ = State::kStatusLine;
    return event(ReplyEvent::kEnd);
  }
  if (++lines_ > limits_.maxLines) {
    return limit("with more than maxLines (" + std::to_string(limits_.maxLines) + ") lines");
  }
  // RFC 1939 section 3: a line starting with "." was sent with one more "." in front.
  if (line.size() >= 2 && line[0] == '.' && line[1] == '.') line.remove_prefix(1);
  if (!lineBuf_.empty()) {  // then `line` lies in lineBuf_
    out_.assign(line);
    lineBuf_.clear();
    return event(ReplyEvent::kLine, out_);
  }
  return event(ReplyEvent::kLine, line);
}

// Hands out at most maxDataBytes in total: a chunk that crosses the limit is cut at it and
// the next call fails, so exactly the same bytes come out however the input was split.
ReplyEvent ReplyParser::data(std::string_view chunk) {
  const uint64_t room = limits_.maxDataBytes - std::min(limits_.maxDataBytes, dataBytes_);
  if (chunk.size() > room) {
    overLimit_ = true;
    if (room == 0) return dataLimit();
    chunk = chunk.substr(0, static_cast<size_t>(room));
  }
  dataBytes_ += chunk.size();
  return event(ReplyEvent::kData, chunk);
}

ReplyEvent ReplyParser::dataLimit() {
  return limit("message larger than maxDataBytes (" + std::to_string(limits_.maxDataBytes) +
               " bytes)");
}

ReplyEvent ReplyParser::nextData(std::string_view& input) {
  auto terminator = [this]() {
    held_.clear();
    expected_.pop_front();
    state_ = State::kStatusLine;
    return event(ReplyEvent::kEnd);
  };

  // Bytes held back at a line start: "." or ".\r", waiting for the byte that decides.
  if (!held_.empty()) {
    if (input.empty()) return event(ReplyEvent::kNeedMore);
    const char c = input[0];
    if (held_ == ".") {
      if (c == '\n') {  // ".\n": the terminator with a bare LF
        input.remove_prefix(1);
        return terminator();
      }
      if (c == '\r') {
        held_ += '\r';
        input.remove_prefix(1);
        return event(ReplyEvent::kNeedMore);
      }
      held_.clear();
      atLineStart_ = false;
      // "..": the first dot was stuffing; the data goes on with the second (still in input).
      if (c == '.') return event(ReplyEvent::kNeedMore);
      // "." + other: a line the server forgot to stuff; keep the dot (tolerant).
      out_ = ".";
      return data(out_);
    }
    // held_ == ".\r"
    if (c == '\n') {
      input.remove_prefix(1);
      return terminator();
    }
    out_ = held_;  // ".\r" + other: data, the CR is not a line end
    held_.clear();
    atLineStart_ = false;
    return data(out_);
  }

  if (input.empty()) return event(ReplyEvent::kNeedMore);
  if (atLineStart_ && input[0] == '.') {
    if (input.size() == 1) {
      held_ = ".";
      input.remove_prefix(1);
      return event(ReplyEvent::kNeedMore);
    }
    if (input[1] == '\n') {
      input.remove_prefix(2);
      return terminator();
    }
    if (input[1] == '\r') {
      if (input.size() == 2) {
        held_ = ".\r";
        input.remove_prefix(2);
        return event(ReplyEvent::kNeedMore);
      }
      if (input[2] == '\n') {
        input.remove_prefix(3);
        return terminator();
      }
    } else if (input[1] == '.') {
      input.remove_prefix(1);  // the stuffing dot
    }
    // Otherwise a forgotten stuffing: the dot is data (tolerant).
  }
  // One chunk: up to the end of the input, or to just after a LF followed by ".".
  size_t pos = 0;
  size_t end = input.size();
  bool lineStart = false;
  for (;;) {
    const void* lf = std::memchr(input.data() + pos, '\n', input.size() - pos);
    if (lf == nullptr) break;
    size_t at = static_cast<size_t>(static_cast<const char*>(lf) - input.data());
    if (at + 1 == input.size()) {
      lineStart = true;
      break;
    }
    if (input[at + 1] == '.') {
      end = at + 1;
      lineStart = true;
      break;
    }
    pos = at + 1;
  }
  atLineStart_ = lineStart;
  std::string_view chunk = input.substr(0, end);
  input.remove_prefix(end);
  return data(chunk);
}

}  // namespace mf::pop3
