#include "base/slot_files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace mf {
namespace {

class SlotFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/mf-slots-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::optional<SlotLease> claim(const std::string& name, size_t count) {
    auto r = tryClaimSlot(dir_, name, count);
    EXPECT_TRUE(r.isOk()) << r.status().message();
    return r ? std::move(r).value() : std::nullopt;
  }

  std::string dir_;
};

TEST_F(SlotFilesTest, ClaimsLowestFreeSlotUntilAllAreHeld) {
  auto a = claim("127.0.0.1:143", 3);
  auto b = claim("127.0.0.1:143", 3);
  auto c = claim("127.0.0.1:143", 3);
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(a->index(), 0u);
  EXPECT_EQ(b->index(), 1u);
  EXPECT_EQ(c->index(), 2u);
  EXPECT_FALSE(claim("127.0.0.1:143", 3));
  // A bigger pool of the same name has room beyond the first three.
  auto d = claim("127.0.0.1:143", 4);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->index(), 3u);
}

TEST_F(SlotFilesTest, ReleasedSlotIsFreeAgain) {
  auto a = claim("host", 2);
  {
    auto b = claim("host", 2);
    ASSERT_TRUE(b);
    EXPECT_FALSE(claim("host", 2));
  }
  auto again = claim("host", 2);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->index(), 1u);
  SlotLease moved = std::move(*again);  // a moved-from lease releases nothing
  again.reset();
  EXPECT_FALSE(claim("host", 2));
}

TEST_F(SlotFilesTest, NamesArePoolsOfTheirOwn) {
  auto a = claim("source.example:993", 1);
  auto b = claim("dest.example:993", 1);
  EXPECT_TRUE(a && b);
}

TEST_F(SlotFilesTest, OddNamesBecomeSafeFileNames) {
  auto a = claim("../../[::1]:143", 1);
  ASSERT_TRUE(a);
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/.._..____1__143.0"));
}

TEST_F(SlotFilesTest, SlotHeldByAnotherProcessIsTakenAndFreedWhenItDies) {
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto held = tryClaimSlot(dir_, "shared", 1);
    char ok = held && *held ? '1' : '0';
    (void)!write(ready[1], &ok, 1);
    pause();  // holds the slot until killed
    _exit(0);
  }
  char ok = 0;
  ASSERT_EQ(read(ready[0], &ok, 1), 1);
  ASSERT_EQ(ok, '1');
  EXPECT_FALSE(claim("shared", 1));
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_TRUE(claim("shared", 1));  // the kernel dropped the dead holder's lock
  close(ready[0]);
  close(ready[1]);
}

TEST_F(SlotFilesTest, MissingDirectoryIsAnError) {
  auto r = tryClaimSlot(dir_ + "/nope", "host", 1);
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find("cannot open the slot file"), std::string::npos);
}

TEST_F(SlotFilesTest, RuntimeDirectoryIsPrivateAndRefusedWhenOpen) {
  const char* old = std::getenv("XDG_RUNTIME_DIR");
  const std::string saved = old ? old : "";
  setenv("XDG_RUNTIME_DIR", dir_.c_str(), 1);
  auto made = userRuntimeDirectory();
  ASSERT_TRUE(made) << made.status().message();
  EXPECT_EQ(*made, dir_ + "/mailferry");
  struct stat st {};
  ASSERT_EQ(stat(made->c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(chmod(made->c_str(), 0777), 0);
  auto refused = userRuntimeDirectory();
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.status().message().find("mode 0700"), std::string::npos);
  std::filesystem::remove_all(*made);
  std::filesystem::create_directory_symlink(dir_, *made);
  auto link = userRuntimeDirectory();
  ASSERT_FALSE(link);
  EXPECT_NE(link.status().message().find("symbolic link"), std::string::npos);
  if (old)
    setenv("XDG_RUNTIME_DIR", saved.c_str(), 1);
  else
    unsetenv("XDG_RUNTIME_DIR");
}

}  // namespace
}  // namespace mf
