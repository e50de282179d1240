// detectServer() against greetings, capabilities and ID responses as real servers send them.
#include "probe/server_kind.h"

#include <gtest/gtest.h>

namespace mf::probe {
namespace {

ServerKind fromGreeting(std::string_view greeting) {
  return detectServer(greeting, {}, {});
}

TEST(DetectServer, RealImapGreetings) {
  EXPECT_EQ(fromGreeting("Gimap ready for requests from 198.51.100.7 q5mb3748121wrx"),
            ServerKind::kGmail);
  // Exchange Online: the bracket is base64 of the UTF-16 back-end host name.
  EXPECT_EQ(fromGreeting("The Microsoft Exchange IMAP4 service is ready. "
                         "[TQBOADIAUABSADEAMwBDAEEAMAAwADQAOQAuAG4AYQBtAHAAcgBkADEAMwAuAHAAcgBvAG"
                         "QALgBvAHUAdABsAG8AbwBrAC4AYwBvAG0A]"),
            ServerKind::kExchange);
  EXPECT_EQ(fromGreeting("Microsoft Exchange Server 2003 IMAP4rev1 server version 6.5.7638.1 "
                         "(mail.example.com) ready."),
            ServerKind::kExchange);
  EXPECT_EQ(fromGreeting("Dovecot ready."), ServerKind::kDovecot);
  EXPECT_EQ(fromGreeting("Dovecot (Debian) ready."), ServerKind::kDovecot);
  EXPECT_EQ(fromGreeting("mail.example.com Cyrus IMAP v2.4.17-Debian-2.4.17+caldav~beta9-3 "
                         "server ready"),
            ServerKind::kCyrus);
  EXPECT_EQ(fromGreeting("Courier-IMAP ready. Copyright 1998-2011 Double Precision, Inc.  See "
                         "COPYING for distribution information."),
            ServerKind::kCourier);
  EXPECT_EQ(fromGreeting("mail.example.com Zimbra IMAP4rev1 server ready"), ServerKind::kZimbra);
  EXPECT_EQ(fromGreeting("Kerio Connect 9.2.7 IMAP4rev1 server ready"), ServerKind::kKerio);
  EXPECT_EQ(fromGreeting("IMAP4rev1 Service Ready"), ServerKind::kOther);
}

TEST(DetectServer, RealPop3Greetings) {
  EXPECT_EQ(fromGreeting("Gpop ready for requests from 198.51.100.7 a1mb123456"),
            ServerKind::kGmail);
  EXPECT_EQ(fromGreeting("The Microsoft Exchange POP3 service is ready. [UABBADAAUAA=]"),
            ServerKind::kExchange);
  EXPECT_EQ(fromGreeting("Dovecot ready. <1a2b.3c@mail.example.com>"), ServerKind::kDovecot);
  EXPECT_EQ(fromGreeting("mail.example.com Cyrus POP3 v2.4.17 server ready <123@mail>"),
            ServerKind::kCyrus);
  // Courier's POP3 greeting says nothing; its CAPA IMPLEMENTATION line does.
  EXPECT_EQ(fromGreeting("Hello there."), ServerKind::kOther);
  EXPECT_EQ(detectServer("Hello there.", {"TOP", "USER", "IMPLEMENTATION Courier Mail Server"}, {}),
            ServerKind::kCourier);
}

TEST(DetectServer, HostNamesInGreetingsDoNotMislead) {
  // An organisation's host names contain all sorts of words.
  EXPECT_EQ(fromGreeting("exchange.example.org Dovecot ready."), ServerKind::kDovecot);
  EXPECT_EQ(fromGreeting("imap.exchange-partners.example IMAP4rev1 ready"), ServerKind::kOther);
  EXPECT_EQ(fromGreeting("google-fans.example.net ready"), ServerKind::kOther);
}

TEST(DetectServer, GmailCapabilityWithoutGreeting) {
  EXPECT_EQ(
      detectServer("ready", {"IMAP4rev1", "UNSELECT", "IDLE", "X-GM-EXT-1", "AUTH=PLAIN"}, {}),
      ServerKind::kGmail);
}

TEST(DetectServer, IdResponseWinsOverACustomGreeting) {
  // Admins change Dovecot's login_greeting; ID still names the software.
  EXPECT_EQ(detectServer("Welcome to Example Mail", {"IMAP4rev1", "ID"}, {{"name", "Dovecot"}}),
            ServerKind::kDovecot);
  EXPECT_EQ(detectServer("ready", {}, {{"name", "GImap"}, {"vendor", "Google, Inc."}}),
            ServerKind::kGmail);
  EXPECT_EQ(detectServer("ready", {}, {{"NAME", "Zimbra"}, {"VERSION", "8.8.15_GA_3869"}}),
            ServerKind::kZimbra);
  EXPECT_EQ(detectServer("ready", {}, {{"name", "Cyrus IMAPD"}, {"vendor", "Project Cyrus"}}),
            ServerKind::kCyrus);
  // Only name and vendor identify the software; other fields are free text.
  EXPECT_EQ(detectServer("ready", {}, {{"support-url", "https://exchange.example/help"}}),
            ServerKind::kOther);
}

TEST(NonMailNotice, OnlyForGmailAndExchange) {
  std::string gmail = nonMailNotice(ServerKind::kGmail);
  EXPECT_NE(gmail.find("contacts, calendars and tasks are not carried over IMAP"),
            std::string::npos);
  EXPECT_NE(gmail.find("Google Takeout"), std::string::npos);
  std::string exchange = nonMailNotice(ServerKind::kExchange);
  EXPECT_NE(exchange.find("contacts, calendars and tasks are not carried over IMAP"),
            std::string::npos);
  EXPECT_NE(exchange.find("PST"), std::string::npos);
  for (ServerKind kind : {ServerKind::kOther, ServerKind::kDovecot, ServerKind::kCyrus,
                          ServerKind::kCourier, ServerKind::kZimbra, ServerKind::kKerio}) {
    EXPECT_EQ(nonMailNotice(kind), "") << serverKindName(kind);
  }
}

TEST(ServerKindName, StableTokens) {
  EXPECT_STREQ(serverKindName(ServerKind::kGmail), "gmail");
  EXPECT_STREQ(serverKindName(ServerKind::kExchange), "exchange");
  EXPECT_STREQ(serverKindName(ServerKind::kOther), "other");
  EXPECT_STREQ(serverKindTitle(ServerKind::kExchange), "Microsoft Exchange / Office 365");
}

}  // namespace
}  // namespace mf::probe
