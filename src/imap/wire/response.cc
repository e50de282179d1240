// Helpers over parsed responses; see response.h.
#include "imap/wire/response.h"

namespace mf::imap {
namespace {

// ASCII-only case folding: IMAP keywords are ASCII, and folding 8-bit bytes through the C
// locale would make the result depend on the process environment.
char asciiUpper(char c) {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (asciiUpper(a[i]) != asciiUpper(b[i])) return false;
  }
  return true;
}

}  // namespace

bool Value::isAtom(std::string_view upper) const {
  return kind == Kind::kAtom && equalsIgnoreCase(text, upper);
}

const Value* fetchItem(const Value& fetchList, std::string_view key) {
  if (fetchList.kind != Value::Kind::kList) return nullptr;
  // RFC 3501 section 7.4.2: msg-att is a list of (item name, value) pairs. Walking in
  // pairs keeps a value that happens to look like the key (an atom "UID" inside some
  // extension's value) from being mistaken for an item name.
  const std::vector<Value>& items = fetchList.items;
  for (size_t i = 0; i + 1 < items.size(); i += 2) {
    if (items[i].isAtom(key)) return &items[i + 1];
  }
  return nullptr;
}

}  // namespace mf::imap
