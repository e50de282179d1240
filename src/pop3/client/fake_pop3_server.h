// Test-only: a scripted POP3 server for the client unit tests. It plays one session on a
// net::testing::ServerConnection (loopback, one connection) following RFC 1939 / 2449 /
// 2595 / 5034 closely enough for the client, with switches for the server behaviours the
// client must cope with (no CAPA, no UIDL, no TOP, APOP timestamp, SASL PLAIN, STLS, refused
// RETRs, injected bytes after STLS), and records every command line it received so tests
// can check what went on the wire (above all: never a DELE).
#pragma once

#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "net/test_support.h"

namespace mf::pop3::testing {

struct FakeConfig {
  std::string greetingText = "fake POP3 ready";
  bool apopTimestamp = false;  // append " <1896.697170952@dbc.mtview.ca.us>" to the greeting
  bool capa = true;            // false: CAPA answers -ERR
  std::vector<std::string> capabilities = {"TOP", "UIDL", "PIPELINING", "USER", "RESP-CODES"};
  std::vector<std::string> sasl;  // e.g. {"PLAIN"}: adds "SASL PLAIN" to CAPA
  bool uidl = true;               // false: UIDL answers -ERR
  bool top = true;                // false: TOP answers -ERR
  std::string user = "alice";
  std::string password = "s3cret pass";
  std::string authzid;  // expected AUTH PLAIN authzid ("" = none)
  std::string authError = "[AUTH] Authentication failed.";
  bool sendContinuationForPlain = false;  // answer "+ " even to AUTH PLAIN with initial resp
  // STLS: offered in CAPA and answered when `cert` is set.
  const net::testing::TestCert* cert = nullptr;
  std::string injectAfterStls;        // bytes sent right after "+OK" to STLS (attack simulation)
  std::vector<std::string> messages;  // CRLF message contents, message n = messages[n-1]
  std::vector<std::string> uidls;     // "" or missing = "uidl-<n>"
  std::set<int> refuseRetr;           // message numbers whose RETR/TOP answer -ERR
  int listSizeDelta = 0;              // LIST reports size + delta (a server counting oddly)
};

class FakePop3Server {
 public:
  explicit FakePop3Server(FakeConfig config) : config_(std::move(config)) {}

  // Runs one session until QUIT or EOF. Called on the server thread.
  void run(net::testing::ServerConnection& conn);

  // Every command line received (without CRLF), in order. Call after the session ended.
  std::vector<std::string> commands() const;
  // How many times several commands arrived in one read (evidence of pipelining).
  int batchedReads() const;
  bool quitReceived() const;

 private:
  std::string uidlOf(size_t n) const;
  bool authenticated_ = false;

  FakeConfig config_;
  mutable std::mutex mu_;
  std::vector<std::string> commands_;
  int batchedReads_ = 0;
  bool quit_ = false;
};

}  // namespace mf::pop3::testing
