// The order of attempts and the choice among them, with a fake attempt runner (no network).
#include <gtest/gtest.h>

#include <map>

#include "probe/probe.h"

namespace mf::probe {
namespace {

using net::Security;

net::Endpoint endpoint(const std::string& url) {
  auto parsed = net::parseEndpointUrl(url);
  EXPECT_TRUE(parsed.isOk()) << parsed.status().message();
  return *parsed;
}

std::vector<std::string> describe(const std::vector<net::Endpoint>& endpoints) {
  std::vector<std::string> out;
  for (const auto& e : endpoints) out.push_back(describeEndpoint(e));
  return out;
}

TEST(ProbeCandidates, ImapStandardOrderGivenFirst) {
  EXPECT_EQ(describe(probeCandidates(endpoint("imap://alice@mail.example:143"), {})),
            (std::vector<std::string>{"imap://alice@mail.example:143 (STARTTLS)",
                                      "imaps://alice@mail.example:993 (TLS)",
                                      "imap://alice@mail.example:143 (none)"}));
  EXPECT_EQ(describe(probeCandidates(endpoint("imaps://mail.example:10993"), {})),
            (std::vector<std::string>{
                "imaps://mail.example:10993 (TLS)", "imaps://mail.example:993 (TLS)",
                "imap://mail.example:143 (STARTTLS)", "imap://mail.example:143 (none)"}));
}

TEST(ProbeCandidates, Pop3StandardOrder) {
  EXPECT_EQ(
      describe(probeCandidates(endpoint("pop3s://mail.example"), {})),
      (std::vector<std::string>{"pop3s://mail.example:995 (TLS)", "pop3://mail.example:110 (STLS)",
                                "pop3://mail.example:110 (none)"}));
}

TEST(ProbeCandidates, PortsReplaceTheStandardListEachWithEveryModeTlsFirst) {
  EXPECT_EQ(describe(probeCandidates(endpoint("imap://127.0.0.1:2000"), {2000, 3000})),
            (std::vector<std::string>{
                "imap://127.0.0.1:2000 (STARTTLS)", "imaps://127.0.0.1:2000 (TLS)",
                "imap://127.0.0.1:2000 (none)", "imaps://127.0.0.1:3000 (TLS)",
                "imap://127.0.0.1:3000 (STARTTLS)", "imap://127.0.0.1:3000 (none)"}));
}

// A fake server landscape: port/security -> outcome.
struct Fake {
  std::map<std::pair<uint16_t, Security>, ProbeAttempt::Outcome> outcomes;
  std::vector<std::string> calls;

  AttemptRunner runner() {
    return [this](const net::Endpoint& e, const ProbeOptions&) {
      calls.push_back(describeEndpoint(e));
      ProbeAttempt a;
      auto it = outcomes.find({e.port, e.security});
      a.outcome = it == outcomes.end() ? ProbeAttempt::kRefused : it->second;
      a.loginAllowed = a.outcome == ProbeAttempt::kOk;
      a.greeting = "Dovecot ready.";
      return a;
    };
  }
};

TEST(ProbeEndpoint, GivenWorksNothingElseTried) {
  Fake fake;
  fake.outcomes[{993, Security::kTls}] = ProbeAttempt::kOk;
  ProbeResult r = probeEndpoint(endpoint("imaps://h"), {}, fake.runner());
  EXPECT_EQ(fake.calls.size(), 1u);
  EXPECT_TRUE(r.givenWorked());
  EXPECT_EQ(recommendation(r), "Use: imaps://h:993");
  EXPECT_EQ(r.server, ServerKind::kDovecot);
}

TEST(ProbeEndpoint, OnlyStartTlsOpen) {
  Fake fake;
  fake.outcomes[{993, Security::kTls}] = ProbeAttempt::kRefused;
  fake.outcomes[{143, Security::kStartTls}] = ProbeAttempt::kOk;
  fake.outcomes[{143, Security::kNone}] = ProbeAttempt::kOk;
  ProbeResult r = probeEndpoint(endpoint("imaps://alice@h"), {}, fake.runner());
  ASSERT_TRUE(r.chosen);
  EXPECT_EQ(*r.chosen, 1u);
  EXPECT_FALSE(r.givenWorked());
  EXPECT_EQ(fake.calls.size(), 2u);  // stops at the first usable one
  EXPECT_EQ(recommendation(r),
            "Use: imap://alice@h:143 (STARTTLS)\nThe given settings imaps://alice@h:993 (TLS) "
            "did not work; save the ones above.");
}

TEST(ProbeEndpoint, PlaintextOnlyIsReportedButNotChosen) {
  Fake fake;
  fake.outcomes[{143, Security::kStartTls}] = ProbeAttempt::kTlsFailure;
  fake.outcomes[{143, Security::kNone}] = ProbeAttempt::kOk;
  ProbeResult r = probeEndpoint(endpoint("imaps://h"), {}, fake.runner());
  EXPECT_FALSE(r.chosen);
  ASSERT_TRUE(r.plaintextOnly);
  EXPECT_EQ(r.attempts[*r.plaintextOnly].endpoint.security, Security::kNone);
  EXPECT_FALSE(r.attempts[*r.plaintextOnly].usable);
  EXPECT_NE(recommendation(r).find("--allow-plaintext"), std::string::npos);

  ProbeOptions allow;
  allow.allowPlaintext = true;
  r = probeEndpoint(endpoint("imaps://h"), allow, fake.runner());
  ASSERT_TRUE(r.chosen);
  EXPECT_EQ(r.chosenEndpoint()->security, Security::kNone);
  EXPECT_EQ(recommendation(r).substr(0, 39), "Use: imap://h:143 --allow-plaintext\nThe");
}

TEST(ProbeEndpoint, LoginDisabledIsNotUsable) {
  ProbeOptions options;
  ProbeResult r =
      probeEndpoint(endpoint("imaps://h"), options, [](const net::Endpoint&, const ProbeOptions&) {
        ProbeAttempt a;
        a.outcome = ProbeAttempt::kOk;
        a.loginAllowed = false;
        return a;
      });
  EXPECT_FALSE(r.chosen);
  EXPECT_EQ(r.attempts.size(), 3u);  // 993/TLS given, 143/STARTTLS, 143/none
}

TEST(ProbeEndpoint, ExhaustiveTriesEverythingAndReportsInOrder) {
  Fake fake;
  fake.outcomes[{993, Security::kTls}] = ProbeAttempt::kOk;
  ProbeOptions options;
  options.exhaustive = true;
  std::vector<std::string> seen;
  options.onAttempt = [&](const ProbeAttempt& a) { seen.push_back(describeEndpoint(a.endpoint)); };
  ProbeResult r = probeEndpoint(endpoint("imap://h"), options, fake.runner());
  EXPECT_EQ(seen, fake.calls);
  EXPECT_EQ(seen.size(), 3u);
  ASSERT_TRUE(r.chosen);
  EXPECT_EQ(*r.chosen, 1u);
}

TEST(ProbeEndpoint, FailureAdviceNamesTheCause) {
  auto all = [](ProbeAttempt::Outcome outcome, std::string detail) {
    return [=](const net::Endpoint&, const ProbeOptions&) {
      ProbeAttempt a;
      a.outcome = outcome;
      a.detail = detail;
      return a;
    };
  };
  ProbeResult r = probeEndpoint(endpoint("imaps://h"), {}, all(ProbeAttempt::kRefused, "x"));
  EXPECT_NE(recommendation(r).find("Every port refused"), std::string::npos);
  r = probeEndpoint(endpoint("imaps://h"), {},
                    all(ProbeAttempt::kTlsFailure, "certificate verify failed"));
  EXPECT_NE(recommendation(r).find("--ca-file"), std::string::npos);
  r = probeEndpoint(endpoint("imaps://h"), {}, all(ProbeAttempt::kTimeout, "slow"));
  EXPECT_NE(recommendation(r).find("--timeout"), std::string::npos);
}

}  // namespace
}  // namespace mf::probe

namespace mf::probe {
namespace {

TEST(ParsePortList, AcceptsCommaSeparatedPorts) {
  auto ports = parsePortList("993, 143,10143");
  ASSERT_TRUE(ports.isOk()) << ports.status().message();
  EXPECT_EQ(*ports, (std::vector<uint16_t>{993, 143, 10143}));
  for (const char* bad : {"", "993,", "0", "65536", "99x", "-1", "993,993", "1 2"}) {
    auto r = parsePortList(bad);
    EXPECT_FALSE(r.isOk()) << bad;
    if (!r.isOk()) {
      EXPECT_EQ(r.status().code(), Errc::kUsage);
    }
  }
}

}  // namespace
}  // namespace mf::probe
