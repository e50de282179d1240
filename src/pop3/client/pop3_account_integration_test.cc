// Pop3Account against a real Dovecot POP3 server. Run by tests/integration/test_pop3_account.py,
// which starts the server, seeds the mailbox over IMAP and writes what it expects; without
// that environment every test here skips itself.
//
// Environment (set by the Python module):
//   MF_POP3_TEST_PORT       pop3:// port (STLS)          MF_POP3_TEST_TLS_PORT  pop3s:// port
//   MF_POP3_TEST_CA_FILE    the server's certificate     MF_POP3_TEST_USER / _PASSWORD
//   MF_POP3_TEST_EXPECTED   JSON: {"messages": [{"size", "sha256", "message_id",
//                           "date_source", "internaldate_epoch"}...]} in maildrop order
//   MF_POP3_TEST_STATE_DIR  a scratch directory for state files
//   MF_POP3_TEST_IMAPS_PORT, MF_POP3_TEST_DEST_USER / _DEST_PASSWORD: an IMAP mailbox on the
//                           same server to migrate into (it must not have the folder FromPop3)
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "imap/client/imap_account.h"
#include "message/imap_date.h"
#include "pop3/client/pop3_account.h"
#include "store/state_store.h"
#include "sync/content_hash.h"
#include "sync/migrator.h"
#include "sync/store_uid_allocator.h"
#include "sync/verifier.h"

namespace mf::pop3 {
namespace {

using ::testing::HasSubstr;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

struct Expected {
  uint64_t size = 0;
  std::string sha256;
  std::string messageId;
  std::string dateSource;
  int64_t epoch = 0;
};

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

class Pop3AccountIntegration : public ::testing::Test {
 protected:
  void SetUp() override {
    if (env("MF_POP3_TEST_PORT").empty()) {
      GTEST_SKIP() << "MF_POP3_TEST_* not set: run tests/integration/test_pop3_account.py";
    }
    std::ifstream in(env("MF_POP3_TEST_EXPECTED"));
    ASSERT_TRUE(in) << "cannot read " << env("MF_POP3_TEST_EXPECTED");
    nlohmann::json j = nlohmann::json::parse(in);
    for (const auto& m : j.at("messages")) {
      Expected e;
      e.size = m.at("size").get<uint64_t>();
      e.sha256 = m.at("sha256").get<std::string>();
      e.messageId = m.at("message_id").is_null() ? "" : m.at("message_id").get<std::string>();
      e.dateSource = m.at("date_source").get<std::string>();
      e.epoch =
          m.at("internaldate_epoch").is_null() ? 0 : m.at("internaldate_epoch").get<int64_t>();
      expected_.push_back(e);
    }
    ASSERT_FALSE(expected_.empty());
  }

  AccountOptions options(bool implicitTls, std::shared_ptr<access::UidAllocator> uids = nullptr) {
    AccountOptions o;
    o.connect.endpoint.protocol = net::Protocol::kPop3;
    o.connect.endpoint.security = implicitTls ? net::Security::kTls : net::Security::kStartTls;
    o.connect.endpoint.host = "127.0.0.1";
    o.connect.endpoint.port = static_cast<uint16_t>(
        std::stoi(env(implicitTls ? "MF_POP3_TEST_TLS_PORT" : "MF_POP3_TEST_PORT")));
    o.connect.endpoint.user = env("MF_POP3_TEST_USER");
    o.connect.tls.caFile = env("MF_POP3_TEST_CA_FILE");
    o.connect.allowPlaintext = false;  // STLS must really happen
    o.credentials.user = env("MF_POP3_TEST_USER");
    o.credentials.password = Secret(env("MF_POP3_TEST_PASSWORD"));
    o.uids = uids ? std::move(uids) : std::make_shared<access::MemoryUidAllocator>();
    return o;
  }

  std::unique_ptr<Pop3Account> open(AccountOptions o) {
    auto account = Pop3Account::open(std::move(o));
    EXPECT_TRUE(account.isOk()) << account.status().message();
    return account.isOk() ? std::move(account).value() : nullptr;
  }

  std::vector<Expected> expected_;
};

TEST_F(Pop3AccountIntegration, ListingOverStlsMatchesTheMailbox) {
  const int64_t started = static_cast<int64_t>(std::time(nullptr));
  auto account = open(options(/*implicitTls=*/false));
  ASSERT_TRUE(account);
  EXPECT_THAT(account->connection().tlsDescription(), HasSubstr("TLS"));
  EXPECT_EQ(account->connection().loginDescription(), "AUTH PLAIN as 'alice'");
  auto folders = account->listFolders();
  ASSERT_TRUE(folders.isOk());
  ASSERT_EQ(folders->size(), 1u);
  auto st = account->openForRead(folders->front());
  ASSERT_TRUE(st.isOk()) << st.status().message();
  EXPECT_EQ(st->messages, expected_.size());
  auto metas = account->listMessages(1);
  ASSERT_TRUE(metas.isOk()) << metas.status().message();
  const int64_t finished = static_cast<int64_t>(std::time(nullptr));
  ASSERT_EQ(metas->size(), expected_.size());
  EXPECT_TRUE(account->hasUidl());
  int received = 0, dated = 0, now = 0;
  for (size_t i = 0; i < metas->size(); ++i) {
    const auto& m = (*metas)[i];
    const Expected& e = expected_[i];
    SCOPED_TRACE("message " + std::to_string(i + 1));
    EXPECT_EQ(m.uid, i + 1);
    EXPECT_EQ(m.size, e.size);
    EXPECT_EQ(m.messageId, e.messageId);
    EXPECT_TRUE(m.flags.empty());
    const auto* info = account->messageInfo(m.uid);
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(std::string(message::dateSourceName(info->dateSource)), e.dateSource);
    auto epoch = message::parseImapDateTime(m.internalDate);
    ASSERT_TRUE(epoch.has_value()) << m.internalDate;
    if (e.dateSource == "now") {
      EXPECT_GE(*epoch, started);
      EXPECT_LE(*epoch, finished);
      ++now;
    } else {
      EXPECT_EQ(*epoch, e.epoch) << m.internalDate;
      (e.dateSource == "Received" ? received : dated)++;
    }
  }
  // The seeded mailbox has all three kinds; a test that saw none of one proves nothing.
  EXPECT_GT(received, 0);
  EXPECT_GT(dated, 0);
  EXPECT_GT(now, 0);
  auto notices = account->takeNotices();
  EXPECT_EQ(notices.size(), static_cast<size_t>(now));
}

TEST_F(Pop3AccountIntegration, BodiesOverImplicitTlsAreByteIdentical) {
  auto account = open(options(/*implicitTls=*/true));
  ASSERT_TRUE(account);
  EXPECT_THAT(account->describe(), HasSubstr("pop3s://alice@127.0.0.1:"));
  auto metas = account->listMessages(1);
  ASSERT_TRUE(metas.isOk()) << metas.status().message();
  std::vector<uint32_t> uids;
  for (const auto& m : *metas) uids.push_back(m.uid);

  struct Hashing : access::BodyConsumer {
    std::map<uint32_t, std::string> bodies;
    std::map<uint32_t, uint64_t> announced;
    uint32_t current = 0;
    Status begin(uint32_t uid, uint64_t size) override {
      current = uid;
      announced[uid] = size;
      return Status::ok();
    }
    Status data(std::string_view chunk) override {
      bodies[current].append(chunk);
      return Status::ok();
    }
    Status end() override { return Status::ok(); }
  } consumer;
  Status fetched = account->fetchBodies(uids, consumer);
  ASSERT_TRUE(fetched.isOk()) << fetched.message();
  ASSERT_EQ(consumer.bodies.size(), expected_.size());
  uint64_t biggest = 0;
  for (size_t i = 0; i < expected_.size(); ++i) {
    SCOPED_TRACE("message " + std::to_string(i + 1));
    const std::string& body = consumer.bodies[static_cast<uint32_t>(i + 1)];
    EXPECT_EQ(body.size(), expected_[i].size);
    EXPECT_EQ(consumer.announced[static_cast<uint32_t>(i + 1)], body.size());
    EXPECT_EQ(sha256Hex(body), expected_[i].sha256);
    biggest = std::max<uint64_t>(biggest, body.size());
  }
  EXPECT_GT(biggest, 1u << 20) << "no message bigger than the in-memory limit: the spill to a "
                                  "temporary file was not exercised";

  // The deep-verify path of the engine (sync::digestBodies) works on a POP3 source.
  auto digests = sync::digestBodies(*account, uids);
  ASSERT_TRUE(digests.isOk()) << digests.status().message();
  for (size_t i = 0; i < expected_.size(); ++i) {
    EXPECT_EQ((*digests)[static_cast<uint32_t>(i + 1)].sha256Hex, expected_[i].sha256);
  }
}

// AccountOptions::readWholeWithTop: TOP n 2147483647 gives the same bytes as RETR. (The
// Python module also runs this alone against a Dovecot that marks RETR'd mail \Seen, and
// checks that TOP leaves the flags alone where RETR does not.)
TEST_F(Pop3AccountIntegration, WholeMessagesReadWithTop) {
  auto o = options(/*implicitTls=*/false);
  o.readWholeWithTop = true;
  auto account = open(std::move(o));
  ASSERT_TRUE(account);
  auto metas = account->listMessages(1);
  ASSERT_TRUE(metas.isOk()) << metas.status().message();
  std::vector<uint32_t> uids;
  for (const auto& m : *metas) uids.push_back(m.uid);
  auto digests = sync::digestBodies(*account, uids);
  ASSERT_TRUE(digests.isOk()) << digests.status().message();
  ASSERT_EQ(digests->size(), expected_.size());
  for (size_t i = 0; i < expected_.size(); ++i) {
    const auto& d = (*digests)[static_cast<uint32_t>(i + 1)];
    EXPECT_EQ(d.sha256Hex, expected_[i].sha256) << "message " << i + 1;
    EXPECT_EQ(d.size, expected_[i].size) << "message " << i + 1;
  }
}

TEST_F(Pop3AccountIntegration, UidsAreStableAcrossSessionsWithTheSameStateFile) {
  const std::string path = env("MF_POP3_TEST_STATE_DIR") + "/uids.db";
  const std::string key = "pop3s://alice@127.0.0.1 -> imaps://alice@dest";
  std::map<std::string, uint32_t> first;
  {
    auto store = store::openSqliteStore(path);
    ASSERT_TRUE(store.isOk()) << store.status().message();
    auto uids = std::make_shared<sync::StoreUidAllocator>(**store, key, "INBOX");
    auto account = open(options(/*implicitTls=*/true, uids));
    ASSERT_TRUE(account);
    auto metas = account->listMessages(1);
    ASSERT_TRUE(metas.isOk()) << metas.status().message();
    ASSERT_EQ(metas->size(), expected_.size());
    for (const auto& m : *metas) first[account->messageInfo(m.uid)->key] = m.uid;
  }
  ASSERT_EQ(first.size(), expected_.size());
  // A second session (other transport, store opened afresh) sees the same UIDs, and nothing
  // above the highest one: the engine's watermark finds no new message.
  auto store = store::openSqliteStore(path);
  ASSERT_TRUE(store.isOk()) << store.status().message();
  auto uids = std::make_shared<sync::StoreUidAllocator>(**store, key, "INBOX");
  auto account = open(options(/*implicitTls=*/false, uids));
  ASSERT_TRUE(account);
  auto metas = account->listMessages(1);
  ASSERT_TRUE(metas.isOk()) << metas.status().message();
  std::set<uint32_t> seen;
  for (const auto& m : *metas) {
    const auto* info = account->messageInfo(m.uid);
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(first[info->key], m.uid) << info->key;
    seen.insert(m.uid);
  }
  EXPECT_EQ(seen.size(), expected_.size());
  auto fresh = account->listMessages(static_cast<uint32_t>(expected_.size() + 1));
  ASSERT_TRUE(fresh.isOk());
  EXPECT_TRUE(fresh->empty());
}

TEST_F(Pop3AccountIntegration, UserPassAlsoWorks) {
  auto o = options(/*implicitTls=*/true);
  o.connect.forceMechanism = "USER";
  auto account = open(std::move(o));
  ASSERT_TRUE(account);
  EXPECT_EQ(account->connection().loginDescription(), "USER/PASS as 'alice'");
  auto metas = account->listMessages(1);
  ASSERT_TRUE(metas.isOk());
  EXPECT_EQ(metas->size(), expected_.size());
}

// The engine end to end with a POP3 source, as `mailferry migrate --from pop3s://...
// --pop3-folder FromPop3` will wire it: every message copied once with its Received/Date
// internal date, a re-run (new sessions, same state file) copies nothing, and verify --deep
// agrees, the internal dates of messages that had none ("now" differs each time) counted
// apart instead of compared.
TEST_F(Pop3AccountIntegration, MigratorCopiesExactlyOnceAndVerifyAgrees) {
  const std::string statePath = env("MF_POP3_TEST_STATE_DIR") + "/migrate.db";
  const std::string key = "pop3s://alice@127.0.0.1 -> imaps://bob@127.0.0.1";
  auto openedStore = store::openSqliteStore(statePath);
  ASSERT_TRUE(openedStore.isOk()) << openedStore.status().message();
  store::Store& state = **openedStore;

  access::SourceFactory openSource = [&]() -> Result<std::unique_ptr<access::MailSource>> {
    // The allocator gets a store connection of its own: the engine may use `state` from
    // another thread.
    MF_ASSIGN_OR_RETURN(auto own, store::openSqliteStore(statePath));
    auto uids = std::make_shared<sync::StoreUidAllocator>(std::move(own), key, "INBOX");
    MF_ASSIGN_OR_RETURN(auto account, Pop3Account::open(options(true, uids)));
    return std::unique_ptr<access::MailSource>(std::move(account));
  };
  auto imapOptions = [] {
    imap::AccountOptions o;
    o.connect.endpoint.protocol = net::Protocol::kImap;
    o.connect.endpoint.security = net::Security::kTls;
    o.connect.endpoint.host = "127.0.0.1";
    o.connect.endpoint.port = static_cast<uint16_t>(std::stoi(env("MF_POP3_TEST_IMAPS_PORT")));
    o.connect.endpoint.user = env("MF_POP3_TEST_DEST_USER");
    o.connect.tls.caFile = env("MF_POP3_TEST_CA_FILE");
    o.user = env("MF_POP3_TEST_DEST_USER");
    o.password = Secret(env("MF_POP3_TEST_DEST_PASSWORD"));
    return o;
  };
  access::AccountFactory openDestination = [&]() -> Result<std::unique_ptr<access::MailAccount>> {
    MF_ASSIGN_OR_RETURN(auto account, imap::ImapAccount::open(imapOptions()));
    return std::unique_ptr<access::MailAccount>(std::move(account));
  };
  sync::MigrateOptions mo;
  mo.mailboxKey = key;
  mo.plan.map.push_back({"INBOX", "FromPop3"});
  sync::ProgressSink progress;

  for (int run = 1; run <= 2; ++run) {
    SCOPED_TRACE("run " + std::to_string(run));
    sync::Migrator migrator(openSource, openDestination, state, mo, progress);
    auto report = migrator.run();
    ASSERT_TRUE(report.isOk()) << report.status().message();
    ASSERT_EQ(report->folders.size(), 1u);
    const sync::FolderReport& f = report->folders[0];
    EXPECT_EQ(f.source, "INBOX");
    EXPECT_EQ(f.destination, "FromPop3");
    EXPECT_EQ(f.error, "");
    EXPECT_EQ(f.failed, 0u);
    EXPECT_EQ(f.copied, run == 1 ? expected_.size() : 0u);
  }

  auto source = openSource();
  ASSERT_TRUE(source.isOk()) << source.status().message();
  auto destination = imap::ImapAccount::open(imapOptions());
  ASSERT_TRUE(destination.isOk()) << destination.status().message();
  auto reader = imap::ImapAccount::open(imapOptions());
  ASSERT_TRUE(reader.isOk()) << reader.status().message();
  sync::VerifyOptions vo;
  vo.plan = mo.plan;
  vo.deep = true;
  auto verified = sync::verifyMailbox(**source, **destination, **reader, vo);
  ASSERT_TRUE(verified.isOk()) << verified.status().message();
  ASSERT_EQ(verified->folders.size(), 1u);
  const sync::FolderVerification& v = verified->folders[0];
  EXPECT_EQ(v.error, "");
  EXPECT_EQ(v.sourceMessages, expected_.size());
  EXPECT_EQ(v.destinationMessages, expected_.size());
  EXPECT_TRUE(v.missing.empty()) << v.missing.front();
  EXPECT_TRUE(v.extra.empty()) << v.extra.front();
  EXPECT_TRUE(v.flagDifferences.empty());
  // Messages dated "now" are counted, not compared: "now" differs between the listings.
  size_t nowDated = 0;
  for (const auto& e : expected_) nowDated += e.dateSource == "now";
  ASSERT_GT(nowDated, 0u);  // the corpus has some, or this checks nothing
  EXPECT_TRUE(v.dateDifferences.empty()) << v.dateDifferences.front();
  EXPECT_EQ(v.sourceUndated, nowDated);
  EXPECT_TRUE(v.identical());
}

// Last: Dovecot's anvil delays logins from an address after failed ones (auth penalty), so
// the failures come after every other test, and there are only two of them.
TEST_F(Pop3AccountIntegration, WrongPasswordIsAnAuthError) {
  struct Case {
    bool implicitTls;
    const char* mechanism;
    const char* how;
  };
  for (const Case& c : {Case{true, "", "AUTH PLAIN"}, Case{false, "USER", "USER/PASS"}}) {
    auto o = options(c.implicitTls);
    o.connect.forceMechanism = c.mechanism;
    o.credentials.password = Secret("not-the-password");
    auto account = Pop3Account::open(std::move(o));
    ASSERT_FALSE(account.isOk());
    EXPECT_EQ(account.status().code(), Errc::kAuth) << account.status().message();
    EXPECT_THAT(account.status().message(),
                HasSubstr(std::string("was refused (") + c.how + "): [AUTH]"));
    EXPECT_THAT(account.status().message(), HasSubstr("Check the user name and password."));
    EXPECT_THAT(account.status().message(), ::testing::Not(HasSubstr("not-the-password")));
  }
}

}  // namespace
}  // namespace mf::pop3
