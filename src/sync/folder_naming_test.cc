#include "sync/folder_naming.h"

#include <gtest/gtest.h>

namespace mf::sync {
TEST(FolderNaming, StepsInOrder) {
  auto c = renameCandidates("日本語\xE3\x80\x80フォルダ");
  ASSERT_GE(c.size(), 2u);
  EXPECT_EQ(c[0], "日本語 フォルダ");
  EXPECT_EQ(c.back(), "___ ____");
  EXPECT_EQ(renameCandidates("  Old   stuff ")[0], "Old stuff");
  EXPECT_EQ(renameCandidates("a^b&c")[0], "a_b_c");
  EXPECT_TRUE(renameCandidates("Plain").empty());
  EXPECT_EQ(numberedName("trash", 2), "trash (2)");
}
}  // namespace mf::sync
