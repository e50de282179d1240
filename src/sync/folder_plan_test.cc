#include "sync/folder_plan.h"

#include <gtest/gtest.h>

namespace mf::sync {
namespace {
using access::Folder;
using access::SpecialUse;

Folder folder(std::vector<std::string> path, SpecialUse use = SpecialUse::kNone,
              bool selectable = true) {
  Folder f;
  f.path = std::move(path);
  f.wireName = joinPath(f.path);
  f.specialUse = use;
  f.selectable = selectable;
  return f;
}

const FolderMapping* find(const FolderPlan& plan, const std::string& source) {
  for (const auto& m : plan.folders)
    if (m.source.displayName() == source) return &m;
  return nullptr;
}
}  // namespace

TEST(FolderPlan, MapsSpecialFoldersByAttributeThenName) {
  std::vector<Folder> src = {folder({"INBOX"}), folder({"Sent Items"}),
                             folder({"Sent"}),  folder({"Deleted Items"}),
                             folder({"Work"}),  folder({"Work", "Sent"})};
  std::vector<Folder> dst = {folder({"INBOX"}), folder({"Gesendet"}, SpecialUse::kSent),
                             folder({"Trash"})};
  FolderPlan plan = planFolders(src, dst, '/', {});
  ASSERT_EQ(plan.folders.size(), 6u);
  // "Sent Items" sorts first among the name matches here, but plain order decides: the first
  // well-known Sent folder in the source list wins; the other keeps its own name.
  EXPECT_EQ(joinPath(find(plan, "Sent Items")->destinationPath), "Gesendet");
  EXPECT_EQ(joinPath(find(plan, "Sent")->destinationPath), "Sent");
  EXPECT_EQ(joinPath(find(plan, "Deleted Items")->destinationPath), "Trash");
  EXPECT_EQ(joinPath(find(plan, "Work/Sent")->destinationPath), "Work/Sent");
  EXPECT_EQ(find(plan, "INBOX")->existingDestination, &dst[0]);
}

TEST(FolderPlan, AttributeBeatsName) {
  std::vector<Folder> src = {folder({"Sent"}), folder({"Outbox copies"}, SpecialUse::kSent)};
  std::vector<Folder> dst = {folder({"Sent"}, SpecialUse::kSent)};
  FolderPlan plan = planFolders(src, dst, '/', {});
  EXPECT_EQ(joinPath(find(plan, "Outbox copies")->destinationPath), "Sent");
  // Plain "Sent" would collide with the special folder: kept apart, not merged.
  EXPECT_NE(joinPath(find(plan, "Sent")->destinationPath), "Sent");
}

TEST(FolderPlan, IncludeExcludeAndMapRules) {
  std::vector<Folder> src = {folder({"INBOX"}),
                             folder({"Old"}),
                             folder({"Old", "Sub"}),
                             folder({"Spam"}),
                             folder({"Parent"}, SpecialUse::kNone, false),
                             folder({"Parent", "Child"})};
  PlanOptions opt;
  opt.exclude = {"Spam"};
  opt.map = {*parseMapRule("Old=Archive/Old")};
  FolderPlan plan = planFolders(src, {}, '/', opt);
  EXPECT_EQ(plan.excluded, std::vector<std::string>{"Spam"});
  EXPECT_EQ(joinPath(find(plan, "Old")->destinationPath), "Archive/Old");
  EXPECT_EQ(joinPath(find(plan, "Old/Sub")->destinationPath), "Archive/Old/Sub");
  EXPECT_EQ(find(plan, "Parent"), nullptr);  // \Noselect
  EXPECT_NE(find(plan, "Parent/Child"), nullptr);

  PlanOptions only;
  only.include = {"Old*"};
  EXPECT_EQ(planFolders(src, {}, '/', only).folders.size(), 2u);
  EXPECT_FALSE(parseMapRule("no-equals").isOk());
  EXPECT_FALSE(parseMapRule("=x").isOk());
}

TEST(FolderPlan, ComponentWithDestinationSeparatorIsKeptWhole) {
  std::vector<Folder> src = {folder({"a.b", "c"})};
  FolderPlan plan = planFolders(src, {}, '.', {});
  EXPECT_EQ(plan.folders[0].destinationPath, (std::vector<std::string>{"a_b", "c"}));
  EXPECT_FALSE(plan.folders[0].notes.empty());
}
}  // namespace mf::sync

namespace mf::sync {
TEST(FolderPlan, EarlierRunDestinationIsARecordedOtherNameThatStillHoldsMail) {
  std::vector<Folder> dst = {folder({"Old", "Projects"}), folder({"New", "Projects"}),
                             folder({"Container"}, SpecialUse::kNone, /*selectable=*/false)};
  FolderMapping m;
  m.source = folder({"Work", "Projects"});
  m.destinationPath = {"New", "Projects"};
  m.existingDestination = &dst[1];
  // Recorded elsewhere, still there: that folder, even though the planned one exists too.
  EXPECT_EQ(earlierRunDestination(m, "Old/Projects", dst), &dst[0]);
  // Recorded under the planned name: nothing earlier to go on with.
  EXPECT_EQ(earlierRunDestination(m, "New/Projects", dst), nullptr);
  // Gone from the destination, or only a container now: not a place for mail.
  EXPECT_EQ(earlierRunDestination(m, "Gone/Projects", dst), nullptr);
  EXPECT_EQ(earlierRunDestination(m, "Container", dst), nullptr);
}
}  // namespace mf::sync

namespace mf::sync {
TEST(FolderPlan, AllMailIsCopiedForWhatNoOtherFolderHolds) {
  std::vector<Folder> src = {folder({"INBOX"}),
                             folder({"Work"}),
                             folder({"[Gmail]"}, SpecialUse::kNone, /*selectable=*/false),
                             folder({"[Gmail]", "All Mail"}, SpecialUse::kAll),
                             folder({"[Gmail]", "Starred"}, SpecialUse::kFlagged),
                             folder({"[Gmail]", "Sent Mail"}, SpecialUse::kSent)};
  PlanOptions opt;
  opt.exclude = {"[Gmail]/Starred", "Work"};
  opt.virtualFolders = {"[Gmail]/Starred"};
  std::vector<Folder> dst = {folder({"INBOX"}), folder({"Old mail"}, SpecialUse::kArchive)};
  FolderPlan plan = planFolders(src, dst, '/', opt);
  const FolderMapping* all = find(plan, "[Gmail]/All Mail");
  ASSERT_NE(all, nullptr);
  EXPECT_TRUE(all->onlyWhatNoOtherFolderHolds);
  EXPECT_EQ(joinPath(all->destinationPath), "Old mail");
  EXPECT_EQ(all->existingDestination, &dst[1]);
  EXPECT_FALSE(find(plan, "INBOX")->onlyWhatNoOtherFolderHolds);
  // Held elsewhere: every selectable folder but All Mail and the virtual Starred, the
  // excluded Work too (what the user leaves out does not go to the archive instead).
  std::vector<std::string> elsewhere;
  for (const auto& f : plan.storedElsewhere) elsewhere.push_back(f.displayName());
  EXPECT_EQ(elsewhere, (std::vector<std::string>{"INBOX", "Work", "[Gmail]/Sent Mail"}));

  // No archive on the destination: "Archive"; a destination \All folder (Gmail): that one.
  plan = planFolders(src, {folder({"INBOX"})}, '/', opt);
  EXPECT_EQ(joinPath(find(plan, "[Gmail]/All Mail")->destinationPath), "Archive");
  std::vector<Folder> gmail = {folder({"INBOX"}),
                               folder({"[Gmail]", "Alle Nachrichten"}, SpecialUse::kAll)};
  plan = planFolders(src, gmail, '/', opt);
  EXPECT_EQ(joinPath(find(plan, "[Gmail]/All Mail")->destinationPath), "[Gmail]/Alle Nachrichten");
  // A --map rule still decides.
  opt.map = {MapRule{"[Gmail]/All Mail", "Gmail archive"}};
  plan = planFolders(src, dst, '/', opt);
  EXPECT_EQ(joinPath(find(plan, "[Gmail]/All Mail")->destinationPath), "Gmail archive");
  EXPECT_TRUE(find(plan, "[Gmail]/All Mail")->onlyWhatNoOtherFolderHolds);
}
}  // namespace mf::sync
