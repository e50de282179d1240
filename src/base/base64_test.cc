#include "base/base64.h"

#include <gtest/gtest.h>

namespace mf {
TEST(Base64, Rfc4648Vectors) {
  EXPECT_EQ(base64Encode(""), "");
  EXPECT_EQ(base64Encode("f"), "Zg==");
  EXPECT_EQ(base64Encode("fo"), "Zm8=");
  EXPECT_EQ(base64Encode("foo"), "Zm9v");
  EXPECT_EQ(base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64Encode(std::string("\0alice\0pw", 9)), "AGFsaWNlAHB3");
  EXPECT_EQ(*base64Decode("Zm9vYmE="), "fooba");
  EXPECT_EQ(*base64Decode("Zg=="), "f");
  EXPECT_FALSE(base64Decode("Zg="));
  EXPECT_FALSE(base64Decode("Z=g="));
  EXPECT_FALSE(base64Decode("Zm9v!mFy"));
}
}  // namespace mf
