#include "message/headers.h"

#include <gtest/gtest.h>

namespace mf::message {
TEST(Headers, FindsFoldedFieldCaseInsensitively) {
  std::string m =
      "From: a@b\r\nmessage-id:\r\n  <x@y>\r\nSubject: hi\r\n\r\nMessage-ID: <body@no>\r\n";
  EXPECT_EQ(headerField(m, "Message-ID"), "<x@y>");
  EXPECT_EQ(headerField(m, "Subject"), "hi");
  EXPECT_EQ(headerField(m, "To"), "");
}
TEST(Headers, BareLfAndHeaderOnly) {
  EXPECT_EQ(headerField("Message-ID: <a@b>\nX: y\n", "message-id"), "<a@b>");
  EXPECT_EQ(headerBlockLength("A: b\n\nbody"), 6u);
  EXPECT_EQ(headerBlockLength("A: b\r\n"), 6u);
}
}  // namespace mf::message
