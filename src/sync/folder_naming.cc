#include "sync/folder_naming.h"

#include <cstring>

#include "base/ascii.h"

namespace mf::sync {
namespace {

const std::string kIdeographicSpace = "\xE3\x80\x80";  // U+3000 in UTF-8

std::string replaceAll(std::string s, const std::string& from, const std::string& to) {
  size_t pos = 0;
  while ((pos = s.find(from, pos)) != std::string::npos) {
    s.replace(pos, from.size(), to);
    pos += to.size();
  }
  return s;
}

std::string collapseBlanks(const std::string& s) {
  std::string out;
  for (char c : s) {
    bool blank = c == ' ' || c == '\t';
    if (blank && (out.empty() || out.back() == ' ')) continue;
    out += blank ? ' ' : c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::string replaceRefused(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    bool refused = c < 0x20 || c == 0x7f || std::strchr("^&%*\"\\~#[]{}|<>?", c) != nullptr;
    out += refused ? '_' : static_cast<char>(c);
  }
  return out;
}

std::string asciiOnly(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = s[i];
    if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    // One '_' per UTF-8 sequence, not per byte.
    size_t len = (c >= 0xF0) ? 4 : (c >= 0xE0) ? 3 : (c >= 0xC0) ? 2 : 1;
    out += '_';
    i += len;
  }
  return out;
}

}  // namespace

std::vector<std::string> renameCandidates(const std::string& component) {
  std::vector<std::string> out;
  std::string current = component;
  auto step = [&](std::string next) {
    if (next.empty()) next = "_";
    if (next != current) out.push_back(next);
    current = std::move(next);
  };
  step(replaceAll(current, kIdeographicSpace, " "));
  step(collapseBlanks(current));
  step(replaceRefused(current));
  step(asciiOnly(current));
  return out;
}

std::string numberedName(const std::string& component, int n) {
  return component + " (" + std::to_string(n) + ")";
}

std::vector<std::vector<std::string>> renamedDestinations(const std::vector<std::string>& planned) {
  std::vector<std::vector<std::string>> out;
  if (planned.empty()) return out;
  for (const auto& candidate : renameCandidates(planned.back())) {
    out.push_back(planned);
    out.back().back() = candidate;
  }
  for (int n = 2; n <= kLastNumber; ++n) {
    out.push_back(planned);
    out.back().back() = numberedName(planned.back(), n);
  }
  return out;
}

namespace {

// "Name (7)" -> "Name"; anything else unchanged.
std::string withoutNumber(const std::string& component) {
  if (component.size() < 4 || component.back() != ')') return component;
  size_t open = component.rfind(" (");
  if (open == std::string::npos || open + 3 > component.size() - 1) return component;
  for (size_t i = open + 2; i + 1 < component.size(); ++i) {
    if (component[i] < '0' || component[i] > '9') return component;
  }
  return component.substr(0, open);
}

// Case is ignored: a numbered name comes from a collision on a server that ignores case,
// where the planned name may be the other folder's spelling ("Trash (2)" for "trash").
bool isComponentRenamingOf(const std::string& used, const std::string& planned) {
  if (used == planned) return true;
  std::vector<std::string> candidates = renameCandidates(planned);
  candidates.push_back(planned);
  for (const std::string& base : {used, withoutNumber(used)}) {
    for (const auto& candidate : candidates) {
      if (equalsIgnoreCase(base, candidate)) return true;
    }
  }
  return false;
}

}  // namespace

bool isRenamingOf(const std::vector<std::string>& used, const std::vector<std::string>& planned) {
  if (used.size() != planned.size()) return false;
  for (size_t i = 0; i < used.size(); ++i) {
    if (!isComponentRenamingOf(used[i], planned[i])) return false;
  }
  return true;
}

}  // namespace mf::sync
