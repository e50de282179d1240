#include "imap/client/uid_set.h"

#include <gtest/gtest.h>

namespace mf::imap {
TEST(UidSet, CompressesRanges) {
  EXPECT_EQ(compressUidSet({}), "");
  EXPECT_EQ(compressUidSet({5}), "5");
  EXPECT_EQ(compressUidSet({12, 1, 2, 3, 7, 9, 10, 11, 3}), "1:3,7,9:12");
  EXPECT_EQ(compressUidSet({4294967295u, 4294967294u}), "4294967294:4294967295");
}
}  // namespace mf::imap
