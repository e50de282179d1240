// Helpers over parsed responses; see response.h.
#include "imap/wire/response.h"

#include "base/ascii.h"

namespace mf::imap {

bool Value::isAtom(std::string_view upper) const {
  // ASCII-only folding (base/ascii.h): IMAP keywords are ASCII, and folding 8-bit bytes
  // through the C locale would make the result depend on the process environment.
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
