// applyPresetFolderRules / applyPresetLimits (preset_rules.h) and pop3OptionsFor
// (pop3_source.h): pure mappings from presets and options to the engine's and the POP3
// client's options.
#include "cli/preset_rules.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/pop3_source.h"

namespace mf::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

presets::Preset gmail() {
  presets::Preset p;
  p.name = "gmail";
  p.title = "Gmail / Google Workspace";
  p.maxMessageBytes = 35651584;
  p.maxConnections = 15;
  p.folders.virtualFolders = {"[Gmail]/Starred", "[Gmail]/Important"};
  p.folders.allMailFolders = {"[Gmail]/All Mail"};
  return p;
}

presets::Preset office365() {
  presets::Preset p;
  p.name = "office365";
  p.title = "Office 365 / Exchange Online";
  p.maxMessageBytes = 36700160;
  p.maxConnections = 20;
  p.folders.exclude = {"Files", "Calendar"};
  p.folders.reserved = {{"Files", "Files (migrated)"}};
  return p;
}

ResolvedSide side(const char* name, std::optional<presets::Preset> preset) {
  ResolvedSide s;
  s.side = name;
  s.preset = std::move(preset);
  return s;
}

TEST(PresetFolderRules, SourceExcludesNonMailAndVirtualFolders) {
  sync::PlanOptions plan;
  plan.exclude = {"Junk"};
  std::vector<Notice> notices;
  applyPresetFolderRules(side("from", gmail()), side("to", std::nullopt), plan, notices);
  EXPECT_THAT(plan.exclude, ElementsAre("Junk", "[Gmail]/Starred", "[Gmail]/Important"));
  EXPECT_THAT(plan.virtualFolders, ElementsAre("[Gmail]/Starred", "[Gmail]/Important"));
  // All Mail is not excluded: its archived mail is copied (sync/folder_plan.h rule 5).
  EXPECT_THAT(plan.allMailFolders, ElementsAre("[Gmail]/All Mail"));
  ASSERT_EQ(notices.size(), 2u);
  EXPECT_EQ(notices[0].kind, "preset");
  EXPECT_EQ(notices[0].side, "source");
  EXPECT_THAT(notices[0].text, HasSubstr("would duplicate it"));
  EXPECT_THAT(notices[1].text, HasSubstr("'[Gmail]/All Mail' show every message: from there "
                                         "only what no other folder holds (archived mail)"));

  plan = {};
  notices.clear();
  applyPresetFolderRules(side("from", office365()), side("to", std::nullopt), plan, notices);
  EXPECT_THAT(plan.exclude, ElementsAre("Files", "Calendar"));
  EXPECT_TRUE(plan.map.empty());  // reserved names matter on the destination only
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_THAT(notices[0].text, HasSubstr("not copying 'Files', 'Calendar'"));
}

TEST(PresetFolderRules, AnExactIncludeKeepsAFolder) {
  sync::PlanOptions plan;
  plan.include = {"*", "[Gmail]/Starred"};
  std::vector<Notice> notices;
  applyPresetFolderRules(side("from", gmail()), side("to", std::nullopt), plan, notices);
  EXPECT_THAT(plan.exclude, ElementsAre("[Gmail]/Important"));
  // Copied, so its mail is stored there: not a virtual folder for rule 5.
  EXPECT_THAT(plan.virtualFolders, ElementsAre("[Gmail]/Important"));
}

TEST(PresetFolderRules, DestinationReservedNamesAreRenamedAfterTheUsersRules) {
  sync::PlanOptions plan;
  plan.map = {{"Files", "My Files"}};
  std::vector<Notice> notices;
  applyPresetFolderRules(side("from", std::nullopt), side("to", office365()), plan, notices);
  ASSERT_EQ(plan.map.size(), 2u);
  EXPECT_EQ(plan.map[0].to, "My Files");  // the user's rule comes first and wins
  EXPECT_EQ(plan.map[1].from, "Files");
  EXPECT_EQ(plan.map[1].to, "Files (migrated)");
  EXPECT_TRUE(plan.exclude.empty());
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_EQ(notices[0].side, "destination");
}

TEST(PresetLimits, LargestMessageAndConnections) {
  sync::MigrateOptions options;
  options.parallelFolders = 40;
  std::vector<Notice> notices;
  applyPresetLimits(side("from", gmail()), side("to", office365()), options, notices);
  EXPECT_EQ(options.maxMessageBytes, 36700160u);
  EXPECT_EQ(options.parallelFolders, 15u);  // the smaller of the two presets' limits
  ASSERT_EQ(notices.size(), 2u);
  EXPECT_THAT(notices[0].text, HasSubstr("larger than 36700160 bytes (36.7 MB)"));
  EXPECT_THAT(notices[1].text, HasSubstr("gmail"));
  EXPECT_THAT(notices[1].text, HasSubstr("--parallel lowered from 40 to 15"));

  // A smaller --max-message-size and --parallel stay, and nothing is said.
  options.maxMessageBytes = 1000;
  options.parallelFolders = 4;
  notices.clear();
  applyPresetLimits(side("from", gmail()), side("to", office365()), options, notices);
  EXPECT_EQ(options.maxMessageBytes, 1000u);
  EXPECT_EQ(options.parallelFolders, 4u);
  EXPECT_TRUE(notices.empty());

  // The source preset's largest message is not a limit of the copy.
  options = {};
  applyPresetLimits(side("from", office365()), side("to", std::nullopt), options, notices);
  EXPECT_EQ(options.maxMessageBytes, 0u);
}

TEST(Pop3Options, Logins) {
  imap::AccountOptions side;
  side.connect.endpoint.protocol = net::Protocol::kPop3;
  side.connect.endpoint.host = "pop.example.com";
  side.user = "alice";
  side.password = Secret("alice-pw");
  auto uids = std::make_shared<access::MemoryUidAllocator>();
  auto o = pop3OptionsFor(side, uids, nullptr);
  ASSERT_TRUE(o.isOk());
  EXPECT_EQ(o->credentials.user, "alice");
  EXPECT_EQ(o->credentials.password.reveal(), "alice-pw");
  EXPECT_EQ(o->uids, uids);
  EXPECT_EQ(o->connect.endpoint.host, "pop.example.com");

  // A Dovecot master user by name...
  side.admin = "admin";
  side.adminPassword = Secret("admin-pw");
  side.loginFormat = *imap::parseLoginFormat("dovecot");
  o = pop3OptionsFor(side, uids, nullptr);
  ASSERT_TRUE(o.isOk());
  EXPECT_EQ(o->credentials.user, "alice*admin");
  EXPECT_EQ(o->credentials.password.reveal(), "admin-pw");
  EXPECT_EQ(o->credentials.authzid, "");
  // ... or by SASL authorization identity (auto).
  side.loginFormat = *imap::parseLoginFormat("auto");
  o = pop3OptionsFor(side, uids, nullptr);
  ASSERT_TRUE(o.isOk());
  EXPECT_EQ(o->credentials.user, "admin");
  EXPECT_EQ(o->credentials.authzid, "alice");
  EXPECT_EQ(o->credentials.password.reveal(), "admin-pw");
  EXPECT_EQ(o->connect.forceMechanism, "PLAIN");
}

}  // namespace
}  // namespace mf::cli
