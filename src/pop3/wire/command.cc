#include "pop3/wire/command.h"

#include <algorithm>

#include "base/ascii.h"

namespace mf::pop3 {
namespace {

bool hasLineBreakOrNul(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

}  // namespace

Command::Command(std::string_view keyword) : keyword_(toUpperAscii(keyword)) {}

Command::~Command() {
  for (auto& a : args_) std::fill(a.begin(), a.end(), '\0');
}

bool Command::isForbidden(std::string_view keyword) {
  return equalsIgnoreCase(keyword, "DELE");
}

Command& Command::arg(std::string_view word) {
  const std::string which = "argument " + std::to_string(args_.size() + 1) + " of " + keyword_;
  if (problem_.isOk()) {
    if (hasTrailing_) {
      problem_ = Status(Errc::kInternal, which + " follows the trailing argument");
    } else if (word.empty()) {
      problem_ = Status(Errc::kUsage, which + " is empty");
    } else if (hasLineBreakOrNul(word)) {
      problem_ = Status(Errc::kUsage, which +
                                          " contains a line break or NUL, which a POP3 command "
                                          "cannot carry");
    } else if (word.find(' ') != std::string_view::npos) {
      problem_ = Status(Errc::kUsage, which +
                                          " contains a space, which a POP3 server would read as "
                                          "two arguments");
    }
  }
  args_.emplace_back(word);
  return *this;
}

Command& Command::number(uint64_t value) {
  return arg(std::to_string(value));
}

Command& Command::trailing(std::string_view text) {
  const std::string which = "argument " + std::to_string(args_.size() + 1) + " of " + keyword_;
  if (problem_.isOk()) {
    if (hasTrailing_) {
      problem_ = Status(Errc::kInternal, which + " follows the trailing argument");
    } else if (text.empty()) {
      problem_ = Status(Errc::kUsage, which + " is empty");
    } else if (hasLineBreakOrNul(text)) {
      problem_ = Status(Errc::kUsage, which +
                                          " contains a line break or NUL, which a POP3 command "
                                          "cannot carry");
    }
  }
  args_.emplace_back(text);
  hasTrailing_ = true;
  return *this;
}

Result<std::string> Command::build() const {
  if (isForbidden(keyword_)) {
    return Status(Errc::kInternal,
                  "refusing to send DELE: mailferry never deletes anything from a POP3 source");
  }
  if (keyword_.size() < 3 || keyword_.size() > 4) {
    return Status(Errc::kInternal, "POP3 keyword '" + keyword_ + "' is not 3 or 4 letters");
  }
  for (char c : keyword_) {
    if (c < 'A' || c > 'Z') {
      return Status(Errc::kInternal, "POP3 keyword '" + keyword_ + "' is not 3 or 4 letters");
    }
  }
  if (!problem_.isOk()) return problem_;
  std::string line = keyword_;
  for (const auto& a : args_) {
    line += ' ';
    line += a;
  }
  line += "\r\n";
  if (line.size() > kMaxCommandLength) {
    std::fill(line.begin(), line.end(), '\0');
    return Status(Errc::kLimit, keyword_ + " command would be longer than the " +
                                    std::to_string(kMaxCommandLength) +
                                    " octets POP3 allows (RFC 2449 section 4)");
  }
  return line;
}

Result<std::string> saslResponseLine(std::string_view response) {
  if (hasLineBreakOrNul(response)) {
    return Status(Errc::kUsage, "SASL response contains a line break or NUL");
  }
  std::string line(response);
  line += "\r\n";
  return line;
}

}  // namespace mf::pop3
