// Quoting command builder; the contract is in command_builder.h.
#include "imap/wire/command_builder.h"

#include <array>
#include <cassert>
#include <string>
#include <utility>

#include "base/ascii.h"

namespace mf::imap {
namespace {

// RFC 3501 section 9: ATOM-CHAR = any CHAR except atom-specials, where
// atom-specials = "(" / ")" / "{" / SP / CTL / list-wildcards ("%" "*") / quoted-specials
// (DQUOTE "\") / resp-specials ("]").
bool isAtomChar(unsigned char c) {
  if (c <= 0x20 || c >= 0x7f) return false;
  switch (c) {
    case '(':
    case ')':
    case '{':
    case '%':
    case '*':
    case '"':
    case '\\':
    case ']':
      return false;
    default:
      return true;
  }
}

// What atom() accepts: ATOM-CHAR plus the bytes our own fixed syntax needs in bare tokens
// ('\' in flags, '*' and '%' in sequence sets and LIST patterns, ']' in BODY.PEEK[]).
// Still excluded is everything that could change how the server splits the command: space,
// controls (CR/LF), '"', '(', ')', '{' and 8-bit bytes.
bool isBareToken(std::string_view text) {
  if (text.empty()) return false;
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7f || c == '(' || c == ')' || c == '{' || c == '"') return false;
  }
  return true;
}

// RFC 3501 section 2.3.2 system flags a client may set. \Recent is server-managed and
// "\*" only appears in PERMANENTFLAGS, so neither is ever sent.
constexpr std::array<std::string_view, 5> kSystemFlags = {"\\Seen", "\\Answered", "\\Flagged",
                                                          "\\Deleted", "\\Draft"};

// The spelling to send for `flag`, or empty if it is not a flag we may send. System flags
// are matched case-insensitively (flags are case-insensitive, RFC 3501 section 2.3.2) and
// sent in their canonical spelling; keywords are sent as given.
std::string_view canonicalFlag(std::string_view flag) {
  if (!flag.empty() && flag[0] == '\\') {
    for (std::string_view sys : kSystemFlags) {
      if (equalsIgnoreCase(flag, sys)) return sys;
    }
    return {};  // \Recent, \*, and unknown flag-extensions servers would reject
  }
  return CommandBuilder::isAtom(flag) ? flag : std::string_view{};
}

}  // namespace

CommandBuilder::CommandBuilder(std::string_view tag, std::string_view command, bool literalPlus)
    : literalPlus_(literalPlus) {
  current_.reserve(tag.size() + command.size() + 32);
  current_.append(tag);
  current_ += ' ';
  current_.append(command);
}

void CommandBuilder::separator() {
  if (needSpace_) current_ += ' ';
  needSpace_ = true;
}

CommandBuilder& CommandBuilder::raw(std::string_view text) {
  // Raw text is our own syntax, never user data; a line break in it would end the command.
  assert(text.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos);
  separator();
  current_.append(text);
  return *this;
}

CommandBuilder& CommandBuilder::atom(std::string_view text) {
  assert(isBareToken(text));
  // Release builds: never emit bytes that could split or end the command; quote instead.
  if (!isBareToken(text)) return astring(text);
  separator();
  current_.append(text);
  return *this;
}

CommandBuilder& CommandBuilder::number(uint64_t value) {
  separator();
  current_ += std::to_string(value);
  return *this;
}

CommandBuilder& CommandBuilder::astring(std::string_view text) {
  if (!isAtom(text)) return quotedOrLiteral(text);
  separator();
  current_.append(text);
  return *this;
}

CommandBuilder& CommandBuilder::quotedOrLiteral(std::string_view text) {
  if (!isQuotable(text)) return literal(text);
  separator();
  // quoted = DQUOTE *QUOTED-CHAR DQUOTE; only '"' and '\' need escaping (RFC 3501 sec. 9).
  current_ += '"';
  for (char c : text) {
    if (c == '"' || c == '\\') current_ += '\\';
    current_ += c;
  }
  current_ += '"';
  return *this;
}

CommandBuilder& CommandBuilder::literal(std::string_view bytes) {
  literalHeader(bytes.size());
  current_.append(bytes);
  return *this;
}

CommandBuilder& CommandBuilder::literalHeader(uint64_t size) {
  separator();
  current_ += '{';
  current_ += std::to_string(size);
  // RFC 7888 LITERAL+: "{n+}" needs no continuation; "{n}" makes the server answer "+"
  // before it reads the bytes (RFC 3501 section 7.5), so the segment ends here.
  current_ += literalPlus_ ? "+}\r\n" : "}\r\n";
  segments_.push_back(CommandSegment{std::move(current_), !literalPlus_});
  current_.clear();
  return *this;
}

CommandBuilder& CommandBuilder::flagList(const std::vector<std::string>& flags,
                                         std::vector<std::string>* rejected) {
  separator();
  current_ += '(';
  std::vector<std::string_view> sent;
  for (const std::string& flag : flags) {
    std::string_view canon = canonicalFlag(flag);
    if (canon.empty()) {
      if (rejected != nullptr) rejected->push_back(flag);
      continue;
    }
    // A flag listed twice is harmless to drop; some servers answer BAD to duplicates.
    bool duplicate = false;
    for (std::string_view s : sent) duplicate = duplicate || equalsIgnoreCase(s, canon);
    if (duplicate) continue;
    if (!sent.empty()) current_ += ' ';
    current_.append(canon);
    sent.push_back(canon);
  }
  current_ += ')';
  return *this;
}

CommandBuilder& CommandBuilder::openList() {
  separator();
  current_ += '(';
  needSpace_ = false;
  return *this;
}

CommandBuilder& CommandBuilder::closeList() {
  current_ += ')';
  needSpace_ = true;
  return *this;
}

std::vector<CommandSegment> CommandBuilder::takeSegments() {
  if (!current_.empty()) {
    segments_.push_back(CommandSegment{std::move(current_), false});
    current_.clear();
  }
  return std::exchange(segments_, {});
}

std::vector<CommandSegment> CommandBuilder::build() {
  current_ += "\r\n";
  segments_.push_back(CommandSegment{std::move(current_), false});
  current_.clear();
  return std::exchange(segments_, {});
}

bool CommandBuilder::isAtom(std::string_view text) {
  if (text.empty() || equalsIgnoreCase(text, "NIL")) return false;
  for (char c : text) {
    if (!isAtomChar(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool CommandBuilder::isQuotable(std::string_view text) {
  // quoted holds TEXT-CHAR: 7-bit, no NUL, CR or LF (RFC 3501 section 9). Anything else
  // needs a literal (or UTF8=ACCEPT, which the client layer decides on).
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (c == 0 || c == '\r' || c == '\n' || c >= 0x80) return false;
  }
  return true;
}

bool CommandBuilder::isFlag(std::string_view text) {
  return !canonicalFlag(text).empty();
}

}  // namespace mf::imap
