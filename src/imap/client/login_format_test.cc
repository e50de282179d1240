// Admin login names per format: built-in formats, templates, names given already combined.
#include "imap/client/login_format.h"

#include <gtest/gtest.h>

namespace mf::imap {
namespace {

LoginFormat format(std::string_view text) {
  auto f = parseLoginFormat(text);
  EXPECT_TRUE(f.isOk()) << f.status().message();
  return f.isOk() ? *f : LoginFormat{};
}

std::string combine(std::string_view fmt, std::string_view user, std::string_view admin = "admin",
                    std::string_view domain = "") {
  auto r = combineLogin(format(fmt), user, admin, domain);
  EXPECT_TRUE(r.isOk()) << r.status().message();
  return r.isOk() ? r->name : "";
}

TEST(LoginFormat, ParsesNamesCaseInsensitively) {
  EXPECT_EQ(format("").kind, LoginFormatKind::kAuto);
  EXPECT_EQ(format("AUTO").kind, LoginFormatKind::kAuto);
  EXPECT_EQ(format("Exchange").kind, LoginFormatKind::kExchange);
  EXPECT_EQ(format("exchange-slash").kind, LoginFormatKind::kExchangeSlash);
  EXPECT_EQ(format("dovecot").kind, LoginFormatKind::kDovecot);
  EXPECT_EQ(format("mirapoint").kind, LoginFormatKind::kMirapoint);
  EXPECT_EQ(format("sasl").kind, LoginFormatKind::kSasl);
  EXPECT_FALSE(format("sasl").combinesNames());
  EXPECT_FALSE(format("auto").combinesNames());
  EXPECT_EQ(format("CORP\\{admin}\\{user}").kind, LoginFormatKind::kTemplate);
  EXPECT_EQ(format("CORP\\{admin}\\{user}").describe(), "template 'CORP\\{admin}\\{user}'");
}

TEST(LoginFormat, RefusesBadFormatsWithAReason) {
  auto unknown = parseLoginFormat("zimbra");
  ASSERT_FALSE(unknown.isOk());
  EXPECT_EQ(unknown.status().code(), Errc::kUsage);
  EXPECT_NE(unknown.status().message().find("dovecot"), std::string::npos);

  auto placeholder = parseLoginFormat("{user}%{master}");
  ASSERT_FALSE(placeholder.isOk());
  EXPECT_NE(placeholder.status().message().find("{master}"), std::string::npos);

  EXPECT_FALSE(parseLoginFormat("{user}*{admin").isOk());     // unterminated
  EXPECT_FALSE(parseLoginFormat("{admin}@{domain}").isOk());  // names no mailbox
}

TEST(LoginFormat, BuiltInFormats) {
  EXPECT_EQ(combine("exchange", "alice", "admin", "CORP"), "CORP\\admin\\alice");
  EXPECT_EQ(combine("exchange-slash", "alice", "admin", "CORP"), "CORP/admin/alice");
  EXPECT_EQ(combine("dovecot", "alice"), "alice*admin");
  EXPECT_EQ(combine("dovecot", "alice@example.com"), "alice@example.com*admin");
  EXPECT_EQ(combine("mirapoint", "alice@example.com"), "#alice@example.com#admin#");
  EXPECT_EQ(combine("mirapoint", "alice", "admin", "example.com"), "#alice@example.com#admin#");
}

TEST(LoginFormat, DomainComesFromTheAddressUnlessGiven) {
  EXPECT_EQ(combine("exchange", "alice@example.com"), "example.com\\admin\\alice@example.com");
  EXPECT_EQ(combine("{domain}\\{admin}\\{user}", "alice@example.com", "adm", "CORP"),
            "CORP\\adm\\alice@example.com");
  auto missing = combineLogin(format("exchange"), "alice", "admin", "");
  ASSERT_FALSE(missing.isOk());
  EXPECT_EQ(missing.status().code(), Errc::kUsage);
  EXPECT_NE(missing.status().message().find("admin domain"), std::string::npos);
  EXPECT_FALSE(combineLogin(format("#{email}#{admin}#"), "alice", "admin", "").isOk());
}

TEST(LoginFormat, Templates) {
  EXPECT_EQ(combine("CORP\\{admin}\\{user}", "alice"), "CORP\\admin\\alice");
  EXPECT_EQ(combine("{user}+{admin}", "alice"), "alice+admin");
  EXPECT_EQ(combine("{email}\\{admin}@{domain}", "alice", "shared", "example.com"),
            "alice@example.com\\shared@example.com");
}

TEST(LoginFormat, ANameAlreadyCombinedIsUsedAsGiven) {
  auto r = combineLogin(format("exchange"), "CORP\\admin\\alice", "admin", "");
  ASSERT_TRUE(r.isOk());
  EXPECT_TRUE(r->usedAsGiven);
  EXPECT_EQ(r->name, "CORP\\admin\\alice");
  // Exchange takes both separators.
  EXPECT_EQ(combine("exchange", "CORP/admin/alice"), "CORP/admin/alice");
  EXPECT_EQ(combine("dovecot", "alice*admin"), "alice*admin");
  EXPECT_EQ(combine("mirapoint", "#alice@example.com#admin#"), "#alice@example.com#admin#");
  EXPECT_EQ(combine("CORP\\{admin}\\{user}", "CORP\\root\\alice"), "CORP\\root\\alice");

  EXPECT_TRUE(alreadyCombined(format("auto"), "alice*admin"));
  EXPECT_TRUE(alreadyCombined(format("auto"), "corp\\admin\\alice"));
  EXPECT_FALSE(alreadyCombined(format("auto"), "alice@example.com"));
  EXPECT_FALSE(alreadyCombined(format("auto"), "a\\b"));
  EXPECT_FALSE(alreadyCombined(format("dovecot"), "alice"));
  EXPECT_FALSE(alreadyCombined(format("sasl"), "alice*admin"));
  // A template of placeholders only would match anything: never "already combined".
  EXPECT_FALSE(alreadyCombined(format("{user}"), "alice"));
}

}  // namespace
}  // namespace mf::imap
