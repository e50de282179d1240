#include "base/checked_number.h"

#include <gtest/gtest.h>

namespace mf {
TEST(CheckedNumber, ParsesAndRejects) {
  EXPECT_EQ(parseDecimal("0"), 0u);
  EXPECT_EQ(parseDecimal("18446744073709551615"), UINT64_MAX);
  EXPECT_FALSE(parseDecimal("18446744073709551616"));
  EXPECT_FALSE(parseDecimal(""));
  EXPECT_FALSE(parseDecimal("-1"));
  EXPECT_FALSE(parseDecimal("1 "));
  EXPECT_EQ(parseU32("4294967295"), 4294967295u);
  EXPECT_FALSE(parseU32("4294967296"));
  EXPECT_FALSE(parseDecimal("100", 99));
}
}  // namespace mf
