#include "message/headers.h"

#include "base/ascii.h"

namespace mf::message {
namespace {
bool isBlank(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (isBlank(s.front()) || s.front() == '\r' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() && (isBlank(s.back()) || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}
}  // namespace

size_t headerBlockLength(std::string_view message) {
  size_t pos = 0;
  while (pos < message.size()) {
    size_t eol = message.find('\n', pos);
    if (eol == std::string_view::npos) return message.size();
    std::string_view line = message.substr(pos, eol - pos);
    if (line.empty() || line == "\r") return eol + 1;
    pos = eol + 1;
  }
  return message.size();
}

std::string headerField(std::string_view message, std::string_view name) {
  std::string_view header = message.substr(0, headerBlockLength(message));
  size_t pos = 0;
  while (pos < header.size()) {
    size_t eol = header.find('\n', pos);
    if (eol == std::string_view::npos) eol = header.size();
    std::string_view line = header.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.size() > name.size() && line[name.size()] == ':' && startsWithIgnoreCase(line, name)) {
      std::string value(trim(line.substr(name.size() + 1)));
      // Continuation lines start with white space (RFC 5322 section 2.2.3: unfolding).
      while (pos < header.size() && isBlank(header[pos])) {
        size_t next = header.find('\n', pos);
        if (next == std::string_view::npos) next = header.size();
        std::string_view cont = trim(header.substr(pos, next - pos));
        if (!cont.empty()) {
          if (!value.empty()) value += ' ';
          value += cont;
        }
        pos = next + 1;
      }
      return value;
    }
  }
  return {};
}

}  // namespace mf::message
