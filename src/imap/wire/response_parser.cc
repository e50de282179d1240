// Incremental IMAP response parser; the contract is in response_parser.h.
//
// Shape: the input is cut into line segments at LF (found with memchr). A response is one
// segment, or several when it carries literals: a segment ending in "{n}" is followed by n
// literal bytes and then by the next segment of the same response (RFC 3501 section 4.3).
// A segment is tokenized only once it is complete, so the tokenizer never resumes in the
// middle of a token; what carries over between segments is the response being built and
// the stack of lists still open.
//
// Copies: a segment that arrives whole inside one input is tokenized in place; only a
// segment split across calls is gathered in lineBuf_. Streamed literal bytes are never
// copied: each kLiteralData event is a view into the caller's input.
#include "imap/wire/response_parser.h"

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include "base/ascii.h"
#include "base/checked_number.h"

namespace mf::imap {
namespace {

// How much of an offending line an error message quotes: enough to recognise it, short
// enough that a 1 MB garbage line does not end up in a log.
constexpr size_t kQuotedLineMax = 120;

// A line buffer grown by one huge line is given back so an idle connection stays small.
constexpr size_t kKeepLineCapacity = 64 * 1024;

// Tolerance (QUIRKS.md): some servers pad with several spaces or a tab.
bool isBlank(char c) {
  return c == ' ' || c == '\t';
}

size_t skipBlanks(std::string_view s, size_t pos) {
  while (pos < s.size() && isBlank(s[pos])) ++pos;
  return pos;
}

std::string_view trim(std::string_view s) {
  size_t b = skipBlanks(s, 0);
  size_t e = s.size();
  while (e > b && isBlank(s[e - 1])) --e;
  return s.substr(b, e - b);
}

bool allDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// A copy of `line` safe to put in a log: printable ASCII kept, everything else \xNN,
// truncated to kQuotedLineMax bytes of input.
std::string printable(std::string_view line) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  size_t n = std::min(line.size(), kQuotedLineMax);
  out.reserve(n + 8);
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

// Index of the ']' closing the '[' at `open`, or npos. Brackets nest and quoted strings
// are skipped, so BODY[HEADER.FIELDS ("X]")] and [BADURL "imap://h/]"] close correctly.
size_t findClosingBracket(std::string_view s, size_t open) {
  int depth = 0;
  bool quoted = false;
  for (size_t i = open; i < s.size(); ++i) {
    char c = s[i];
    if (quoted) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        quoted = false;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == '[') {
      ++depth;
    } else if (c == ']') {
      if (--depth == 0) return i;
    }
  }
  return std::string_view::npos;
}

// End of the atom starting at `pos`. Atoms end at a blank or a parenthesis, except inside
// a section spec: BODY[HEADER.FIELDS (MESSAGE-ID)]<0> is one atom although it holds a
// space and parentheses (RFC 3501 section 7.4.2, msg-att-static). A '[' without a
// matching ']' is an ordinary byte, so a stray bracket does not swallow the line.
size_t atomEnd(std::string_view s, size_t pos) {
  while (pos < s.size()) {
    char c = s[pos];
    if (isBlank(c) || c == '(' || c == ')') break;
    if (c == '[') {
      size_t close = findClosingBracket(s, pos);
      if (close != std::string_view::npos) {
        pos = close + 1;
        continue;
      }
    }
    ++pos;
  }
  return pos;
}

// A word of the response header (tag, status, response name): ends at a blank, and the
// status/name also at '(' or '[' so "* FLAGS(\Seen)" and "* OK[ALERT]" still parse.
size_t headerWordEnd(std::string_view s, size_t pos, bool stopAtBrackets) {
  while (pos < s.size()) {
    char c = s[pos];
    if (isBlank(c)) break;
    if (stopAtBrackets && (c == '(' || c == '[')) break;
    ++pos;
  }
  return pos;
}

ParseEvent event(ParseEvent::Kind kind, uint64_t size = 0, std::string_view data = {}) {
  ParseEvent ev;
  ev.kind = kind;
  ev.size = size;
  ev.data = data;
  return ev;
}

}  // namespace

class ResponseParser::Impl {
 public:
  explicit Impl(ParserLimits limits) : limits_(limits) {}

  ParseEvent next(std::string_view& input);

  void setStreamPredicate(StreamPredicate p) { predicate_ = std::move(p); }
  Response takeResponse() { return std::exchange(ready_, Response{}); }
  const Response& partial() const { return cur_; }
  std::string_view literalKey() const { return literalKey_; }
  const Status& error() const { return error_; }

 private:
  enum class State {
    kLine,     // gathering the next line segment
    kCollect,  // copying literal bytes into a kString value
    kStream,   // handing literal bytes out as kLiteralData events
    kError,    // terminal
  };
  enum class Header { kDone, kData, kFailed };

  // Each returns true when `ev` holds an event for the caller, false to keep going.
  bool readLine(std::string_view& input, ParseEvent& ev);
  bool handleLine(std::string_view line, ParseEvent& ev);
  bool parseValues(std::string_view line, size_t pos, ParseEvent& ev);
  bool beginLiteral(std::string_view line, size_t pos, ParseEvent& ev);
  bool finish(ParseEvent& ev);

  Header parseHeader(std::string_view line, size_t& pos);
  void parseRespText(std::string_view rest);
  Value* addValue(Value::Kind kind);
  std::string_view precedingAtom() const;
  bool atListName() const;

  bool fail(Status status, ParseEvent& ev);
  bool syntaxError(std::string_view what, ParseEvent& ev);
  bool limitError(std::string what, ParseEvent& ev);
  void setSyntaxError(std::string_view what);
  void setLimitError(std::string what);

  const ParserLimits limits_;
  StreamPredicate predicate_;
  State state_ = State::kLine;
  Status error_;

  std::string lineBuf_;    // a segment split across next() calls
  std::string_view line_;  // the segment being tokenized, for error messages

  Response cur_;          // being built
  Response ready_;        // finished, waiting for takeResponse()
  bool started_ = false;  // cur_'s header has been parsed
  // Open lists, innermost last. Pointers stay valid: only the innermost list (or the
  // top-level values) grows, and no open list lives inside a vector that grows.
  std::vector<Value*> stack_;
  size_t valueCount_ = 0;   // values in cur_, nested ones included
  uint64_t keptBytes_ = 0;  // bytes cur_ holds in memory (lines + collected literals)

  uint64_t literalRemaining_ = 0;
  Value* literalTarget_ = nullptr;  // kCollect: the kString being filled
  std::string literalKey_;
};

ParseEvent ResponseParser::Impl::next(std::string_view& input) {
  for (;;) {
    switch (state_) {
      case State::kError:
        return event(ParseEvent::kError);

      case State::kStream: {
        if (literalRemaining_ == 0) {
          state_ = State::kLine;
          return event(ParseEvent::kLiteralEnd);
        }
        if (input.empty()) return ParseEvent{};
        size_t n = static_cast<size_t>(std::min<uint64_t>(literalRemaining_, input.size()));
        ParseEvent ev{ParseEvent::kLiteralData, 0, input.substr(0, n)};
        input.remove_prefix(n);
        literalRemaining_ -= n;
        return ev;
      }

      case State::kCollect: {
        if (literalRemaining_ == 0) {
          literalTarget_ = nullptr;
          state_ = State::kLine;
          break;
        }
        if (input.empty()) return ParseEvent{};
        size_t n = static_cast<size_t>(std::min<uint64_t>(literalRemaining_, input.size()));
        literalTarget_->text.append(input.data(), n);
        input.remove_prefix(n);
        literalRemaining_ -= n;
        break;
      }

      case State::kLine: {
        if (input.empty()) return ParseEvent{};
        ParseEvent ev;
        if (readLine(input, ev)) return ev;
        break;
      }
    }
  }
}

bool ResponseParser::Impl::readLine(std::string_view& input, ParseEvent& ev) {
  // A pending CR may sit at the end of the buffer, hence the + 1 while the LF is unseen;
  // the exact check on the finished line follows below.
  const size_t bufferMax = limits_.maxLineLength + 1;
  const void* lf = std::memchr(input.data(), '\n', input.size());
  if (lf == nullptr) {
    if (input.size() > bufferMax - std::min(bufferMax, lineBuf_.size())) {
      return limitError(
          "line longer than maxLineLength (" + std::to_string(limits_.maxLineLength) + " bytes)",
          ev);
    }
    lineBuf_.append(input);
    input.remove_prefix(input.size());
    ev = ParseEvent{};
    return true;
  }
  size_t n = static_cast<size_t>(static_cast<const char*>(lf) - input.data());
  std::string_view line;
  if (lineBuf_.empty()) {
    line = input.substr(0, n);
  } else {
    if (n > bufferMax - std::min(bufferMax, lineBuf_.size())) {
      return limitError(
          "line longer than maxLineLength (" + std::to_string(limits_.maxLineLength) + " bytes)",
          ev);
    }
    lineBuf_.append(input.data(), n);
    line = lineBuf_;
  }
  input.remove_prefix(n + 1);
  // RFC 3501 lines end in CRLF; a bare LF is tolerated (QUIRKS.md).
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() > limits_.maxLineLength) {
    return limitError(
        "line longer than maxLineLength (" + std::to_string(limits_.maxLineLength) + " bytes)", ev);
  }
  bool emit = handleLine(line, ev);
  line_ = {};
  lineBuf_.clear();
  if (lineBuf_.capacity() > kKeepLineCapacity) lineBuf_.shrink_to_fit();
  return emit;
}

bool ResponseParser::Impl::handleLine(std::string_view line, ParseEvent& ev) {
  line_ = line;
  size_t pos = 0;
  if (!started_) {
    // Tolerance: an empty line between responses carries nothing; skip it rather than
    // dropping the connection.
    if (trim(line).empty()) return false;
    switch (parseHeader(line, pos)) {
      case Header::kFailed:
        ev = event(ParseEvent::kError);
        return true;
      case Header::kDone:
        return finish(ev);
      case Header::kData:
        started_ = true;
        break;
    }
  }
  keptBytes_ += line.size();
  if (keptBytes_ > limits_.maxResponseBytes) {
    return limitError("response larger than maxResponseBytes (" +
                          std::to_string(limits_.maxResponseBytes) + " bytes held in memory)",
                      ev);
  }
  return parseValues(line, pos, ev);
}

// Response header: continuation, tagged status, untagged status or untagged data
// (RFC 3501 section 7; RFC 9051 section 9, "response").
ResponseParser::Impl::Header ResponseParser::Impl::parseHeader(std::string_view line, size_t& pos) {
  if (line[0] == '+') {
    // continue-req = "+" SP (resp-text / base64); a bare "+" is common and tolerated.
    cur_.type = ResponseType::kContinuation;
    cur_.text = std::string(trim(line.substr(1)));
    return Header::kDone;
  }
  size_t end = headerWordEnd(line, 0, false);
  std::string_view first = line.substr(0, end);
  pos = skipBlanks(line, end);

  if (first == "*") {
    cur_.type = ResponseType::kUntagged;
    end = headerWordEnd(line, pos, true);
    std::string_view word = line.substr(pos, end - pos);
    if (word.empty()) {
      setSyntaxError("missing response name after '*'");
      return Header::kFailed;
    }
    pos = skipBlanks(line, end);
    if (allDigits(word)) {
      // message-data: nz-number SP ("EXPUNGE" / "FETCH" ...), also "n EXISTS"/"n RECENT".
      std::optional<uint64_t> number = parseDecimal(word);
      if (!number) {
        setSyntaxError("message number out of range");
        return Header::kFailed;
      }
      cur_.number = number;
      end = headerWordEnd(line, pos, true);
      word = line.substr(pos, end - pos);
      if (word.empty()) {
        setSyntaxError("missing response name after the number");
        return Header::kFailed;
      }
      pos = skipBlanks(line, end);
      cur_.name = toUpperAscii(word);
      return Header::kData;
    }
    std::string upper = toUpperAscii(word);
    if (upper == "OK" || upper == "NO" || upper == "BAD" || upper == "BYE" || upper == "PREAUTH") {
      cur_.status = std::move(upper);
      parseRespText(line.substr(pos));
      return Header::kDone;
    }
    cur_.name = std::move(upper);
    return Header::kData;
  }

  if (first.empty()) {
    setSyntaxError("missing tag");
    return Header::kFailed;
  }
  cur_.type = ResponseType::kTagged;
  cur_.tag = std::string(first);
  end = headerWordEnd(line, pos, true);
  std::string upper = toUpperAscii(line.substr(pos, end - pos));
  // response-tagged = tag SP resp-cond-state CRLF: only OK, NO or BAD.
  if (upper != "OK" && upper != "NO" && upper != "BAD") {
    setSyntaxError("tagged response without OK/NO/BAD");
    return Header::kFailed;
  }
  cur_.status = std::move(upper);
  parseRespText(line.substr(skipBlanks(line, end)));
  return Header::kDone;
}

// resp-text = ["[" resp-text-code "]" SP] text. The code's arguments are kept raw: their
// syntax differs per code (PERMANENTFLAGS has a list, CAPABILITY atoms, APPENDUID numbers)
// and the client interprets the few it needs.
void ResponseParser::Impl::parseRespText(std::string_view rest) {
  rest = trim(rest);
  if (!rest.empty() && rest[0] == '[') {
    size_t close = findClosingBracket(rest, 0);
    if (close != std::string_view::npos) {
      std::string_view inner = trim(rest.substr(1, close - 1));
      size_t codeEnd = headerWordEnd(inner, 0, false);
      cur_.code = toUpperAscii(inner.substr(0, codeEnd));
      cur_.codeArgs = std::string(trim(inner.substr(codeEnd)));
      rest = trim(rest.substr(close + 1));
    }
    // An unclosed '[' is not a code; the whole rest stays human-readable text.
  }
  cur_.text = std::string(rest);
}

bool ResponseParser::Impl::parseValues(std::string_view line, size_t pos, ParseEvent& ev) {
  const size_t end = line.size();
  for (;;) {
    pos = skipBlanks(line, pos);
    if (pos == end) {
      if (!stack_.empty()) return syntaxError("unterminated list", ev);
      return finish(ev);
    }
    char c = line[pos];
    if (c == '(') {
      if (stack_.size() >= limits_.maxNesting) {
        return limitError(
            "lists nested deeper than maxNesting (" + std::to_string(limits_.maxNesting) + ")", ev);
      }
      Value* list = addValue(Value::Kind::kList);
      if (list == nullptr) return fail(error_, ev);
      stack_.push_back(list);
      ++pos;
    } else if (c == ')') {
      if (stack_.empty()) return syntaxError("unbalanced ')'", ev);
      stack_.pop_back();
      ++pos;
    } else if (c == '"') {
      // quoted = DQUOTE *QUOTED-CHAR DQUOTE, with \" and \\ escapes (RFC 3501 section 9).
      std::string text;
      size_t i = pos + 1;
      for (;;) {
        size_t stop = line.find_first_of("\"\\", i);
        if (stop == std::string_view::npos || (line[stop] == '\\' && stop + 1 == end)) {
          return syntaxError("unterminated quoted string", ev);
        }
        text.append(line.data() + i, stop - i);
        if (line[stop] == '"') {
          i = stop + 1;
          break;
        }
        text += line[stop + 1];  // tolerant: any escaped byte stands for itself
        i = stop + 2;
      }
      Value* v = addValue(Value::Kind::kString);
      if (v == nullptr) return fail(error_, ev);
      v->text = std::move(text);
      pos = i;
    } else if (c == '{' || (c == '~' && pos + 1 < end && line[pos + 1] == '{')) {
      return beginLiteral(line, pos, ev);
    } else {
      size_t e = atomEnd(line, pos);
      if (atListName()) {
        // Tolerance (QUIRKS.md "Generic"): servers that send a LIST/LSUB name with spaces
        // unquoted ("* LIST () "/" My Folder"). The mailbox is an astring (RFC 3501 section
        // 9), which holds no space or parenthesis, so the only reading is "the name is the
        // rest of the line". Blanks and then "(" after the atom is the RFC 5258
        // mbox-list-extended data of a well-formed name, which is parsed as usual.
        size_t next = skipBlanks(line, e);
        if (next < end && (next == e || line[next] != '(')) e = end;
      }
      std::string_view token = line.substr(pos, e - pos);
      pos = e;
      Value* v;
      std::optional<uint64_t> number;
      if (equalsIgnoreCase(token, "NIL")) {
        v = addValue(Value::Kind::kNil);
      } else if (allDigits(token) && (number = parseDecimal(token))) {
        v = addValue(Value::Kind::kNumber);
        if (v != nullptr) v->number = *number;
      } else {
        // Includes digit strings beyond 64 bits: kept as text rather than rejected, since
        // e.g. a MODSEQ-like value the client does not use should not kill the session.
        v = addValue(Value::Kind::kAtom);
      }
      if (v == nullptr) return fail(error_, ev);
      if (v->kind != Value::Kind::kNil) v->text = std::string(token);
    }
  }
}

// literal = "{" number ["+"] "}" CRLF *CHAR8 (RFC 3501, RFC 7888); literal8 = "~{" ...
// (RFC 3516). The marker must end its line: the literal's bytes follow the CRLF.
bool ResponseParser::Impl::beginLiteral(std::string_view line, size_t pos, ParseEvent& ev) {
  if (line[pos] == '~') ++pos;
  size_t close = line.find('}', pos);
  if (close == std::string_view::npos) return syntaxError("malformed literal marker", ev);
  std::string_view digits = line.substr(pos + 1, close - pos - 1);
  if (!digits.empty() && digits.back() == '+') digits.remove_suffix(1);
  if (!allDigits(digits)) return syntaxError("malformed literal marker", ev);
  if (!trim(line.substr(close + 1)).empty()) {
    return syntaxError("literal marker not at the end of the line", ev);
  }
  std::optional<uint64_t> size = parseDecimal(digits);
  if (!size || *size > limits_.maxLiteral) {
    // A size beyond 64 bits is beyond any limit too.
    return limitError("literal of " + std::string(digits) + " bytes exceeds maxLiteral (" +
                          std::to_string(limits_.maxLiteral) + " bytes)",
                      ev);
  }
  literalKey_.assign(precedingAtom());
  literalRemaining_ = *size;
  if (predicate_ && predicate_(cur_, literalKey_, *size)) {
    Value* v = addValue(Value::Kind::kStreamed);
    if (v == nullptr) return fail(error_, ev);
    v->number = *size;
    state_ = State::kStream;
    ev = event(ParseEvent::kLiteralBegin, *size);
    return true;
  }
  if (*size > limits_.maxInlineLiteral) {
    return limitError("literal of " + std::to_string(*size) + " bytes exceeds maxInlineLiteral (" +
                          std::to_string(limits_.maxInlineLiteral) + " bytes) and is not streamed",
                      ev);
  }
  if (*size > limits_.maxResponseBytes - std::min(limits_.maxResponseBytes, keptBytes_)) {
    return limitError("response larger than maxResponseBytes (" +
                          std::to_string(limits_.maxResponseBytes) + " bytes held in memory)",
                      ev);
  }
  keptBytes_ += *size;
  Value* v = addValue(Value::Kind::kString);
  if (v == nullptr) return fail(error_, ev);
  v->text.reserve(static_cast<size_t>(*size));
  literalTarget_ = v;
  state_ = State::kCollect;
  return false;
}

bool ResponseParser::Impl::finish(ParseEvent& ev) {
  ready_ = std::exchange(cur_, Response{});
  started_ = false;
  stack_.clear();
  valueCount_ = 0;
  keptBytes_ = 0;
  ev = event(ParseEvent::kResponse);
  return true;
}

Value* ResponseParser::Impl::addValue(Value::Kind kind) {
  if (valueCount_ >= limits_.maxValuesPerResponse) {
    setLimitError("more than maxValuesPerResponse (" +
                  std::to_string(limits_.maxValuesPerResponse) + ") values in one response");
    return nullptr;
  }
  ++valueCount_;
  std::vector<Value>& container = stack_.empty() ? cur_.values : stack_.back()->items;
  Value& v = container.emplace_back();
  v.kind = kind;
  return &v;
}

// The atom right before a literal in the same list, e.g. "BODY[]" in "BODY[] {5}".
std::string_view ResponseParser::Impl::precedingAtom() const {
  const std::vector<Value>& container = stack_.empty() ? cur_.values : stack_.back()->items;
  if (container.empty() || container.back().kind != Value::Kind::kAtom) return {};
  return container.back().text;
}

// True where the mailbox name of a LIST/LSUB (or Gmail's old XLIST) response comes next:
// "* LIST" mailbox-list = "(" flags ")" SP (DQUOTE char DQUOTE / nil) SP mailbox.
bool ResponseParser::Impl::atListName() const {
  return stack_.empty() && cur_.values.size() == 2 && cur_.type == ResponseType::kUntagged &&
         (cur_.name == "LIST" || cur_.name == "LSUB" || cur_.name == "XLIST");
}

bool ResponseParser::Impl::fail(Status status, ParseEvent& ev) {
  error_ = std::move(status);
  state_ = State::kError;
  ev = event(ParseEvent::kError);
  return true;
}

void ResponseParser::Impl::setSyntaxError(std::string_view what) {
  error_ = Status(Errc::kProtocol, "IMAP response syntax error: " + std::string(what) +
                                       " in line \"" + printable(line_) + "\"");
  state_ = State::kError;
}

void ResponseParser::Impl::setLimitError(std::string what) {
  error_ = Status(Errc::kLimit, "IMAP response " + what);
  state_ = State::kError;
}

bool ResponseParser::Impl::syntaxError(std::string_view what, ParseEvent& ev) {
  setSyntaxError(what);
  ev = event(ParseEvent::kError);
  return true;
}

bool ResponseParser::Impl::limitError(std::string what, ParseEvent& ev) {
  setLimitError(std::move(what));
  ev = event(ParseEvent::kError);
  return true;
}

ResponseParser::ResponseParser(ParserLimits limits) : impl_(std::make_shared<Impl>(limits)) {}

void ResponseParser::setStreamPredicate(StreamPredicate predicate) {
  impl_->setStreamPredicate(std::move(predicate));
}

ParseEvent ResponseParser::next(std::string_view& input) {
  return impl_->next(input);
}

Response ResponseParser::takeResponse() {
  return impl_->takeResponse();
}

const Response& ResponseParser::partial() const {
  return impl_->partial();
}

std::string_view ResponseParser::literalKey() const {
  return impl_->literalKey();
}

const Status& ResponseParser::error() const {
  return impl_->error();
}

}  // namespace mf::imap
