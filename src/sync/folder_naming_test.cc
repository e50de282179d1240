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

TEST(FolderNaming, RenamedDestinationsInMigratesOrder) {
  using Path = std::vector<std::string>;
  auto refused = renamedDestinations(Path{"Work", "a^b"});
  ASSERT_GE(refused.size(), 2u);
  EXPECT_EQ(refused[0], (Path{"Work", "a_b"}));
  EXPECT_EQ(refused[1], (Path{"Work", "a^b (2)"}));
  EXPECT_EQ(refused.back(), (Path{"Work", "a^b (99)"}));
  auto plain = renamedDestinations(Path{"Trash"});
  EXPECT_EQ(plain.front(), (Path{"Trash (2)"}));
  EXPECT_EQ(plain.size(), 98u);
  EXPECT_TRUE(renamedDestinations(Path{}).empty());
}

TEST(FolderNaming, RenamingOfTellsOwnRenamesFromOtherNames) {
  using Path = std::vector<std::string>;
  EXPECT_TRUE(isRenamingOf(Path{"Sent"}, Path{"Sent"}));
  EXPECT_TRUE(isRenamingOf(Path{"Sent (2)"}, Path{"Sent"}));
  EXPECT_TRUE(isRenamingOf(Path{"Trash (2)"}, Path{"trash"}));  // a fold-case collision
  EXPECT_TRUE(isRenamingOf(Path{"Work", "a_b (12)"}, Path{"Work", "a^b"}));
  EXPECT_TRUE(isRenamingOf(Path{"Old stuff"}, Path{"  Old   stuff "}));
  EXPECT_TRUE(isRenamingOf(Path{"x_y", "In"}, Path{"x|y", "In"}));
  // Names the user's rules chose differently, or a look-alike that is not our pattern.
  EXPECT_FALSE(isRenamingOf(Path{"Old", "Projects"}, Path{"New", "Projects"}));
  EXPECT_FALSE(isRenamingOf(Path{"Sent (x)"}, Path{"Sent"}));
  EXPECT_FALSE(isRenamingOf(Path{"Sent ()"}, Path{"Sent"}));
  EXPECT_FALSE(isRenamingOf(Path{"Sent (2)"}, Path{"Drafts"}));
  EXPECT_FALSE(isRenamingOf(Path{"Work", "Sent"}, Path{"Sent"}));
}
}  // namespace mf::sync
