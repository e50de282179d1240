// Pop3Account against the scripted server (fake_pop3_server.h): the MailSource contract for
// POP3 — one folder, UIDs from the allocator, headers by TOP, bodies by RETR dot-unstuffed
// with exact sizes, and never a DELE.
#include "pop3/client/pop3_account.h"

#include <dirent.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <algorithm>
#include <filesystem>

#include "pop3/client/pop3_test_util.h"

namespace mf::pop3 {
namespace {

using testing::accountOptions;
using testing::Collector;
using testing::FakeConfig;
using testing::FakeSession;
using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kWithReceived =
    "Return-Path: <bob@example.test>\r\n"
    "Received: from mx.example.test by mail.example.test with LMTP id 42;\r\n"
    "\tWed, 15 May 2024 10:00:05 +0200\r\n"
    "Received: from out.example.org by mx.example.test; Wed, 15 May 2024 07:59:58 +0000\r\n"
    "Date: Wed, 15 May 2024 09:59:00 +0200\r\n"
    "Message-ID: <received@example.test>\r\n"
    "Subject: with Received\r\n"
    "\r\n"
    "Hello.\r\n";
const std::string kWithDate =
    "Date: Tue, 17 May 2016 14:30:00 +0100\r\n"
    "Message-Id: <date-only@example.test>\r\n"
    "Subject: Date only\r\n"
    "\r\n"
    "Body.\r\n";
const std::string kNoDates =
    "Subject: no dates at all\r\n"
    "\r\n"
    "Body without dates.\r\n";
const std::string kDots =
    "Message-ID: <dots@example.test>\r\n"
    "Date: 1 Jan 2020 00:00:00 +0000\r\n"
    "\r\n"
    ".\r\n"
    "..\r\n"
    ".leading dot\r\n"
    "...\r\n"
    "last line without dot\r\n";

std::string sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 0xf];
  }
  return out;
}

std::unique_ptr<Pop3Account> openAccount(AccountOptions options) {
  auto account = Pop3Account::open(std::move(options));
  EXPECT_TRUE(account.isOk()) << account.status().message();
  return account.isOk() ? std::move(account).value() : nullptr;
}

void expectNoDele(const std::vector<std::string>& commands) {
  for (const auto& c : commands) {
    EXPECT_THAT(c, ::testing::Not(::testing::MatchesRegex("^[Dd][Ee][Ll][Ee].*"))) << c;
  }
}

FakeConfig fourMessages() {
  FakeConfig c;
  c.messages = {kWithReceived, kWithDate, kNoDates, kDots};
  c.uidls = {"000000016b0808ed", "000000026b0808ed", "000000036b0808ed", "000000046b0808ed"};
  return c;
}

TEST(Pop3Account, OneFolderInboxWithStatCount) {
  FakeSession s(fourMessages());
  auto account = openAccount(accountOptions(s.port()));
  ASSERT_TRUE(account);
  auto folders = account->listFolders();
  ASSERT_TRUE(folders.isOk());
  ASSERT_EQ(folders->size(), 1u);
  EXPECT_EQ((*folders)[0].path, std::vector<std::string>{"INBOX"});
  EXPECT_EQ((*folders)[0].wireName, "INBOX");
  EXPECT_TRUE((*folders)[0].selectable);
  EXPECT_TRUE((*folders)[0].subscribed);
  for (auto st : {account->folderStatus((*folders)[0]), account->openForRead((*folders)[0])}) {
    ASSERT_TRUE(st.isOk()) << st.status().message();
    EXPECT_EQ(st->messages, 4u);
    EXPECT_EQ(st->uidValidity, 1u);
    EXPECT_EQ(st->uidNext, 0u);
  }
  access::Folder sent;
  sent.path = {"Sent"};
  auto missing = account->openForRead(sent);
  ASSERT_FALSE(missing.isOk());
  EXPECT_EQ(missing.status().code(), Errc::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("POP3 has only the Inbox"));
  access::Folder lowerInbox;
  lowerInbox.path = {"inbox"};
  EXPECT_TRUE(account->folderStatus(lowerInbox).isOk());
  EXPECT_EQ(account->describe(), "pop3://alice@127.0.0.1:" + std::to_string(s.port()));
}

TEST(Pop3Account, ListingGivesUidsSizesMessageIdsAndDates) {
  FakeSession s(fourMessages());
  {
    auto account = openAccount(accountOptions(s.port()));
    ASSERT_TRUE(account);
    auto metas = account->listMessages(1);
    ASSERT_TRUE(metas.isOk()) << metas.status().message();
    ASSERT_EQ(metas->size(), 4u);
    const std::vector<std::string> all = {kWithReceived, kWithDate, kNoDates, kDots};
    for (size_t i = 0; i < 4; ++i) {
      EXPECT_EQ((*metas)[i].uid, i + 1);
      EXPECT_EQ((*metas)[i].size, all[i].size());
      EXPECT_TRUE((*metas)[i].flags.empty());
    }
    EXPECT_EQ((*metas)[0].messageId, "<received@example.test>");
    EXPECT_EQ((*metas)[0].internalDate, "15-May-2024 10:00:05 +0200");  // topmost Received
    EXPECT_EQ((*metas)[1].messageId, "<date-only@example.test>");
    EXPECT_EQ((*metas)[1].internalDate, "17-May-2016 14:30:00 +0100");  // Date
    EXPECT_EQ((*metas)[2].messageId, "");
    EXPECT_EQ((*metas)[2].internalDate, "14-Nov-2023 22:13:20 +0000");  // now
    EXPECT_EQ(account->messageInfo(1)->dateSource, message::DateSource::kReceived);
    EXPECT_EQ(account->messageInfo(2)->dateSource, message::DateSource::kDate);
    EXPECT_EQ(account->messageInfo(3)->dateSource, message::DateSource::kNow);
    EXPECT_EQ(account->messageInfo(3)->key, "000000036b0808ed");
    EXPECT_EQ(account->messageInfo(99), nullptr);
    EXPECT_TRUE(account->hasUidl());
    auto notices = account->takeNotices();
    ASSERT_EQ(notices.size(), 1u);
    EXPECT_THAT(notices[0], HasSubstr("message 3 (UID 3)"));
    EXPECT_THAT(notices[0], HasSubstr("internal date is set to now, 14-Nov-2023 22:13:20 +0000"));
    EXPECT_TRUE(account->takeNotices().empty());

    // A second listing in the same session reuses what it learned: no more TOPs.
    auto again = account->listMessages(3);
    ASSERT_TRUE(again.isOk());
    ASSERT_EQ(again->size(), 2u);
    EXPECT_EQ((*again)[0].uid, 3u);
  }
  auto commands = s.fake.commands();
  EXPECT_EQ(std::count_if(commands.begin(), commands.end(),
                          [](const std::string& c) { return c.rfind("TOP ", 0) == 0; }),
            4);
  EXPECT_TRUE(std::find(commands.begin(), commands.end(), "TOP 1 0") != commands.end());
  EXPECT_EQ(std::count(commands.begin(), commands.end(), "UIDL"), 1);
  EXPECT_EQ(commands.back(), "QUIT");
  expectNoDele(commands);
}

TEST(Pop3Account, BodiesAreDotUnstuffedWithExactSizes) {
  FakeSession s(fourMessages());
  {
    auto account = openAccount(accountOptions(s.port()));
    ASSERT_TRUE(account);
    ASSERT_TRUE(account->listMessages(1).isOk());
    Collector collector;
    Status fetched = account->fetchBodies({4, 1, 2, 3, 77}, collector);
    ASSERT_TRUE(fetched.isOk()) << fetched.message();
    EXPECT_EQ(collector.order, (std::vector<uint32_t>{1, 2, 3, 4}));  // server order
    EXPECT_EQ(collector.bodies[1], kWithReceived);
    EXPECT_EQ(collector.bodies[2], kWithDate);
    EXPECT_EQ(collector.bodies[3], kNoDates);
    EXPECT_EQ(collector.bodies[4], kDots);
    EXPECT_EQ(collector.announced[4], kDots.size());
    EXPECT_EQ(account->messageInfo(4)->bodySize, kDots.size());
    EXPECT_TRUE(account->fetchBodies({}, collector).isOk());
  }
  expectNoDele(s.fake.commands());
  EXPECT_TRUE(s.fake.quitReceived());
}

TEST(Pop3Account, UidsAreStableAcrossSessionsAndNewMailGetsHigherOnes) {
  auto uids = std::make_shared<access::MemoryUidAllocator>();
  {
    FakeSession s(fourMessages());
    auto account = openAccount(accountOptions(s.port(), uids));
    ASSERT_TRUE(account);
    auto metas = account->listMessages(1);
    ASSERT_TRUE(metas.isOk());
    ASSERT_EQ(metas->size(), 4u);
  }
  // Next session: message 1 was deleted by the user's mail client, one new message arrived.
  FakeConfig next = fourMessages();
  next.messages = {kWithDate, kNoDates, kDots, kWithReceived};
  next.uidls = {"000000026b0808ed", "000000036b0808ed", "000000046b0808ed", "new-one"};
  FakeSession s(next);
  auto account = openAccount(accountOptions(s.port(), uids));
  ASSERT_TRUE(account);
  auto all = account->listMessages(1);
  ASSERT_TRUE(all.isOk());
  std::vector<uint32_t> got;
  for (const auto& m : *all) got.push_back(m.uid);
  EXPECT_EQ(got, (std::vector<uint32_t>{2, 3, 4, 5}));
  EXPECT_EQ(account->messageInfo(2)->number, 1u);
  auto fresh = account->listMessages(5);  // the engine's watermark after the first run
  ASSERT_TRUE(fresh.isOk());
  ASSERT_EQ(fresh->size(), 1u);
  EXPECT_EQ((*fresh)[0].uid, 5u);
  EXPECT_EQ((*fresh)[0].messageId, "<received@example.test>");
  Collector collector;
  ASSERT_TRUE(account->fetchBodies({5}, collector).isOk());
  EXPECT_EQ(collector.bodies[5], kWithReceived);
}

TEST(Pop3Account, WithoutUidlMessagesAreKeyedByContentHash) {
  FakeConfig c;
  c.capabilities = {"TOP", "PIPELINING", "USER"};  // no UIDL in CAPA
  c.uidl = false;
  c.messages = {kWithDate, kNoDates, kWithDate};  // 1 and 3 identical
  FakeSession s(c);
  {
    auto account = openAccount(accountOptions(s.port()));
    ASSERT_TRUE(account);
    auto metas = account->listMessages(1);
    ASSERT_TRUE(metas.isOk()) << metas.status().message();
    ASSERT_EQ(metas->size(), 3u);
    EXPECT_FALSE(account->hasUidl());
    EXPECT_EQ(account->messageInfo(1)->key, "sha256:" + sha256Hex(kWithDate));
    EXPECT_EQ(account->messageInfo(2)->key, "sha256:" + sha256Hex(kNoDates));
    // The identical third message is a message of its own.
    EXPECT_EQ(account->messageInfo(3)->key, "sha256:" + sha256Hex(kWithDate) + "#2");
    auto notices = account->takeNotices();
    ASSERT_GE(notices.size(), 1u);
    EXPECT_THAT(notices[0], HasSubstr("has no UIDL: every message is downloaded on every run"));
  }
  auto commands = s.fake.commands();
  // CAPA said there is no UIDL: it is not even asked for.
  EXPECT_EQ(std::count(commands.begin(), commands.end(), "UIDL"), 0);
  EXPECT_EQ(std::count_if(commands.begin(), commands.end(),
                          [](const std::string& x) { return x.rfind("RETR ", 0) == 0; }),
            3);
}

TEST(Pop3Account, UidlRefusedWithoutCapaFallsBackToo) {
  FakeConfig c;
  c.capa = false;
  c.uidl = false;
  c.messages = {kWithDate};
  FakeSession s(c);
  auto account = openAccount(accountOptions(s.port()));
  ASSERT_TRUE(account);
  auto metas = account->listMessages(1);
  ASSERT_TRUE(metas.isOk()) << metas.status().message();
  EXPECT_EQ(account->messageInfo(1)->key, "sha256:" + sha256Hex(kWithDate));
}

TEST(Pop3Account, RepeatedUidlsDoNotMergeMessages) {
  FakeConfig c = fourMessages();
  c.uidls = {"same", "same", "other", "same"};
  FakeSession s(c);
  auto account = openAccount(accountOptions(s.port()));
  ASSERT_TRUE(account);
  auto metas = account->listMessages(1);
  ASSERT_TRUE(metas.isOk());
  ASSERT_EQ(metas->size(), 4u);
  EXPECT_EQ(account->messageInfo(1)->key, "same");
  EXPECT_EQ(account->messageInfo(2)->key, "same#2");
  EXPECT_EQ(account->messageInfo(4)->key, "same#3");
}

TEST(Pop3Account, WithoutTopHeadersComeFromRetr) {
  for (bool announced : {false, true}) {
    FakeConfig c = fourMessages();
    c.top = false;
    if (!announced) c.capabilities = {"UIDL", "PIPELINING", "USER"};
    FakeSession s(c);
    {
      auto account = openAccount(accountOptions(s.port()));
      ASSERT_TRUE(account);
      auto metas = account->listMessages(1);
      ASSERT_TRUE(metas.isOk()) << metas.status().message();
      ASSERT_EQ(metas->size(), 4u);
      EXPECT_EQ((*metas)[0].internalDate, "15-May-2024 10:00:05 +0200");
      EXPECT_EQ((*metas)[1].messageId, "<date-only@example.test>");
      EXPECT_TRUE(account->takeNotices().size() == 1u);  // only the "now" date
    }
    auto commands = s.fake.commands();
    auto count = [&](const char* prefix) {
      return std::count_if(commands.begin(), commands.end(),
                           [&](const std::string& x) { return x.rfind(prefix, 0) == 0; });
    };
    EXPECT_EQ(count("TOP "), announced ? 4 : 0) << announced;
    EXPECT_EQ(count("RETR "), 4) << announced;
  }
}

TEST(Pop3Account, RefusedRetrIsNotDeliveredAndReported) {
  FakeConfig c = fourMessages();
  c.refuseRetr = {2};
  FakeSession s(c);
  auto account = openAccount(accountOptions(s.port()));
  ASSERT_TRUE(account);
  auto metas = account->listMessages(1);
  ASSERT_TRUE(metas.isOk());
  ASSERT_EQ(metas->size(), 4u);  // listed (it exists), with what could be learned
  (void)account->takeNotices();
  Collector collector;
  ASSERT_TRUE(account->fetchBodies({1, 2, 3}, collector).isOk());
  EXPECT_EQ(collector.order, (std::vector<uint32_t>{1, 3}));
  auto notices = account->takeNotices();
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_THAT(notices[0], HasSubstr("refused RETR 2 (UID 2): There's no message 2."));
}

TEST(Pop3Account, ConsumerErrorStopsTheFetchButKeepsTheSessionInStep) {
  FakeSession s(fourMessages());
  {
    auto account = openAccount(accountOptions(s.port()));
    ASSERT_TRUE(account);
    ASSERT_TRUE(account->listMessages(1).isOk());
    Collector failing;
    failing.failBeginOf = 2;
    Status fetched = account->fetchBodies({1, 2, 3, 4}, failing);
    ASSERT_FALSE(fetched.isOk());
    EXPECT_EQ(fetched.message(), "destination refused UID 2");
    EXPECT_EQ(failing.order, std::vector<uint32_t>{1});
    // The replies still in flight were read and dropped: the session goes on.
    Collector next;
    ASSERT_TRUE(account->fetchBodies({3, 4}, next).isOk());
    EXPECT_EQ(next.bodies[3], kNoDates);
    EXPECT_EQ(next.bodies[4], kDots);
    EXPECT_FALSE(account->connection().broken());
  }
  EXPECT_TRUE(s.fake.quitReceived());
  expectNoDele(s.fake.commands());
}

TEST(Pop3Account, PipelinesWhenTheServerAllowsIt) {
  for (bool pipelining : {true, false}) {
    FakeConfig c = fourMessages();
    if (!pipelining) c.capabilities = {"TOP", "UIDL", "USER"};
    FakeSession s(c);
    {
      auto options = accountOptions(s.port());
      options.pipelineWindow = 8;
      auto account = openAccount(options);
      ASSERT_TRUE(account);
      ASSERT_TRUE(account->listMessages(1).isOk());
      Collector collector;
      ASSERT_TRUE(account->fetchBodies({1, 2, 3, 4}, collector).isOk());
      EXPECT_EQ(collector.bodies[4], kDots);
    }
    if (pipelining) {
      EXPECT_GT(s.fake.batchedReads(), 0);
    } else {
      EXPECT_EQ(s.fake.batchedReads(), 0) << "commands sent before their turn";
    }
  }
}

TEST(Pop3Account, BigBodiesSpillToAnUnlinkedTempFile) {
  std::string big = "Message-ID: <big@example.test>\r\nDate: 1 Jan 2020 00:00:00 +0000\r\n\r\n";
  for (int i = 0; big.size() < 3 * 1024 * 1024; ++i) {
    big += (i % 7 == 0 ? "." : "") + std::string(70, static_cast<char>('a' + i % 26)) + "\r\n";
  }
  FakeConfig c;
  c.messages = {kWithDate, big, kDots};
  FakeSession s(c);
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("mf-pop3-spool-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    auto options = accountOptions(s.port());
    options.memoryBodyLimit = 64 * 1024;
    options.tempDirectory = dir.string();
    auto account = openAccount(options);
    ASSERT_TRUE(account);
    ASSERT_TRUE(account->listMessages(1).isOk());
    Collector collector;
    ASSERT_TRUE(account->fetchBodies({1, 2, 3}, collector).isOk());
    EXPECT_EQ(collector.bodies[2].size(), big.size());
    EXPECT_TRUE(collector.bodies[2] == big);
    EXPECT_EQ(collector.bodies[3], kDots);
    // The spool file was unlinked at creation: the directory stays empty.
    EXPECT_TRUE(std::filesystem::is_empty(dir));
  }
  std::filesystem::remove_all(dir);
}

TEST(Pop3Account, ListSizeIsReportedButBodiesCarryTheirExactSize) {
  FakeConfig c = fourMessages();
  c.listSizeDelta = 5;  // a server counting differently (e.g. LF vs CRLF)
  FakeSession s(c);
  auto account = openAccount(accountOptions(s.port()));
  ASSERT_TRUE(account);
  auto metas = account->listMessages(1);
  ASSERT_TRUE(metas.isOk());
  EXPECT_EQ((*metas)[3].size, kDots.size() + 5);
  Collector collector;
  ASSERT_TRUE(account->fetchBodies({4}, collector).isOk());
  EXPECT_EQ(collector.announced[4], kDots.size());
  EXPECT_EQ(collector.bodies[4], kDots);
}

TEST(Pop3Account, WholeMessagesCanBeReadWithTop) {
  for (bool announced : {true, false}) {
    FakeConfig c = fourMessages();
    if (!announced) c.capabilities = {"UIDL", "PIPELINING", "USER"};
    FakeSession s(c);
    {
      auto options = accountOptions(s.port());
      options.readWholeWithTop = true;
      auto account = openAccount(options);
      ASSERT_TRUE(account);
      ASSERT_TRUE(account->listMessages(1).isOk());
      Collector collector;
      ASSERT_TRUE(account->fetchBodies({1, 4}, collector).isOk());
      EXPECT_EQ(collector.bodies[1], kWithReceived);
      EXPECT_EQ(collector.bodies[4], kDots);
    }
    auto commands = s.fake.commands();
    // Without TOP in CAPA it falls back to RETR.
    EXPECT_EQ(std::count(commands.begin(), commands.end(), "TOP 4 2147483647"), announced ? 1 : 0);
    EXPECT_EQ(std::count(commands.begin(), commands.end(), "RETR 4"), announced ? 0 : 2);
  }
}

TEST(Pop3Account, NoticesCanGoToACallback) {
  FakeSession s(fourMessages());
  auto options = accountOptions(s.port());
  std::vector<std::string> seen;
  options.onNotice = [&](const std::string& text) { seen.push_back(text); };
  auto account = openAccount(options);
  ASSERT_TRUE(account);
  ASSERT_TRUE(account->listMessages(1).isOk());
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_THAT(seen[0], HasSubstr("internal date is set to now"));
  EXPECT_TRUE(account->takeNotices().empty());
}

TEST(Pop3Account, NeedsAnAllocator) {
  FakeSession s(fourMessages());
  auto options = accountOptions(s.port());
  options.uids.reset();
  auto account = Pop3Account::open(options);
  ASSERT_FALSE(account.isOk());
  EXPECT_EQ(account.status().code(), Errc::kInternal);
  // The fake server saw a connection attempt never made: unblock it.
  auto conn = Connection::open(testing::connectOptions(s.port()));
  ASSERT_TRUE(conn.isOk());
}

TEST(Pop3Account, AWholeSessionNeverSendsDele) {
  FakeSession s(fourMessages());
  {
    auto account = openAccount(accountOptions(s.port()));
    ASSERT_TRUE(account);
    ASSERT_TRUE(account->openForRead(*account->listFolders()->begin()).isOk());
    ASSERT_TRUE(account->listMessages(1).isOk());
    Collector collector;
    ASSERT_TRUE(account->fetchBodies({1, 2, 3, 4}, collector).isOk());
    // Even asked directly, the connection refuses to send it.
    Status dele = account->connection().send(Command("DELE").number(1), ReplyShape::kSingleLine);
    EXPECT_EQ(dele.code(), Errc::kInternal);
    EXPECT_EQ(account->connection().pending(), 0u);
  }
  auto commands = s.fake.commands();
  expectNoDele(commands);
  EXPECT_EQ(commands.back(), "QUIT");
}

}  // namespace
}  // namespace mf::pop3
