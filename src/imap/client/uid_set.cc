#include "imap/client/uid_set.h"

#include <algorithm>

namespace mf::imap {

std::string compressUidSet(std::vector<uint32_t> uids) {
  std::sort(uids.begin(), uids.end());
  uids.erase(std::unique(uids.begin(), uids.end()), uids.end());
  std::string out;
  for (size_t i = 0; i < uids.size();) {
    size_t j = i;
    while (j + 1 < uids.size() && uids[j + 1] == uids[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(uids[i]);
    if (j > i) {
      out += ':';
      out += std::to_string(uids[j]);
    }
    i = j + 1;
  }
  return out;
}

}  // namespace mf::imap
