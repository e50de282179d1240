// SHA-256 of message bodies fetched through a MailSource: used by `verify --deep` and to
// re-match messages without a Message-ID after a UIDVALIDITY change.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "access/mail_access.h"

namespace mf::sync {

struct BodyDigest {
  std::string sha256Hex;
  uint64_t size = 0;  // exact byte count
};

// Fetches `uids` from the folder open on `source` and returns uid -> digest.
Result<std::map<uint32_t, BodyDigest>> digestBodies(access::MailSource& source,
                                                    const std::vector<uint32_t>& uids);

}  // namespace mf::sync
