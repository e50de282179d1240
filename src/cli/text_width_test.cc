#include "cli/text_width.h"

#include <gtest/gtest.h>

namespace mf::cli {
TEST(TextWidth, CountsColumns) {
  EXPECT_EQ(displayWidth("INBOX"), 5u);
  EXPECT_EQ(displayWidth("Entwürfe alt"), 12u);
  EXPECT_EQ(displayWidth("日本語\xE3\x80\x80フォルダ"), 16u);
  EXPECT_EQ(padRight("日本", 6), "日本  ");
  EXPECT_EQ(padRight("toolong", 3), "toolong");
}
}  // namespace mf::cli
