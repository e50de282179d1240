// SASL client steps against the published examples: RFC 2195 (CRAM-MD5), RFC 4616 (PLAIN),
// RFC 7628 4.1 (OAUTHBEARER), Google's XOAUTH2 page, and the vendor schemes' documented forms.
#include "imap/client/sasl.h"

#include <gtest/gtest.h>

#include "base/base64.h"

namespace mf::imap::sasl {
namespace {

std::string bytes(const Secret& s) {
  return std::string(s.reveal());
}

TEST(Sasl, PlainRfc4616Examples) {
  // RFC 4616 section 4: "\0tim\0tanstaaftanstaaf" and "Ursel\0Kurt\0xipj3plmq".
  EXPECT_EQ(bytes(plainMessage("", "tim", "tanstaaftanstaaf")),
            std::string("\0tim\0tanstaaftanstaaf", 21));
  EXPECT_EQ(bytes(plainMessage("Ursel", "Kurt", "xipj3plmq")),
            std::string("Ursel\0Kurt\0xipj3plmq", 20));
}

TEST(Sasl, PlainMechanismIsClientFirst) {
  auto m = makePlain("alice", "admin", Secret("admin-pw"));
  EXPECT_EQ(m->name(), "PLAIN");
  // Without SASL-IR the first (empty) challenge gets the message...
  auto first = m->step("");
  ASSERT_TRUE(first.isOk());
  EXPECT_EQ(bytes(*first), std::string("alice\0admin\0admin-pw", 20));
  // ...and a second challenge is an error: the client cancels.
  EXPECT_FALSE(m->step("").isOk());
}

TEST(Sasl, PlainKeepsQuotesBackslashesAndUtf8) {
  const std::string pw = "b0b pw with \"quotes\" and \\ backslash \xc3\xa9\xe2\x82\xac";
  auto m = makePlain("", "bob", Secret(pw));
  auto initial = m->initialResponse();
  ASSERT_TRUE(initial.has_value());
  EXPECT_EQ(bytes(*initial), std::string("\0bob\0", 5) + pw);
}

TEST(Sasl, CramMd5Rfc2195Example) {
  // RFC 2195 section 2: challenge, user "tim", secret "tanstaaftanstaaf".
  auto challenge = base64Decode("PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+");
  ASSERT_TRUE(challenge.has_value());
  EXPECT_EQ(*challenge, "<1896.697170952@postoffice.reston.mci.net>");
  auto m = makeCramMd5("tim", Secret("tanstaaftanstaaf"));
  EXPECT_FALSE(m->initialResponse().has_value());
  auto answer = m->step(*challenge);
  ASSERT_TRUE(answer.isOk());
  EXPECT_EQ(bytes(*answer), "tim b913a602c7eda7a495b4e6e7334d3890");
  EXPECT_EQ(base64Encode(answer->reveal()), "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw");
  EXPECT_FALSE(m->step(*challenge).isOk());  // only one round
}

TEST(Sasl, CramMd5RefusesAnEmptyChallenge) {
  auto m = makeCramMd5("tim", Secret("x"));
  EXPECT_FALSE(m->step("").isOk());
}

TEST(Sasl, HmacMd5Rfc2104Vector) {
  // RFC 2104 appendix, test 2: key "Jefe".
  EXPECT_EQ(hmacMd5Hex("Jefe", "what do ya want for nothing?"), "750c783e6ab0b503eaa86e310a5db738");
  EXPECT_EQ(hmacMd5Hex("", ""), "74e6f7298a9c2d168935f58c001bad88");
}

TEST(Sasl, LoginAnswersUserThenPassword) {
  auto m = makeLogin("bob", Secret("p\"w"));
  EXPECT_FALSE(m->initialResponse().has_value());
  EXPECT_EQ(bytes(*m->step("Username:")), "bob");
  EXPECT_EQ(bytes(*m->step("Password:")), "p\"w");
  EXPECT_FALSE(m->step("More:").isOk());
}

TEST(Sasl, Xoauth2GoogleExample) {
  // developers.google.com/gmail/imap/xoauth2-protocol: the SASL XOAUTH2 initial client
  // response for someuser@example.com, base64-encoded.
  Secret m =
      xoauth2Message("someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg");
  EXPECT_EQ(base64Encode(m.reveal()),
            "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNr"
            "QmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==");
}

TEST(Sasl, Xoauth2AnswersAnErrorChallengeWithAnEmptyResponse) {
  auto m = makeXoauth2("alice", Secret("tok"));
  ASSERT_TRUE(m->initialResponse().has_value());
  auto r = m->step(R"({"status":"401","schemes":"bearer","scope":"https://mail.google.com/"})");
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(bytes(*r), "");
  EXPECT_NE(m->serverDiagnostic().find("401"), std::string::npos);
}

TEST(Sasl, OauthBearerRfc7628Example) {
  // RFC 7628 section 4.1.
  Secret m = oauthBearerMessage("user@example.com", "server.example.com", 143,
                                "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==");
  EXPECT_EQ(bytes(m),
            "n,a=user@example.com,\x01host=server.example.com\x01port=143\x01"
            "auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01");
  EXPECT_EQ(base64Encode(m.reveal()),
            "bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9MTQzAWF1dGg9QmVh"
            "cmVyIHZGOWRmdDRxbVRjMk52YjNSbGNrQmhiSFJoZG1semRHRXVZMjl0Q2c9PQEB");
}

TEST(Sasl, OauthBearerEscapesTheAuthzidAndAnswersErrorsWithCtrlA) {
  EXPECT_EQ(gs2Escape("a,b=c"), "a=2Cb=3Dc");
  auto m = makeOauthBearer("a,b", "h", 993, Secret("t"));
  auto initial = m->initialResponse();
  ASSERT_TRUE(initial.has_value());
  EXPECT_EQ(bytes(*initial).substr(0, 9), "n,a=a=2Cb");
  // RFC 7628 3.2.3: after an error challenge the client sends a single %x01.
  auto r = m->step(R"({"status":"invalid_token"})");
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(bytes(*r), "\x01");
  EXPECT_EQ(m->serverDiagnostic(), R"({"status":"invalid_token"})");
}

TEST(Sasl, KerioMasterAuthIsMd5HexOfChallengeAndPassword) {
  EXPECT_EQ(md5Hex(""), "d41d8cd98f00b204e9800998ecf8427e");
  // MD5("abc") = 900150983cd24fb0d6963f7d28e17f72 (RFC 1321 A.5): challenge "ab", password "c".
  EXPECT_EQ(bytes(kerioMasterAuthResponse("ab", "c")), "900150983cd24fb0d6963f7d28e17f72");
}

TEST(Sasl, GroupWiseTrustedAppLine) {
  EXPECT_EQ(bytes(groupWiseTrustedAppLine("app", "key")), "XGWTRUSTEDAPP YXBwAGtleQ==");
}

TEST(Sasl, SchemeNames) {
  EXPECT_EQ(parseScheme("login"), Scheme::kLoginCommand);
  EXPECT_EQ(parseScheme("AUTH=LOGIN"), Scheme::kLogin);
  EXPECT_EQ(parseScheme("authenticate-login"), Scheme::kLogin);
  EXPECT_EQ(parseScheme("auth=plain"), Scheme::kPlain);
  EXPECT_EQ(parseScheme("cram-md5"), Scheme::kCramMd5);
  EXPECT_EQ(parseScheme("XOAUTH2"), Scheme::kXoauth2);
  EXPECT_EQ(parseScheme("oauthbearer"), Scheme::kOauthBearer);
  EXPECT_EQ(parseScheme("x-masterauth"), Scheme::kKerioMasterAuth);
  EXPECT_EQ(parseScheme("XGWTRUSTEDAPP"), Scheme::kGroupWiseTrusted);
  EXPECT_FALSE(parseScheme("DIGEST-MD5").has_value());
  EXPECT_FALSE(parseScheme("").has_value());
  EXPECT_EQ(saslName(Scheme::kLoginCommand), "");
  EXPECT_EQ(saslName(Scheme::kLogin), "LOGIN");
}

TEST(Sasl, PrintableMakesServerTextSafe) {
  EXPECT_EQ(printable("a\x01\n\xff"
                      "b"),
            "a???b");
  EXPECT_EQ(printable("abcdef", 3), "abc...");
}

}  // namespace
}  // namespace mf::imap::sasl
