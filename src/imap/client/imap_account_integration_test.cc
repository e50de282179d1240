// ImapAccount against a real Dovecot IMAP server, for behaviour of real sessions that no fake
// shows. Run by tests/integration/test_imap_account.py, which starts the server; without its
// environment every test here skips itself.
//
// Environment (set by the Python module):
//   MF_IMAP_TEST_PORT      imaps:// port          MF_IMAP_TEST_CA_FILE  the server's certificate
//   MF_IMAP_TEST_USER      a user with an empty mailbox, and MF_IMAP_TEST_PASSWORD
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "imap/client/imap_account.h"

namespace mf::imap {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

class ImapAccountDovecotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (env("MF_IMAP_TEST_PORT").empty()) {
      GTEST_SKIP() << "run by tests/integration/test_imap_account.py (needs a Dovecot server)";
    }
  }
  static std::unique_ptr<ImapAccount> open() {
    AccountOptions o;
    o.connect.endpoint.protocol = net::Protocol::kImap;
    o.connect.endpoint.security = net::Security::kTls;
    o.connect.endpoint.host = "127.0.0.1";
    o.connect.endpoint.port = static_cast<uint16_t>(std::stoi(env("MF_IMAP_TEST_PORT")));
    o.connect.endpoint.user = env("MF_IMAP_TEST_USER");
    o.connect.tls.caFile = env("MF_IMAP_TEST_CA_FILE");
    o.user = env("MF_IMAP_TEST_USER");
    o.password = Secret(env("MF_IMAP_TEST_PASSWORD"));
    auto opened = ImapAccount::open(o);
    EXPECT_TRUE(opened.isOk()) << opened.status().message();
    return opened.isOk() ? std::move(opened).value() : nullptr;
  }
  // Appends one small message over `account` into its selected folder; returns its UID.
  static uint32_t appendOne(ImapAccount& account, const std::string& messageId) {
    const std::string body =
        "Message-ID: <" + messageId + ">\r\nSubject: status view\r\n\r\nhi\r\n";
    access::AppendRequest request;
    request.ticket = 1;
    request.size = body.size();
    EXPECT_TRUE(account.beginAppend(request).isOk());
    EXPECT_TRUE(account.appendData(body).isOk());
    EXPECT_TRUE(account.endAppend().isOk());
    EXPECT_TRUE(account.flushAppends().isOk());
    while (account.appendsInFlight() > 0) {
      auto results = account.collect(true);
      EXPECT_TRUE(results.isOk());
      if (!results.isOk()) return 0;
      for (const auto& r : *results) {
        EXPECT_TRUE(r.status.isOk()) << r.status.message();
        return r.uid;
      }
    }
    return 0;
  }
};

// Crash recovery waits for a killed session's appends to stop landing by watching the
// destination folder's UIDNEXT, asked over the session that has the folder selected. Dovecot
// answers STATUS of the selected folder from the asking session's own view, which misses what
// other sessions appended since it last synchronized: folderStatus must see them anyway.
TEST_F(ImapAccountDovecotTest, StatusOfTheSelectedFolderSeesOtherSessionsAppends) {
  auto watcher = open();
  auto writer = open();
  ASSERT_TRUE(watcher && writer);
  auto created = watcher->createFolder({"StatusView"});
  ASSERT_TRUE(created.isOk()) << created.status().message();
  const access::Folder folder = *created;
  ASSERT_TRUE(watcher->openForAppend(folder).isOk());
  auto before = watcher->folderStatus(folder);
  ASSERT_TRUE(before.isOk()) << before.status().message();

  ASSERT_TRUE(writer->openForAppend(folder).isOk());
  const uint32_t first = appendOne(*writer, "first@status.test");
  const uint32_t second = appendOne(*writer, "second@status.test");
  ASSERT_NE(first, 0u);
  ASSERT_EQ(second, first + 1);

  auto after = watcher->folderStatus(folder);
  ASSERT_TRUE(after.isOk()) << after.status().message();
  EXPECT_EQ(after->uidNext, second + 1);
  EXPECT_EQ(after->messages, before->messages + 2);
  // And the watcher's listing shows them too (recovery matches pending intents against it).
  auto listed = watcher->listMessages(first);
  ASSERT_TRUE(listed.isOk()) << listed.status().message();
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[1].messageId, "<second@status.test>");
}

// A run's planning pass asks the STATUS of every folder at once (pipelined, 64 in flight):
// each answer must land on its own folder, in order, more folders than the pipeline holds,
// with a folder that does not exist in the middle getting its own error and nothing else.
TEST_F(ImapAccountDovecotTest, PipelinedStatusesLandOnTheirOwnFolders) {
  auto account = open();
  auto writer = open();
  ASSERT_TRUE(account && writer);
  std::vector<access::Folder> folders;
  for (int i = 0; i < 70; ++i) {
    auto created = writer->createFolder({"Piped" + std::to_string(i)});
    ASSERT_TRUE(created.isOk()) << created.status().message();
    // Folder i holds i % 3 messages, so the counts tell the answers apart.
    if (i % 3 != 0) {
      ASSERT_TRUE(writer->openForAppend(*created).isOk());
      for (int m = 0; m < i % 3; ++m) {
        ASSERT_NE(appendOne(*writer, "m" + std::to_string(m) + "@piped" + std::to_string(i)), 0u);
      }
    }
    folders.push_back(*created);
  }
  access::Folder missing;
  missing.path = {"NoSuchFolder"};
  missing.wireName = "NoSuchFolder";
  folders.insert(folders.begin() + 35, missing);

  auto statuses = account->folderStatuses(folders);
  ASSERT_EQ(statuses.size(), folders.size());
  for (size_t k = 0; k < folders.size(); ++k) {
    if (k == 35) {
      ASSERT_FALSE(statuses[k].isOk());
      EXPECT_NE(statuses[k].status().message().find("NoSuchFolder"), std::string::npos)
          << statuses[k].status().message();
      continue;
    }
    ASSERT_TRUE(statuses[k].isOk())
        << folders[k].wireName << ": " << statuses[k].status().message();
    auto one = account->folderStatus(folders[k]);
    ASSERT_TRUE(one.isOk()) << one.status().message();
    EXPECT_EQ(statuses[k]->messages, one->messages) << folders[k].wireName;
    EXPECT_EQ(statuses[k]->uidNext, one->uidNext) << folders[k].wireName;
    EXPECT_EQ(statuses[k]->uidValidity, one->uidValidity) << folders[k].wireName;
    const int i = std::stoi(folders[k].wireName.substr(5));
    EXPECT_EQ(statuses[k]->messages, static_cast<uint32_t>(i % 3)) << folders[k].wireName;
  }
  // The session is still in step: the next command gets its own answer.
  auto again = account->folderStatus(folders[1]);
  ASSERT_TRUE(again.isOk()) << again.status().message();
  EXPECT_EQ(again->messages, 1u);
}

// EXAMINE and the listing pipelined give what the two give one after the other; a missing
// folder gives the EXAMINE's error and leaves the session usable; an empty folder, or a
// watermark above every UID ("n:*" still returns the last message), lists nothing.
TEST_F(ImapAccountDovecotTest, OpenAndListTogetherMatchesOneAfterTheOther) {
  auto account = open();
  auto writer = open();
  ASSERT_TRUE(account && writer);
  auto full = writer->createFolder({"OpenList"});
  auto empty = writer->createFolder({"OpenListEmpty"});
  ASSERT_TRUE(full.isOk() && empty.isOk());
  ASSERT_TRUE(writer->openForAppend(*full).isOk());
  uint32_t last = 0;
  for (int m = 0; m < 5; ++m) {
    last = appendOne(*writer, "m" + std::to_string(m) + "@openlist");
    ASSERT_NE(last, 0u);
  }

  auto view = account->openForReadAndList(*full, last - 2, /*withMessageId=*/true);
  ASSERT_TRUE(view.isOk()) << view.status().message();
  auto opened = account->openForRead(*full);
  ASSERT_TRUE(opened.isOk()) << opened.status().message();
  auto listed = account->listMessages(last - 2);
  ASSERT_TRUE(listed.isOk()) << listed.status().message();
  EXPECT_EQ(view->status.messages, 5u);
  EXPECT_EQ(view->status.uidValidity, opened->uidValidity);
  EXPECT_EQ(view->status.uidNext, opened->uidNext);
  ASSERT_EQ(view->metas.size(), 3u);
  ASSERT_EQ(listed->size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(view->metas[i].uid, (*listed)[i].uid);
    EXPECT_EQ(view->metas[i].size, (*listed)[i].size);
    EXPECT_EQ(view->metas[i].internalDate, (*listed)[i].internalDate);
    EXPECT_EQ(view->metas[i].messageId, (*listed)[i].messageId);
    EXPECT_EQ(view->metas[i].messageId, "<m" + std::to_string(i + 2) + "@openlist>");
  }

  auto above = account->openForReadAndList(*full, last + 1, false);
  ASSERT_TRUE(above.isOk()) << above.status().message();
  EXPECT_TRUE(above->metas.empty());

  auto none = account->openForReadAndList(*empty, 1, false);
  ASSERT_TRUE(none.isOk()) << none.status().message();
  EXPECT_EQ(none->status.messages, 0u);
  EXPECT_TRUE(none->metas.empty());

  access::Folder missing;
  missing.path = {"NoSuchOpenList"};
  missing.wireName = "NoSuchOpenList";
  auto refused = account->openForReadAndList(missing, 1, false);
  ASSERT_FALSE(refused.isOk());
  EXPECT_NE(refused.status().message().find("NoSuchOpenList"), std::string::npos)
      << refused.status().message();
  auto again = account->openForReadAndList(*full, 1, false);
  ASSERT_TRUE(again.isOk()) << again.status().message();
  EXPECT_EQ(again->metas.size(), 5u);
}

// A folder too big to list at once is cut into windows from its UIDs alone, and each window
// is listed by its UID range: together they list exactly what one listing from the same UID
// gives, in order, nothing twice.
TEST_F(ImapAccountDovecotTest, ListingWindowsCoverTheFolderOnce) {
  auto account = open();
  auto writer = open();
  ASSERT_TRUE(account && writer);
  auto folder = writer->createFolder({"Windows"});
  ASSERT_TRUE(folder.isOk());
  ASSERT_TRUE(writer->openForAppend(*folder).isOk());
  std::vector<uint32_t> uids;
  for (int m = 0; m < 7; ++m) {
    uids.push_back(appendOne(*writer, "w" + std::to_string(m) + "@windows"));
    ASSERT_NE(uids.back(), 0u);
  }
  ASSERT_TRUE(account->openForRead(*folder).isOk());
  auto whole = account->listMessages(uids[1]);
  ASSERT_TRUE(whole.isOk()) << whole.status().message();
  ASSERT_EQ(whole->size(), 6u);

  auto windows = account->planListingWindows(uids[1], 4);
  ASSERT_TRUE(windows.isOk()) << windows.status().message();
  EXPECT_EQ(windows->messages, 6u);
  uint64_t bytes = 0;
  for (const auto& m : *whole) bytes += m.size;
  EXPECT_EQ(windows->bytes, bytes);
  ASSERT_EQ(windows->firstUids, (std::vector<uint32_t>{uids[1], uids[5]}));

  std::vector<access::MessageMeta> joined;
  for (size_t k = 0; k < windows->firstUids.size(); ++k) {
    uint32_t last = k + 1 < windows->firstUids.size() ? windows->firstUids[k + 1] - 1 : UINT32_MAX;
    auto part = account->listMessagesBetween(windows->firstUids[k], last, /*withMessageId=*/true);
    ASSERT_TRUE(part.isOk()) << part.status().message();
    EXPECT_EQ(part->size(), k == 0 ? 4u : 2u);
    joined.insert(joined.end(), part->begin(), part->end());
  }
  ASSERT_EQ(joined.size(), whole->size());
  for (size_t i = 0; i < joined.size(); ++i) {
    EXPECT_EQ(joined[i].uid, (*whole)[i].uid);
    EXPECT_EQ(joined[i].size, (*whole)[i].size);
    EXPECT_EQ(joined[i].internalDate, (*whole)[i].internalDate);
    EXPECT_EQ(joined[i].messageId, "<w" + std::to_string(i + 1) + "@windows>");
  }
  // A range past the last message lists nothing (not the last message, as "n:*" would).
  auto past = account->listMessagesBetween(uids.back() + 1, uids.back() + 10, false);
  ASSERT_TRUE(past.isOk()) << past.status().message();
  EXPECT_TRUE(past->empty());
  auto beyond = account->planListingWindows(uids.back() + 1, 4);
  ASSERT_TRUE(beyond.isOk()) << beyond.status().message();
  EXPECT_TRUE(beyond->firstUids.empty());
  EXPECT_EQ(beyond->messages, 0u);
}

// SUBSCRIBE and SELECT pipelined: both done, the SELECT's answers are the folder's; a
// missing folder's SELECT error comes back whatever the SUBSCRIBE said.
TEST_F(ImapAccountDovecotTest, SubscribeAndSelectTogether) {
  auto account = open();
  ASSERT_TRUE(account);
  auto created = account->createFolder({"SubSelect"});
  ASSERT_TRUE(created.isOk()) << created.status().message();
  ASSERT_TRUE(account->openForAppend(*created).isOk());
  ASSERT_NE(appendOne(*account, "one@subselect"), 0u);
  Status subscribed(Errc::kInternal, "not set");
  auto info = account->subscribeAndOpenForAppend(*created, subscribed);
  ASSERT_TRUE(info.isOk()) << info.status().message();
  EXPECT_TRUE(subscribed.isOk()) << subscribed.message();
  EXPECT_EQ(info->status.messages, 1u);
  EXPECT_GT(info->status.uidValidity, 0u);
  auto listed = account->listFolders();
  ASSERT_TRUE(listed.isOk()) << listed.status().message();
  bool found = false;
  for (const auto& f : *listed) found = found || (f.wireName == "SubSelect" && f.subscribed);
  EXPECT_TRUE(found);

  access::Folder missing;
  missing.path = {"NoSuchSubSelect"};
  missing.wireName = "NoSuchSubSelect";
  auto refused = account->subscribeAndOpenForAppend(missing, subscribed);
  ASSERT_FALSE(refused.isOk());
  EXPECT_NE(refused.status().message().find("NoSuchSubSelect"), std::string::npos)
      << refused.status().message();
  // In step afterwards.
  ASSERT_TRUE(account->openForAppend(*created).isOk());
}

// LIST and LSUB go out together; subscriptions are still told apart from mere folders.
TEST_F(ImapAccountDovecotTest, ListingMarksOnlySubscribedFolders) {
  auto account = open();
  ASSERT_TRUE(account);
  auto subscribed = account->createFolder({"ListedSubscribed"});
  auto plain = account->createFolder({"ListedPlain"});
  ASSERT_TRUE(subscribed.isOk() && plain.isOk());
  ASSERT_TRUE(account->subscribe(*subscribed).isOk());
  auto listed = account->listFolders();
  ASSERT_TRUE(listed.isOk()) << listed.status().message();
  int seen = 0;
  for (const auto& f : *listed) {
    if (f.wireName == "ListedSubscribed") {
      EXPECT_TRUE(f.subscribed);
      ++seen;
    }
    if (f.wireName == "ListedPlain") {
      EXPECT_FALSE(f.subscribed);
      ++seen;
    }
  }
  EXPECT_EQ(seen, 2);
}

// How far the server is: measured from real commands, small on loopback (far is 2 ms).
TEST_F(ImapAccountDovecotTest, RoundTripIsMeasuredAndNearOnLoopback) {
  auto account = open();
  ASSERT_TRUE(account);
  const access::MailSource& source = *account;
  EXPECT_GT(source.roundTrip().count(), 0);
  EXPECT_LT(source.roundTrip().count(), 2000);
}

}  // namespace
}  // namespace mf::imap
