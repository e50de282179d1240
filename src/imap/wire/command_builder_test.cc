#include "imap/wire/command_builder.h"

#include <gtest/gtest.h>

namespace mf::imap {
namespace {

using namespace std::string_literals;

// The whole command as it goes on the wire, plus where the sender must wait.
std::string join(const std::vector<CommandSegment>& segments) {
  std::string out;
  for (const CommandSegment& s : segments) out += s.bytes + (s.waitForContinuation ? "|" : "");
  return out;
}

std::string one(CommandBuilder& b) {
  std::vector<CommandSegment> segs = b.build();
  EXPECT_EQ(segs.size(), 1u);
  return segs.empty() ? "" : segs[0].bytes;
}

TEST(CommandBuilder, AtomsQuotedAndEmpty) {
  CommandBuilder b("A1", "LOGIN");
  b.astring("joe").astring("pass word");
  EXPECT_EQ(one(b), "A1 LOGIN joe \"pass word\"\r\n");

  CommandBuilder e("A2", "SELECT");
  e.astring("");
  EXPECT_EQ(one(e), "A2 SELECT \"\"\r\n");
}

TEST(CommandBuilder, QuotingEscapesBackslashAndQuote) {
  CommandBuilder b("A1", "LOGIN");
  b.astring("a\\b").astring("say \"hi\"");
  EXPECT_EQ(one(b), "A1 LOGIN \"a\\\\b\" \"say \\\"hi\\\"\"\r\n");
}

TEST(CommandBuilder, NilAndSpecialsAreNeverAtoms) {
  CommandBuilder b("A1", "CREATE");
  b.astring("NIL").astring("nil").astring("a%b").astring("a*").astring("a]").astring("(x)").astring(
      "{5}");
  EXPECT_EQ(one(b), "A1 CREATE \"NIL\" \"nil\" \"a%b\" \"a*\" \"a]\" \"(x)\" \"{5}\"\r\n");
}

TEST(CommandBuilder, QuotedOrLiteralNeverAtom) {
  CommandBuilder b("A1", "LOGIN");
  b.astring("user").quotedOrLiteral("secret");
  EXPECT_EQ(one(b), "A1 LOGIN user \"secret\"\r\n");
}

TEST(CommandBuilder, EightBitAndLineBreaksBecomeLiterals) {
  CommandBuilder b("A1", "LOGIN", /*literalPlus=*/true);
  b.astring("j\xc3\xb6rg").astring("a\r\nb").astring("x\0y"s).astring("\n");
  EXPECT_EQ(join(b.build()),
            "A1 LOGIN {5+}\r\nj\xc3\xb6rg {4+}\r\na\r\nb {3+}\r\nx\0y {1+}\r\n\n\r\n"s);
}

TEST(CommandBuilder, SynchronizingLiteralSplitsSegments) {
  CommandBuilder b("A1", "LOGIN");
  b.astring("j\xc3\xb6rg").astring("pw");
  std::vector<CommandSegment> segs = b.build();
  ASSERT_EQ(segs.size(), 2u);
  EXPECT_EQ(segs[0].bytes, "A1 LOGIN {5}\r\n");
  EXPECT_TRUE(segs[0].waitForContinuation);
  EXPECT_EQ(segs[1].bytes, "j\xc3\xb6rg pw\r\n");
  EXPECT_FALSE(segs[1].waitForContinuation);
}

TEST(CommandBuilder, LiteralAlwaysLiteral) {
  CommandBuilder plus("A1", "SEARCH", true);
  plus.atom("CHARSET").atom("UTF-8").atom("SUBJECT").literal("abc");
  EXPECT_EQ(join(plus.build()), "A1 SEARCH CHARSET UTF-8 SUBJECT {3+}\r\nabc\r\n");
  CommandBuilder sync("A1", "SEARCH");
  sync.atom("TEXT").literal("").atom("ALL");
  EXPECT_EQ(join(sync.build()), "A1 SEARCH TEXT {0}\r\n| ALL\r\n");
}

TEST(CommandBuilder, NumbersRawAndAtoms) {
  CommandBuilder b("A5", "UID FETCH");
  b.raw("1:*").openList().atom("UID").atom("FLAGS").atom("BODY.PEEK[]").closeList();
  EXPECT_EQ(one(b), "A5 UID FETCH 1:* (UID FLAGS BODY.PEEK[])\r\n");
  CommandBuilder n("A6", "UID STORE");
  n.number(0).number(18446744073709551615u).atom("+FLAGS.SILENT").raw("(\\Seen)");
  EXPECT_EQ(one(n), "A6 UID STORE 0 18446744073709551615 +FLAGS.SILENT (\\Seen)\r\n");
}

TEST(CommandBuilder, ListSpacing) {
  CommandBuilder b("A1", "X");
  b.openList();
  b.atom("a");
  b.atom("b");
  b.closeList();
  EXPECT_EQ(one(b), "A1 X (a b)\r\n");

  CommandBuilder nested("A2", "STATUS");
  nested.astring("INBOX").openList().openList().closeList().atom("MESSAGES").closeList().atom("z");
  EXPECT_EQ(one(nested), "A2 STATUS INBOX (() MESSAGES) z\r\n");

  CommandBuilder empty("A3", "X");
  empty.openList().closeList();
  EXPECT_EQ(one(empty), "A3 X ()\r\n");
}

TEST(CommandBuilder, FlagListValidates) {
  CommandBuilder b("A1", "STORE");
  std::vector<std::string> rejected;
  b.flagList({"\\Seen", "\\answered", "$Label", "\\Recent", "\\*", "bad flag", "\\Junk", "",
              "\\SEEN", "NonJunk", "a]b", "\xc3\xa9"},
             &rejected);
  EXPECT_EQ(one(b), "A1 STORE (\\Seen \\Answered $Label NonJunk)\r\n");
  EXPECT_EQ(rejected, (std::vector<std::string>{"\\Recent", "\\*", "bad flag", "\\Junk", "", "a]b",
                                                "\xc3\xa9"}));
  CommandBuilder all("A2", "APPEND");
  all.flagList({"\\Flagged", "\\Deleted", "\\Draft"});
  EXPECT_EQ(one(all), "A2 APPEND (\\Flagged \\Deleted \\Draft)\r\n");
  CommandBuilder none("A3", "APPEND");
  none.flagList({"\\Recent"});
  EXPECT_EQ(one(none), "A3 APPEND ()\r\n");
}

TEST(CommandBuilder, IsFlagIsAtomIsQuotable) {
  EXPECT_TRUE(CommandBuilder::isFlag("\\Seen"));
  EXPECT_TRUE(CommandBuilder::isFlag("\\draft"));
  EXPECT_TRUE(CommandBuilder::isFlag("$MDNSent"));
  EXPECT_FALSE(CommandBuilder::isFlag("\\Recent"));
  EXPECT_FALSE(CommandBuilder::isFlag("\\*"));
  EXPECT_FALSE(CommandBuilder::isFlag("a b"));
  EXPECT_TRUE(CommandBuilder::isAtom("INBOX.Sent-Items_2024+x"));
  EXPECT_TRUE(CommandBuilder::isAtom("a[b"));
  EXPECT_FALSE(CommandBuilder::isAtom(""));
  EXPECT_FALSE(CommandBuilder::isAtom("NiL"));
  for (char c : std::string("(){ %*\"\\]\x7f\x01")) {
    EXPECT_FALSE(CommandBuilder::isAtom(std::string("a") + c)) << int(c);
  }
  EXPECT_TRUE(CommandBuilder::isQuotable(""));
  EXPECT_TRUE(CommandBuilder::isQuotable("a \"b\" \\ \t"));
  EXPECT_FALSE(CommandBuilder::isQuotable("a\rb"));
  EXPECT_FALSE(CommandBuilder::isQuotable("a\nb"));
  EXPECT_FALSE(CommandBuilder::isQuotable("a\0b"s));
  EXPECT_FALSE(CommandBuilder::isQuotable("\x80"));
}

TEST(CommandBuilder, LiteralPlusAppendIsOneSegment) {
  CommandBuilder b("A1", "APPEND", true);
  b.astring("Sent Items").flagList({"\\Seen"}).quotedOrLiteral("17-Jul-1996 02:44:25 -0700");
  b.literalHeader(5);
  std::vector<CommandSegment> head = b.takeSegments();
  ASSERT_EQ(head.size(), 1u);
  EXPECT_EQ(head[0].bytes,
            "A1 APPEND \"Sent Items\" (\\Seen) \"17-Jul-1996 02:44:25 -0700\" {5+}\r\n");
  EXPECT_FALSE(head[0].waitForContinuation);
  std::vector<CommandSegment> tail = b.build();
  ASSERT_EQ(tail.size(), 1u);
  EXPECT_EQ(tail[0].bytes, "\r\n");
}

TEST(CommandBuilder, MultiappendWithSynchronizingLiterals) {
  // The sender's view: segments, then the streamed body, then more arguments.
  CommandBuilder b("A9", "APPEND");
  std::string wire;
  std::vector<bool> waits;
  auto send = [&](std::vector<CommandSegment> segs) {
    for (CommandSegment& s : segs) {
      wire += s.bytes;
      waits.push_back(s.waitForContinuation);
    }
  };
  b.astring("INBOX").flagList({"\\Seen"}).literalHeader(5);
  send(b.takeSegments());
  wire += "hello";  // the caller streams the first message
  b.flagList({}).literalHeader(6);
  send(b.takeSegments());
  wire += "world!";
  send(b.build());
  EXPECT_EQ(wire, "A9 APPEND INBOX (\\Seen) {5}\r\nhello () {6}\r\nworld!\r\n");
  EXPECT_EQ(waits, (std::vector<bool>{true, true, false}));
}

TEST(CommandBuilder, TakeSegmentsWithoutLiteralHeaderKeepsBytes) {
  CommandBuilder b("A1", "NOOP");
  b.atom("X");
  std::vector<CommandSegment> first = b.takeSegments();
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].bytes, "A1 NOOP X");
  EXPECT_FALSE(first[0].waitForContinuation);
  EXPECT_TRUE(b.takeSegments().empty());
  b.atom("Y");
  EXPECT_EQ(join(b.build()), " Y\r\n");
}

TEST(CommandBuilder, LiteralPlusBigLiteralHeader) {
  CommandBuilder b("A1", "APPEND", true);
  b.astring("INBOX").literalHeader(50ull << 20);
  EXPECT_EQ(join(b.takeSegments()), "A1 APPEND INBOX {52428800+}\r\n");
}

#ifdef NDEBUG
TEST(CommandBuilder, UnsafeAtomFallsBackToQuotingInRelease) {
  CommandBuilder b("A1", "SELECT");
  b.atom("a b").atom("x\r\nA2 DELETE INBOX");
  EXPECT_EQ(join(b.build()), "A1 SELECT \"a b\" {18}\r\n|x\r\nA2 DELETE INBOX\r\n");
}
#endif

}  // namespace
}  // namespace mf::imap
