// Test-only helpers shared by the POP3 client unit tests: a fake server session on loopback
// and a BodyConsumer that keeps what it is given.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "access/mail_access.h"
#include "access/uid_allocator.h"
#include "net/test_support.h"
#include "pop3/client/connection.h"
#include "pop3/client/fake_pop3_server.h"
#include "pop3/client/pop3_account.h"

namespace mf::pop3::testing {

// One fake POP3 session: the server thread starts at construction; the destructor waits for
// it, after which commands() is complete. `fake` is declared first so it outlives the thread.
struct FakeSession {
  explicit FakeSession(FakeConfig config, const net::testing::TestCert* implicitTls = nullptr)
      : fake(std::move(config)) {
    server.serve([this](net::testing::ServerConnection& conn) { fake.run(conn); }, implicitTls);
  }
  uint16_t port() const { return server.port(); }

  FakePop3Server fake;
  net::testing::TestServer server;
};

inline ConnectOptions connectOptions(uint16_t port, net::Security security = net::Security::kNone,
                                     bool allowPlaintext = true) {
  ConnectOptions o;
  o.endpoint.protocol = net::Protocol::kPop3;
  o.endpoint.security = security;
  o.endpoint.host = "127.0.0.1";
  o.endpoint.port = port;
  o.endpoint.user = "alice";
  o.allowPlaintext = allowPlaintext;
  o.timeouts.connect = Millis(5000);
  o.timeouts.greeting = Millis(5000);
  o.timeouts.read = Millis(5000);
  return o;
}

inline Credentials aliceCredentials(std::string password = "s3cret pass") {
  Credentials c;
  c.user = "alice";
  c.password = Secret(std::move(password));
  return c;
}

constexpr int64_t kFixedNow = 1700000000;  // 14-Nov-2023 22:13:20 +0000

inline AccountOptions accountOptions(uint16_t port,
                                     std::shared_ptr<access::UidAllocator> uids = nullptr) {
  AccountOptions o;
  o.connect = connectOptions(port);
  o.credentials = aliceCredentials();
  o.uids = uids ? std::move(uids) : std::make_shared<access::MemoryUidAllocator>();
  o.now = [] { return kFixedNow; };
  return o;
}

// Keeps every body; checks that each is exactly as long as announced.
class Collector : public access::BodyConsumer {
 public:
  Status begin(uint32_t uid, uint64_t size) override {
    if (failBeginOf == uid)
      return Status(Errc::kServerNo, "destination refused UID " + std::to_string(uid));
    current_ = uid;
    announced[uid] = size;
    bodies[uid].clear();
    order.push_back(uid);
    return Status::ok();
  }
  Status data(std::string_view chunk) override {
    bodies[current_].append(chunk);
    ++chunks;
    return Status::ok();
  }
  Status end() override {
    EXPECT_EQ(bodies[current_].size(), announced[current_]) << "UID " << current_;
    return Status::ok();
  }

  std::map<uint32_t, std::string> bodies;
  std::map<uint32_t, uint64_t> announced;
  std::vector<uint32_t> order;
  size_t chunks = 0;
  uint32_t failBeginOf = 0;

 private:
  uint32_t current_ = 0;
};

}  // namespace mf::pop3::testing
