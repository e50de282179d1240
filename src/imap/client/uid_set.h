// UID sequence sets (RFC 3501 section 9, sequence-set) built from a list of UIDs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mf::imap {

// "1:3,7,9:12" from {1,2,3,7,9,10,11,12}. Input need not be sorted; duplicates collapse.
std::string compressUidSet(std::vector<uint32_t> uids);

}  // namespace mf::imap
