#include "imap/client/quirks.h"

#include <gtest/gtest.h>

namespace mf::imap {
namespace {

ServerAnnouncement announce(std::string greeting, std::set<std::string> caps = {},
                            std::vector<std::pair<std::string, std::string>> id = {}) {
  return ServerAnnouncement{std::move(greeting), std::move(caps), std::move(id)};
}

const std::set<std::string> kCaps = {"IMAP4REV1", "LITERAL+", "UIDPLUS", "NAMESPACE", "ID"};

TEST(Quirks, PlainServersGetNoWorkaround) {
  for (const char* greeting :
       {"Dovecot ready.", "Dovecot (Debian) ready.", "Gimap ready for requests from 1.2.3.4",
        "Cyrus IMAP v3.4.5 server ready", "exchange.example.org Dovecot ready.",
        "IMAP4rev1 Service Ready", ""}) {
    ServerQuirks q = deriveQuirks(announce(greeting, kCaps, {{"name", "Dovecot"}}));
    EXPECT_FALSE(q.any()) << greeting;
    EXPECT_EQ(q.maxErrorsPerSession, 0u);
    EXPECT_FALSE(q.appendNeedsFinalCrlf);
    EXPECT_FALSE(q.bareAppendNoMeansKeywordRefused);
    EXPECT_FALSE(q.selectInsteadOfExamine);
    EXPECT_FALSE(q.phantomUids);
  }
}

TEST(Quirks, ExchangeByGreetingOrId) {
  ServerQuirks q = deriveQuirks(announce("The Microsoft Exchange IMAP4 service is ready."));
  EXPECT_EQ(q.maxErrorsPerSession, 10u);
  EXPECT_TRUE(q.flaggedByStoreAfterAppend);
  ASSERT_EQ(q.applied.size(), 1u);
  EXPECT_NE(q.applied[0].find("Microsoft Exchange / Office 365 (greeting)"), std::string::npos)
      << q.applied[0];
  // Office 365 appends the base64 server name to the same greeting.
  q = deriveQuirks(announce(
      "The Microsoft Exchange IMAP4 service is ready. [TQBOADIAUABSADAANABDAEEAMAAwADAAMQA=]"));
  EXPECT_EQ(q.maxErrorsPerSession, 10u);
  // A customised greeting, but the ID response names the product.
  q = deriveQuirks(announce("IMAP ready", kCaps,
                            {{"name", "Microsoft.Exchange.Imap4.Imap4Server"}, {"version", "15"}}));
  EXPECT_EQ(q.maxErrorsPerSession, 10u);
  EXPECT_NE(q.applied[0].find("(ID)"), std::string::npos);
}

TEST(Quirks, YahooByItsCapability) {
  std::set<std::string> caps = {"IMAP4REV1",        "ID",      "MOVE",     "NAMESPACE",
                                "XYMHIGHESTMODSEQ", "UIDPLUS", "LITERAL+", "CHILDREN"};
  ServerQuirks q = deriveQuirks(announce("IMAP4rev1 Hello", caps));
  EXPECT_TRUE(q.appendNeedsFinalCrlf);
  EXPECT_EQ(q.maxErrorsPerSession, 0u);
  EXPECT_FALSE(q.flaggedByStoreAfterAppend);
  EXPECT_FALSE(deriveQuirks(announce("IMAP4rev1 Hello", kCaps)).appendNeedsFinalCrlf);
}

TEST(Quirks, ZimbraByGreetingOrId) {
  EXPECT_TRUE(deriveQuirks(announce("mail.example.com Zimbra IMAP4rev1 server ready"))
                  .bareAppendNoMeansKeywordRefused);
  // ID field names in upper case, as Zimbra sends them.
  ServerQuirks q =
      deriveQuirks(announce("ready", kCaps, {{"NAME", "Zimbra"}, {"VERSION", "8.8.15_GA"}}));
  EXPECT_TRUE(q.bareAppendNoMeansKeywordRefused);
  // Only "name" and "vendor" identify the software (RFC 2971 3.3).
  EXPECT_FALSE(
      deriveQuirks(announce("ready", kCaps, {{"support-url", "http://zimbra.example"}})).any());
}

TEST(Quirks, CourierReadsWithSelect) {
  ServerQuirks q = deriveQuirks(
      announce("Courier-IMAP ready. Copyright 1998-2011 Double Precision, Inc.  See COPYING for "
               "distribution information."));
  EXPECT_TRUE(q.selectInsteadOfExamine);
  EXPECT_FALSE(q.appendNeedsFinalCrlf);
}

TEST(Quirks, ICloud) {
  EXPECT_TRUE(
      deriveQuirks(announce("iSCREAM ready to rumble (1S:1234) p00-iscream001")).phantomUids);
  EXPECT_TRUE(deriveQuirks(announce("ready", {"IMAP4REV1", "XAPPLEPUSHSERVICE"})).phantomUids);
}

TEST(Quirks, SeveralEntriesCanMatch) {
  ServerQuirks q =
      deriveQuirks(announce("The Microsoft Exchange IMAP4 service is ready.",
                            {"IMAP4REV1", "XYMHIGHESTMODSEQ"}, {{"vendor", "Zimbra"}}));
  EXPECT_EQ(q.maxErrorsPerSession, 10u);
  EXPECT_TRUE(q.appendNeedsFinalCrlf);
  EXPECT_TRUE(q.bareAppendNoMeansKeywordRefused);
  EXPECT_EQ(q.applied.size(), 3u);
}

}  // namespace
}  // namespace mf::imap
