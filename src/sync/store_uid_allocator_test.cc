// StoreUidAllocator over a real SQLite state file: the access::UidAllocator contract
// (stable, max + 1 for new keys, per mailbox key and folder) holds across store reopenings.
#include "sync/store_uid_allocator.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "access/uid_allocator.h"

namespace mf::sync {
namespace {

class TempFile {
 public:
  TempFile() {
    const char* base = getenv("TMPDIR");
    std::string templ = std::string(base != nullptr && *base ? base : "/tmp") + "/mf-uida-XXXXXX";
    if (mkdtemp(templ.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    dir_ = templ;
  }
  ~TempFile() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  std::string path() const { return (dir_ / "state.db").string(); }

 private:
  std::filesystem::path dir_;
};

using Uids = std::vector<uint32_t>;

TEST(StoreUidAllocatorTest, StableAcrossReopeningAndScopedToMailboxAndFolder) {
  TempFile file;
  {
    auto store = store::openSqliteStore(file.path());
    ASSERT_TRUE(store.isOk()) << store.status().message();
    StoreUidAllocator inbox(**store, "pop3s://alice@old -> imaps://alice@new", "INBOX");
    access::UidAllocator& alloc = inbox;  // used through the interface, as Pop3Account does
    auto uids = alloc.uidsFor({"000000016b0808ed", "000000026b0808ed"});
    ASSERT_TRUE(uids.isOk()) << uids.status().message();
    EXPECT_EQ(*uids, (Uids{1, 2}));
    auto one = alloc.uidFor("000000036b0808ed");
    ASSERT_TRUE(one.isOk());
    EXPECT_EQ(*one, 3u);

    StoreUidAllocator other(**store, "pop3s://bob@old -> imaps://bob@new", "INBOX");
    auto theirs = other.uidsFor({"000000036b0808ed"});
    ASSERT_TRUE(theirs.isOk());
    EXPECT_EQ(*theirs, Uids{1});
  }
  auto store = store::openSqliteStore(file.path());
  ASSERT_TRUE(store.isOk()) << store.status().message();
  StoreUidAllocator inbox(**store, "pop3s://alice@old -> imaps://alice@new", "INBOX");
  auto uids = inbox.uidsFor({"new-one", "000000036b0808ed", "000000016b0808ed"});
  ASSERT_TRUE(uids.isOk());
  EXPECT_EQ(*uids, (Uids{4, 3, 1}));
}

TEST(StoreUidAllocatorTest, OwningItsOwnStoreOnTheSameFile) {
  TempFile file;
  auto shared = store::openSqliteStore(file.path());
  ASSERT_TRUE(shared.isOk()) << shared.status().message();
  StoreUidAllocator viaShared(**shared, "k", "INBOX");
  auto own = store::openSqliteStore(file.path());
  ASSERT_TRUE(own.isOk()) << own.status().message();
  StoreUidAllocator owning(std::move(own).value(), "k", "INBOX");
  EXPECT_EQ(*owning.uidsFor({"a", "b"}), (Uids{1, 2}));
  EXPECT_EQ(*viaShared.uidsFor({"b", "c"}), (Uids{2, 3}));
  EXPECT_EQ(*owning.uidFor("c"), 3u);
}

TEST(MemoryUidAllocatorTest, FirstSightOrder) {
  access::MemoryUidAllocator alloc;
  auto uids = alloc.uidsFor({"b", "a", "b", "c"});
  ASSERT_TRUE(uids.isOk());
  EXPECT_EQ(*uids, (Uids{1, 2, 1, 3}));
  EXPECT_EQ(*alloc.uidFor("a"), 2u);
  EXPECT_EQ(*alloc.uidFor("d"), 4u);
}

}  // namespace
}  // namespace mf::sync
