#include "imap/wire/response_parser.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace mf::imap {
namespace {

using namespace std::string_view_literals;

// ---- Harness ----------------------------------------------------------------------------
// Every parser test runs the input twice, whole and byte by byte, and checks that both
// runs tell the same story: the same responses, the same literal bytes, the same error.

std::string describe(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kAtom:
      return "A:" + v.text;
    case Value::Kind::kNumber:
      return "N:" + std::to_string(v.number);
    case Value::Kind::kString:
      return "S:\"" + v.text + "\"";
    case Value::Kind::kNil:
      return "NIL";
    case Value::Kind::kStreamed:
      return "STREAMED:" + std::to_string(v.number);
    case Value::Kind::kList: {
      std::string out = "(";
      for (size_t i = 0; i < v.items.size(); ++i) {
        if (i) out += ' ';
        out += describe(v.items[i]);
      }
      return out + ")";
    }
  }
  return "?";
}

std::string describe(const Response& r) {
  std::string out;
  switch (r.type) {
    case ResponseType::kTagged:
      out = "tagged[" + r.tag + "]";
      break;
    case ResponseType::kUntagged:
      out = "untagged";
      break;
    case ResponseType::kContinuation:
      out = "cont";
      break;
  }
  if (r.isStatus()) out += " status=" + r.status;
  if (!r.code.empty()) out += " code=" + r.code + " args=<" + r.codeArgs + ">";
  if (!r.text.empty() || r.isStatus() || r.type == ResponseType::kContinuation) {
    out += " text=<" + r.text + ">";
  }
  if (r.number) out += " number=" + std::to_string(*r.number);
  if (!r.name.empty()) out += " name=" + r.name;
  for (const Value& v : r.values) out += " " + describe(v);
  return out;
}

struct ParseRun {
  std::vector<Response> responses;
  std::vector<std::string> literals;  // streamed literal contents, in order
  std::vector<std::string> keys;      // literalKey() at each kLiteralBegin
  std::vector<std::string> log;       // every event, chunks of one literal merged
  bool failed = false;
  Status error;
};

struct Options {
  ParserLimits limits;
  StreamPredicate predicate;
};

// Feeds `input` in chunks of `chunk` bytes (0: whole). Each chunk is copied into its own
// buffer so that views are checked to point into the chunk the parser was given.
ParseRun runChunks(std::string_view input, const std::vector<size_t>& sizes, const Options& opt) {
  ResponseParser parser(opt.limits);
  if (opt.predicate) parser.setStreamPredicate(opt.predicate);
  ParseRun run;
  std::string literal;
  bool inLiteral = false;
  size_t off = 0;
  size_t si = 0;
  while (off < input.size() && !run.failed) {
    size_t n = std::min(sizes[si++ % sizes.size()], input.size() - off);
    std::string buffer(input.substr(off, n));
    off += n;
    std::string_view in = buffer;
    for (;;) {
      ParseEvent ev = parser.next(in);
      if (ev.kind == ParseEvent::kNeedMore) {
        EXPECT_TRUE(in.empty()) << "kNeedMore with input left";
        break;
      }
      if (ev.kind == ParseEvent::kError) {
        run.failed = true;
        run.error = parser.error();
        run.log.push_back("error " + std::string(errcName(parser.error().code())) + ": " +
                          parser.error().message());
        // The error state is terminal.
        std::string_view more = "* OK\r\n";
        EXPECT_EQ(parser.next(more).kind, ParseEvent::kError);
        break;
      }
      switch (ev.kind) {
        case ParseEvent::kResponse: {
          EXPECT_FALSE(inLiteral);
          Response r = parser.takeResponse();
          run.log.push_back(describe(r));
          run.responses.push_back(std::move(r));
          break;
        }
        case ParseEvent::kLiteralBegin:
          EXPECT_FALSE(inLiteral);
          inLiteral = true;
          literal.clear();
          run.keys.emplace_back(parser.literalKey());
          run.log.push_back("begin " + std::to_string(ev.size) +
                            " key=" + std::string(parser.literalKey()) +
                            " partial=" + describe(parser.partial()));
          break;
        case ParseEvent::kLiteralData:
          EXPECT_TRUE(inLiteral);
          EXPECT_FALSE(ev.data.empty());
          // Zero copy: the chunk is a view into the buffer we passed in.
          EXPECT_GE(ev.data.data(), buffer.data());
          EXPECT_LE(ev.data.data() + ev.data.size(), buffer.data() + buffer.size());
          literal.append(ev.data);
          break;
        case ParseEvent::kLiteralEnd:
          EXPECT_TRUE(inLiteral);
          inLiteral = false;
          run.log.push_back("literal " + std::to_string(literal.size()) + " bytes");
          run.literals.push_back(literal);
          break;
        default:
          break;
      }
    }
  }
  if (!run.failed) run.log.push_back(inLiteral ? "incomplete literal" : "end");
  return run;
}

ParseRun parseBoth(std::string_view input, const Options& opt = {}) {
  ParseRun whole = runChunks(input, {input.size() + 1}, opt);
  ParseRun bytes = runChunks(input, {1}, opt);
  EXPECT_EQ(whole.log, bytes.log) << "whole and byte-by-byte parses differ";
  EXPECT_EQ(whole.literals, bytes.literals);
  return whole;
}

Response parseOne(std::string_view input, const Options& opt = {}) {
  ParseRun run = parseBoth(input, opt);
  EXPECT_FALSE(run.failed) << run.error.message();
  EXPECT_EQ(run.responses.size(), 1u) << input;
  return run.responses.empty() ? Response{} : run.responses[0];
}

Status parseError(std::string_view input, const Options& opt = {}) {
  ParseRun run = parseBoth(input, opt);
  EXPECT_TRUE(run.failed) << input;
  return run.error;
}

bool streamBodies(const Response&, std::string_view key, uint64_t) {
  return key.rfind("BODY[", 0) == 0 || key.rfind("BINARY[", 0) == 0;
}

// ---- Status responses --------------------------------------------------------------------

TEST(ResponseParser, TaggedOk) {
  Response r = parseOne("A1 OK LOGIN completed\r\n");
  EXPECT_EQ(r.type, ResponseType::kTagged);
  EXPECT_EQ(r.tag, "A1");
  EXPECT_EQ(r.status, "OK");
  EXPECT_TRUE(r.isOk());
  EXPECT_TRUE(r.code.empty());
  EXPECT_EQ(r.text, "LOGIN completed");
}

TEST(ResponseParser, TaggedWithCode) {
  Response r = parseOne("A7 OK [APPENDUID 38505 3955] APPEND completed\r\n");
  EXPECT_EQ(r.code, "APPENDUID");
  EXPECT_EQ(r.codeArgs, "38505 3955");
  EXPECT_EQ(r.text, "APPEND completed");
}

TEST(ResponseParser, TaggedNoAndBad) {
  ParseRun run = parseBoth("a2 no [TRYCREATE] Mailbox doesn't exist\r\nA3 BAD\r\n");
  ASSERT_EQ(run.responses.size(), 2u);
  EXPECT_EQ(run.responses[0].status, "NO");
  EXPECT_EQ(run.responses[0].code, "TRYCREATE");
  EXPECT_EQ(run.responses[0].codeArgs, "");
  EXPECT_EQ(run.responses[0].text, "Mailbox doesn't exist");
  EXPECT_EQ(run.responses[1].status, "BAD");
  EXPECT_EQ(run.responses[1].text, "");
}

TEST(ResponseParser, UntaggedOkWithUidValidity) {
  Response r = parseOne("* OK [UIDVALIDITY 3857529045] UIDs valid\r\n");
  EXPECT_EQ(r.type, ResponseType::kUntagged);
  EXPECT_EQ(r.status, "OK");
  EXPECT_EQ(r.code, "UIDVALIDITY");
  EXPECT_EQ(r.codeArgs, "3857529045");
  EXPECT_EQ(r.text, "UIDs valid");
  EXPECT_TRUE(r.name.empty());
  EXPECT_FALSE(r.number.has_value());
}

TEST(ResponseParser, PermanentFlagsCodeKeepsParens) {
  Response r = parseOne("* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited\r\n");
  EXPECT_EQ(r.code, "PERMANENTFLAGS");
  EXPECT_EQ(r.codeArgs, "(\\Deleted \\Seen \\*)");
  EXPECT_EQ(r.text, "Limited");
}

TEST(ResponseParser, CapabilityCodeInGreeting) {
  Response r = parseOne(
      "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ "
      "AUTH=PLAIN] Dovecot ready.\r\n");
  EXPECT_EQ(r.code, "CAPABILITY");
  EXPECT_EQ(r.codeArgs, "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN");
  EXPECT_EQ(r.text, "Dovecot ready.");
}

TEST(ResponseParser, CodeWithoutArgsAndExtraSpaces) {
  Response r = parseOne("*   ok   [ read-write ]   Select completed  \r\n");
  EXPECT_EQ(r.status, "OK");
  EXPECT_EQ(r.code, "READ-WRITE");
  EXPECT_EQ(r.codeArgs, "");
  EXPECT_EQ(r.text, "Select completed");
}

TEST(ResponseParser, CodeArgsWithQuotedBracket) {
  Response r = parseOne("* NO [BADURL \"imap://h/x]y\"] bad\r\n");
  EXPECT_EQ(r.code, "BADURL");
  EXPECT_EQ(r.codeArgs, "\"imap://h/x]y\"");
  EXPECT_EQ(r.text, "bad");
}

TEST(ResponseParser, UnclosedBracketIsText) {
  Response r = parseOne("* OK [ALERT no close\r\n");
  EXPECT_EQ(r.code, "");
  EXPECT_EQ(r.text, "[ALERT no close");
}

TEST(ResponseParser, StatusWithoutText) {
  ParseRun run = parseBoth("* OK\r\nA1 OK\r\n* BYE\r\n");
  ASSERT_EQ(run.responses.size(), 3u);
  EXPECT_EQ(run.responses[0].status, "OK");
  EXPECT_EQ(run.responses[0].text, "");
  EXPECT_EQ(run.responses[1].tag, "A1");
  EXPECT_EQ(run.responses[2].status, "BYE");
}

TEST(ResponseParser, ByeAndPreauth) {
  ParseRun run =
      parseBoth("* PREAUTH [CAPABILITY IMAP4rev1] logged in\r\n* BYE Server shutting down\r\n");
  ASSERT_EQ(run.responses.size(), 2u);
  EXPECT_EQ(run.responses[0].status, "PREAUTH");
  EXPECT_EQ(run.responses[0].code, "CAPABILITY");
  EXPECT_EQ(run.responses[0].codeArgs, "IMAP4rev1");
  EXPECT_EQ(run.responses[1].status, "BYE");
  EXPECT_EQ(run.responses[1].text, "Server shutting down");
}

TEST(ResponseParser, BareLfLineEnds) {
  ParseRun run = parseBoth("* 3 EXISTS\nA1 OK done\n");
  ASSERT_EQ(run.responses.size(), 2u);
  EXPECT_EQ(run.responses[0].name, "EXISTS");
  EXPECT_EQ(run.responses[1].text, "done");
}

TEST(ResponseParser, BlankLinesBetweenResponsesAreSkipped) {
  ParseRun run = parseBoth("\r\n* 1 EXISTS\r\n\r\n  \r\nA1 OK x\r\n");
  ASSERT_FALSE(run.failed);
  ASSERT_EQ(run.responses.size(), 2u);
}

// ---- Continuations -----------------------------------------------------------------------

TEST(ResponseParser, Continuation) {
  Response r = parseOne("+ Ready for literal data\r\n");
  EXPECT_EQ(r.type, ResponseType::kContinuation);
  EXPECT_EQ(r.text, "Ready for literal data");
  EXPECT_FALSE(r.isStatus());
}

TEST(ResponseParser, BareContinuation) {
  ParseRun run = parseBoth("+\r\n+ \r\n+\n");
  ASSERT_EQ(run.responses.size(), 3u);
  for (const Response& r : run.responses) {
    EXPECT_EQ(r.type, ResponseType::kContinuation);
    EXPECT_EQ(r.text, "");
  }
}

TEST(ResponseParser, ContinuationBase64) {
  Response r = parseOne("+ YGgGCSqGSIb3EgECAgIBAAD/////6jcyG4GE3KkTzmeTxe=\r\n");
  EXPECT_EQ(r.text, "YGgGCSqGSIb3EgECAgIBAAD/////6jcyG4GE3KkTzmeTxe=");
}

// ---- Untagged data -----------------------------------------------------------------------

TEST(ResponseParser, Exists) {
  Response r = parseOne("* 23 EXISTS\r\n");
  EXPECT_EQ(r.type, ResponseType::kUntagged);
  EXPECT_EQ(r.number, 23u);
  EXPECT_EQ(r.name, "EXISTS");
  EXPECT_TRUE(r.values.empty());
  EXPECT_FALSE(r.isStatus());
}

TEST(ResponseParser, LowercaseNames) {
  Response r = parseOne("* 4 fetch (uid 7)\r\n");
  EXPECT_EQ(r.name, "FETCH");
  ASSERT_EQ(r.values.size(), 1u);
  EXPECT_EQ(describe(r.values[0]), "(A:uid N:7)");
  EXPECT_NE(fetchItem(r.values[0], "UID"), nullptr);
}

TEST(ResponseParser, FetchWithCollectedLiteral) {
  std::string body(44827, 'x');
  for (size_t i = 0; i < body.size(); i += 77) body[i] = '\n';
  std::string input =
      "* 5 FETCH (UID 9 FLAGS (\\Seen $Label) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" "
      "RFC822.SIZE 44827 BODY[] {44827}\r\n" +
      body + ")\r\n";
  Response r = parseOne(input);
  EXPECT_EQ(r.number, 5u);
  EXPECT_EQ(r.name, "FETCH");
  ASSERT_EQ(r.values.size(), 1u);
  const Value& list = r.values[0];
  ASSERT_EQ(list.kind, Value::Kind::kList);
  ASSERT_EQ(list.items.size(), 10u);
  EXPECT_EQ(fetchItem(list, "uid")->number, 9u);
  EXPECT_EQ(describe(*fetchItem(list, "FLAGS")), "(A:\\Seen A:$Label)");
  EXPECT_EQ(fetchItem(list, "INTERNALDATE")->text, "17-Jul-1996 02:44:25 -0700");
  EXPECT_EQ(fetchItem(list, "INTERNALDATE")->kind, Value::Kind::kString);
  EXPECT_EQ(fetchItem(list, "RFC822.SIZE")->number, 44827u);
  const Value* b = fetchItem(list, "BODY[]");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->kind, Value::Kind::kString);
  EXPECT_EQ(b->text, body);
  EXPECT_EQ(fetchItem(list, "ENVELOPE"), nullptr);
}

TEST(ResponseParser, FetchWithStreamedLiteral) {
  std::string body = "From: a@b\r\nSubject: hi\r\n\r\nbody {5}\r\n) \"x\r\n";
  std::string input = "* 5 FETCH (UID 9 BODY[] {" + std::to_string(body.size()) + "}\r\n" + body +
                      " FLAGS (\\Seen))\r\nA1 OK done\r\n";
  Options opt;
  opt.predicate = streamBodies;
  ParseRun run = parseBoth(input, opt);
  ASSERT_FALSE(run.failed) << run.error.message();
  ASSERT_EQ(run.responses.size(), 2u);
  ASSERT_EQ(run.literals.size(), 1u);
  EXPECT_EQ(run.literals[0], body);
  EXPECT_EQ(run.keys[0], "BODY[]");
  EXPECT_EQ(run.log[0], "begin " + std::to_string(body.size()) +
                            " key=BODY[] partial=untagged number=5 name=FETCH (A:UID N:9 "
                            "A:BODY[] STREAMED:" +
                            std::to_string(body.size()) + ")");
  const Value& list = run.responses[0].values[0];
  const Value* b = fetchItem(list, "BODY[]");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->kind, Value::Kind::kStreamed);
  EXPECT_EQ(b->number, body.size());
  EXPECT_EQ(describe(*fetchItem(list, "FLAGS")), "(A:\\Seen)");
}

TEST(ResponseParser, PredicateSeesSizeAndChoosesPerLiteral) {
  std::string input =
      "* 1 FETCH (BODY[HEADER.FIELDS (MESSAGE-ID)] {5}\r\nabcde BODY[] {3}\r\nxyz)\r\n";
  Options opt;
  std::vector<uint64_t> sizes;
  opt.predicate = [&sizes](const Response& partial, std::string_view key, uint64_t size) {
    EXPECT_EQ(partial.name, "FETCH");
    sizes.push_back(size);
    return key == "BODY[]";
  };
  ParseRun run = parseBoth(input, opt);
  ASSERT_FALSE(run.failed);
  EXPECT_EQ(run.keys, std::vector<std::string>{"BODY[]"});
  EXPECT_EQ(run.literals, std::vector<std::string>{"xyz"});
  EXPECT_EQ(describe(run.responses[0].values[0]),
            "(A:BODY[HEADER.FIELDS (MESSAGE-ID)] S:\"abcde\" A:BODY[] STREAMED:3)");
}

TEST(ResponseParser, ZeroLengthLiterals) {
  Options opt;
  opt.predicate = [](const Response&, std::string_view, uint64_t) { return true; };
  ParseRun run = parseBoth("* 1 FETCH (BODY[] {0}\r\n BODY[1] {0}\r\n)\r\n", opt);
  ASSERT_FALSE(run.failed);
  EXPECT_EQ(run.literals, (std::vector<std::string>{"", ""}));
  EXPECT_EQ(describe(run.responses[0].values[0]), "(A:BODY[] STREAMED:0 A:BODY[1] STREAMED:0)");
  Response r = parseOne("* 1 FETCH (BODY[] {0}\r\n)\r\n");
  EXPECT_EQ(describe(r.values[0]), "(A:BODY[] S:\"\")");
}

TEST(ResponseParser, LiteralPlusAndLiteral8) {
  Response r = parseOne("* 2 FETCH (BINARY[] ~{4}\r\n\0\x01\r\n BODY[1] {2+}\r\nok)\r\n"sv);
  ASSERT_EQ(r.values.size(), 1u);
  const Value* bin = fetchItem(r.values[0], "BINARY[]");
  ASSERT_NE(bin, nullptr);
  EXPECT_EQ(bin->text, std::string("\0\x01\r\n", 4));
  EXPECT_EQ(fetchItem(r.values[0], "BODY[1]")->text, "ok");
}

TEST(ResponseParser, SectionSpecsAreOneAtom) {
  Response r = parseOne(
      "* 1 FETCH (BODY[HEADER.FIELDS (MESSAGE-ID SUBJECT)] \"x\" BODY[]<0> \"y\" "
      "BODY[1.2.MIME] NIL BODY[HEADER.FIELDS.NOT (\"X]\")] \"z\")\r\n");
  EXPECT_EQ(describe(r.values[0]),
            "(A:BODY[HEADER.FIELDS (MESSAGE-ID SUBJECT)] S:\"x\" A:BODY[]<0> S:\"y\" "
            "A:BODY[1.2.MIME] NIL A:BODY[HEADER.FIELDS.NOT (\"X]\")] S:\"z\")");
}

TEST(ResponseParser, ListResponses) {
  ParseRun run = parseBoth(
      "* LIST (\\HasNoChildren \\Sent) \"/\" \"Sent Items\"\r\n"
      "* LIST () NIL INBOX\r\n"
      "* list (\\Noselect) \".\" {7}\r\nfoo\"bar\r\n"
      "* LIST () \"/\" ~peter/mail/&U,BTFw-\r\n");
  ASSERT_EQ(run.responses.size(), 4u);
  EXPECT_EQ(run.responses[0].name, "LIST");
  EXPECT_EQ(describe(run.responses[0]),
            "untagged name=LIST (A:\\HasNoChildren A:\\Sent) S:\"/\" S:\"Sent Items\"");
  EXPECT_EQ(describe(run.responses[1]), "untagged name=LIST () NIL A:INBOX");
  EXPECT_EQ(describe(run.responses[2]), "untagged name=LIST (A:\\Noselect) S:\".\" S:\"foo\"bar\"");
  EXPECT_EQ(run.responses[3].values[2].text, "~peter/mail/&U,BTFw-");
}

TEST(ResponseParser, Status) {
  Response r = parseOne("* STATUS \"x\" (MESSAGES 3 UIDNEXT 5)\r\n");
  EXPECT_EQ(describe(r), "untagged name=STATUS S:\"x\" (A:MESSAGES N:3 A:UIDNEXT N:5)");
  EXPECT_EQ(fetchItem(r.values[1], "UIDNEXT")->number, 5u);
}

TEST(ResponseParser, Capability) {
  Response r = parseOne("* CAPABILITY IMAP4rev1 LITERAL+ UIDPLUS AUTH=PLAIN\r\n");
  EXPECT_EQ(describe(r), "untagged name=CAPABILITY A:IMAP4rev1 A:LITERAL+ A:UIDPLUS A:AUTH=PLAIN");
  EXPECT_TRUE(r.values[1].isAtom("literal+"));
}

TEST(ResponseParser, Namespace) {
  Response r = parseOne("* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n");
  EXPECT_EQ(describe(r), "untagged name=NAMESPACE ((S:\"\" S:\"/\")) NIL NIL");
}

TEST(ResponseParser, SearchAndEsearch) {
  ParseRun run = parseBoth(
      "* SEARCH 1 2 3\r\n* SEARCH\r\n"
      "* ESEARCH (TAG \"A282\") UID MIN 2 COUNT 3 ALL 2,10:11\r\n");
  ASSERT_EQ(run.responses.size(), 3u);
  EXPECT_EQ(describe(run.responses[0]), "untagged name=SEARCH N:1 N:2 N:3");
  EXPECT_EQ(describe(run.responses[1]), "untagged name=SEARCH");
  EXPECT_EQ(describe(run.responses[2]),
            "untagged name=ESEARCH (A:TAG S:\"A282\") A:UID A:MIN N:2 A:COUNT N:3 A:ALL "
            "A:2,10:11");
}

TEST(ResponseParser, FlagsIdEnabled) {
  ParseRun run = parseBoth(
      "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded)\r\n"
      "* ID (\"name\" \"Dovecot\")\r\n* ID NIL\r\n* ENABLED\r\n* ENABLED CONDSTORE\r\n");
  ASSERT_EQ(run.responses.size(), 5u);
  EXPECT_EQ(describe(run.responses[0]),
            "untagged name=FLAGS (A:\\Answered A:\\Flagged A:\\Deleted A:\\Seen A:\\Draft "
            "A:$Forwarded)");
  EXPECT_EQ(describe(run.responses[1]), "untagged name=ID (S:\"name\" S:\"Dovecot\")");
  EXPECT_EQ(describe(run.responses[2]), "untagged name=ID NIL");
  EXPECT_EQ(describe(run.responses[3]), "untagged name=ENABLED");
  EXPECT_EQ(describe(run.responses[4]), "untagged name=ENABLED A:CONDSTORE");
}

TEST(ResponseParser, ExpungeRecentVanished) {
  ParseRun run = parseBoth("* 3 EXPUNGE\r\n* 0 RECENT\r\n* VANISHED (EARLIER) 41,43:116\r\n");
  ASSERT_EQ(run.responses.size(), 3u);
  EXPECT_EQ(describe(run.responses[0]), "untagged number=3 name=EXPUNGE");
  EXPECT_EQ(describe(run.responses[1]), "untagged number=0 name=RECENT");
  EXPECT_EQ(describe(run.responses[2]), "untagged name=VANISHED (A:EARLIER) A:41,43:116");
}

TEST(ResponseParser, QuotedEscapes) {
  Response r = parseOne("* LIST () \"\\\\\" \"a \\\"b\\\" c\\\\\"\r\n");
  EXPECT_EQ(r.values[1].text, "\\");
  EXPECT_EQ(r.values[2].text, "a \"b\" c\\");
}

TEST(ResponseParser, NilAndNumbers) {
  Response r =
      parseOne("* X nil Nil NIL NILS 0 18446744073709551615 18446744073709551616 007 12a\r\n");
  EXPECT_EQ(describe(r),
            "untagged name=X NIL NIL NIL A:NILS N:0 N:18446744073709551615 "
            "A:18446744073709551616 N:7 A:12a");
  EXPECT_EQ(r.values[0].text, "");
  EXPECT_EQ(r.values[5].text, "18446744073709551615");
  EXPECT_EQ(r.values[7].text, "007");
}

TEST(ResponseParser, EightBitAtomsAndNoSpaceBeforeParen) {
  Response r = parseOne("* LIST (\\HasNoChildren)\"/\" Entw\xc3\xbcrfe\r\n");
  EXPECT_EQ(describe(r), "untagged name=LIST (A:\\HasNoChildren) S:\"/\" A:Entw\xc3\xbcrfe");
}

TEST(ResponseParser, NestedLists) {
  Response r = parseOne("* X (((a) (b (c))) ())\r\n");
  EXPECT_EQ(describe(r), "untagged name=X (((A:a) (A:b (A:c))) ())");
}

TEST(ResponseParser, NestedListSpanningLiterals) {
  Response r = parseOne(
      "* 1 FETCH (BODYSTRUCTURE (\"TEXT\" {5}\r\nPLAIN (\"CHARSET\" {8}\r\nUS-ASCII) NIL) UID "
      "3)\r\n");
  EXPECT_EQ(describe(r.values[0]),
            "(A:BODYSTRUCTURE (S:\"TEXT\" S:\"PLAIN\" (S:\"CHARSET\" S:\"US-ASCII\") NIL) A:UID "
            "N:3)");
}

TEST(ResponseParser, ManyResponsesInOneBuffer) {
  std::string input;
  for (int i = 1; i <= 200; ++i)
    input += "* " + std::to_string(i) + " FETCH (UID " + std::to_string(1000 + i) +
             " BODY[] {3}\r\nabc)\r\n";
  input += "A1 OK FETCH completed\r\n";
  Options opt;
  opt.predicate = streamBodies;
  ParseRun run = parseBoth(input, opt);
  ASSERT_FALSE(run.failed);
  ASSERT_EQ(run.responses.size(), 201u);
  ASSERT_EQ(run.literals.size(), 200u);
  EXPECT_EQ(fetchItem(run.responses[199].values[0], "UID")->number, 1200u);
  EXPECT_EQ(run.responses[200].tag, "A1");
}

TEST(ResponseParser, TakeResponseMovesItOut) {
  ResponseParser p;
  std::string_view in = "* 1 EXISTS\r\n* 2 EXISTS\r\n";
  ASSERT_EQ(p.next(in).kind, ParseEvent::kResponse);
  EXPECT_EQ(p.takeResponse().number, 1u);
  ASSERT_EQ(p.next(in).kind, ParseEvent::kResponse);
  EXPECT_EQ(p.takeResponse().number, 2u);
  EXPECT_EQ(p.next(in).kind, ParseEvent::kNeedMore);
  EXPECT_TRUE(in.empty());
}

// ---- Big streamed literal ----------------------------------------------------------------

TEST(ResponseParser, TwentyMegabyteLiteralInRandomChunks) {
  const size_t kSize = 20u << 20;
  std::mt19937_64 rng(42);
  std::string body(kSize, '\0');
  for (char& c : body) c = static_cast<char>(rng());
  std::string input =
      "* 7 FETCH (UID 70 BODY[] {" + std::to_string(kSize) + "}\r\n" + body + ")\r\nA9 OK done\r\n";

  ResponseParser parser;
  parser.setStreamPredicate(streamBodies);
  std::string got;
  size_t chunks = 0;
  int responses = 0;
  size_t off = 0;
  std::uniform_int_distribution<size_t> chunkSize(1, 256 * 1024);
  while (off < input.size()) {
    size_t n = std::min(chunkSize(rng), input.size() - off);
    std::string_view in(input.data() + off, n);
    const char* begin = in.data();
    off += n;
    for (;;) {
      ParseEvent ev = parser.next(in);
      if (ev.kind == ParseEvent::kNeedMore) break;
      ASSERT_NE(ev.kind, ParseEvent::kError) << parser.error().message();
      if (ev.kind == ParseEvent::kLiteralBegin) {
        EXPECT_EQ(ev.size, kSize);
      }
      if (ev.kind == ParseEvent::kLiteralData) {
        // Handed out in place: the data lies inside what was just fed.
        ASSERT_GE(ev.data.data(), begin);
        ASSERT_LE(ev.data.data() + ev.data.size(), begin + n);
        got.append(ev.data);
        ++chunks;
      }
      if (ev.kind == ParseEvent::kResponse) {
        Response r = parser.takeResponse();
        if (responses++ == 0) {
          EXPECT_EQ(fetchItem(r.values[0], "BODY[]")->number, kSize);
        }
      }
    }
  }
  EXPECT_EQ(responses, 2);
  EXPECT_GT(chunks, 10u);
  EXPECT_TRUE(got == body) << "streamed bytes differ from the literal";
}

TEST(ResponseParser, StreamedLiteralSplitAcrossFeedsInManyWays) {
  std::string body = "0123456789abcdefghij";
  std::string input = "* 1 FETCH (BODY[] {20}\r\n" + body + ")\r\n";
  Options opt;
  opt.predicate = streamBodies;
  for (size_t a = 1; a <= 9; ++a) {
    for (size_t b = 1; b <= 5; ++b) {
      ParseRun run = runChunks(input, {a, b}, opt);
      ASSERT_FALSE(run.failed);
      ASSERT_EQ(run.literals, std::vector<std::string>{body});
      ASSERT_EQ(run.responses.size(), 1u);
    }
  }
}

TEST(ResponseParser, CollectedLiteralOfAnySizeUpToTheLimit) {
  std::string body(3u << 20, 'q');
  Response r =
      parseOne("* 1 FETCH (RFC822 {" + std::to_string(body.size()) + "}\r\n" + body + ")\r\n");
  EXPECT_EQ(fetchItem(r.values[0], "RFC822")->text.size(), body.size());
}

// ---- Limits ------------------------------------------------------------------------------

TEST(ResponseParserLimits, LineLength) {
  Options opt;
  opt.limits.maxLineLength = 16;
  EXPECT_FALSE(parseBoth("* 1 EXISTS 45678\r\n", opt).failed);  // 16 bytes + CRLF
  EXPECT_FALSE(parseBoth("* 1 EXISTS 45678\n", opt).failed);
  Status s = parseError("* 1 EXISTS 456789\r\n", opt);
  EXPECT_EQ(s.code(), Errc::kLimit);
  EXPECT_NE(s.message().find("maxLineLength"), std::string::npos) << s.message();
  // Also without a line end in sight: the parser must not buffer forever.
  s = parseError(std::string(100, 'a'), opt);
  EXPECT_EQ(s.code(), Errc::kLimit);
}

TEST(ResponseParserLimits, LineLengthAppliesPerSegment) {
  Options opt;
  opt.limits.maxLineLength = 24;
  EXPECT_FALSE(
      parseBoth("* 1 FETCH (BODY[] {30}\r\n" + std::string(30, 'x') + ")\r\n", opt).failed);
}

TEST(ResponseParserLimits, Nesting) {
  Options opt;
  opt.limits.maxNesting = 3;
  EXPECT_FALSE(parseBoth("* X (((a)))\r\n", opt).failed);
  Status s = parseError("* X ((((a))))\r\n", opt);
  EXPECT_EQ(s.code(), Errc::kLimit);
  EXPECT_NE(s.message().find("maxNesting"), std::string::npos);
}

TEST(ResponseParserLimits, DeepNestingDefault) {
  Status s = parseError("* X " + std::string(100000, '(') + "\r\n");
  EXPECT_EQ(s.code(), Errc::kLimit);
}

TEST(ResponseParserLimits, InlineLiteral) {
  Options opt;
  opt.limits.maxInlineLiteral = 10;
  EXPECT_FALSE(parseBoth("* 1 FETCH (RFC822 {10}\r\n0123456789)\r\n", opt).failed);
  Status s = parseError("* 1 FETCH (RFC822 {11}\r\n0123456789a)\r\n", opt);
  EXPECT_EQ(s.code(), Errc::kLimit);
  EXPECT_NE(s.message().find("maxInlineLiteral"), std::string::npos);
  // Streaming it is fine.
  opt.predicate = [](const Response&, std::string_view, uint64_t) { return true; };
  EXPECT_FALSE(parseBoth("* 1 FETCH (RFC822 {11}\r\n0123456789a)\r\n", opt).failed);
}

TEST(ResponseParserLimits, AnyLiteral) {
  Options opt;
  opt.limits.maxLiteral = 100;
  opt.predicate = [](const Response&, std::string_view, uint64_t) { return true; };
  Status s = parseError("* 1 FETCH (BODY[] {101}\r\n", opt);
  EXPECT_EQ(s.code(), Errc::kLimit);
  EXPECT_NE(s.message().find("maxLiteral"), std::string::npos);
  s = parseError("* 1 FETCH (BODY[] {99999999999999999999999}\r\n");
  EXPECT_EQ(s.code(), Errc::kLimit);
}

TEST(ResponseParserLimits, ValuesPerResponse) {
  Options opt;
  opt.limits.maxValuesPerResponse = 5;
  EXPECT_FALSE(parseBoth("* SEARCH 1 2 3 4 5\r\n", opt).failed);
  EXPECT_FALSE(parseBoth("* X (1 (2)) 3\r\n", opt).failed);
  Status s = parseError("* SEARCH 1 2 3 4 5 6\r\n", opt);
  EXPECT_EQ(s.code(), Errc::kLimit);
  EXPECT_NE(s.message().find("maxValuesPerResponse"), std::string::npos);
  s = parseError("* X (1 (2 3)) 4\r\n", opt);
  EXPECT_EQ(s.code(), Errc::kLimit);
  // The count is per response.
  EXPECT_FALSE(parseBoth("* SEARCH 1 2 3 4 5\r\n* SEARCH 1 2 3 4 5\r\n", opt).failed);
}

TEST(ResponseParserLimits, ResponseBytes) {
  Options opt;
  opt.limits.maxResponseBytes = 120;
  std::string lit = "{40}\r\n" + std::string(40, 'z');
  EXPECT_FALSE(parseBoth("* 1 FETCH (A " + lit + " B " + lit + ")\r\n", opt).failed);
  Status s = parseError("* 1 FETCH (A " + lit + " B " + lit + " C " + lit + ")\r\n", opt);
  EXPECT_EQ(s.code(), Errc::kLimit);
  EXPECT_NE(s.message().find("maxResponseBytes"), std::string::npos);
}

// ---- Errors ------------------------------------------------------------------------------

void expectSyntaxError(std::string_view input, std::string_view quoted) {
  Status s = parseError(input);
  EXPECT_EQ(s.code(), Errc::kProtocol) << input;
  EXPECT_NE(s.message().find(quoted), std::string::npos) << s.message();
}

TEST(ResponseParserErrors, Syntax) {
  expectSyntaxError("*\r\n", "\"*\"");
  expectSyntaxError("* 5\r\n", "\"* 5\"");
  expectSyntaxError("A1 FOO bar\r\n", "\"A1 FOO bar\"");
  expectSyntaxError("A1\r\n", "OK/NO/BAD");
  expectSyntaxError(" * OK\r\n", "missing tag");
  expectSyntaxError("* X (a b\r\n", "unterminated list");
  expectSyntaxError("* X a b)\r\n", "unbalanced");
  expectSyntaxError("* X \"abc\r\n", "unterminated quoted string");
  expectSyntaxError("* X \"abc\\\r\n", "unterminated quoted string");
  expectSyntaxError("* X {12\r\n", "literal");
  expectSyntaxError("* X {1a}\r\n", "literal");
  expectSyntaxError("* X {}\r\n", "literal");
  expectSyntaxError("* X {3} y\r\nabc\r\n", "not at the end");
  expectSyntaxError("* 99999999999999999999999 EXISTS\r\n", "out of range");
  expectSyntaxError("* 1 FETCH (BODY[] {3}\r\nabc\r\n", "unterminated list");
}

TEST(ResponseParserErrors, QuotedLineIsEscapedAndTruncated) {
  std::string line = "* X \"\x01\xff" + std::string(500, 'a');
  Status s = parseError(line + "\r\n");
  EXPECT_EQ(s.code(), Errc::kProtocol);
  EXPECT_NE(s.message().find("\"* X \"\\x01\\xffaaa"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("aaa..."), std::string::npos);
  EXPECT_LT(s.message().size(), 300u);
}

TEST(ResponseParserErrors, ErrorIsTerminal) {
  ResponseParser p;
  std::string_view in = "* X )\r\n* 1 EXISTS\r\n";
  EXPECT_EQ(p.next(in).kind, ParseEvent::kError);
  EXPECT_EQ(p.error().code(), Errc::kProtocol);
  std::string_view more = "* 1 EXISTS\r\n";
  EXPECT_EQ(p.next(more).kind, ParseEvent::kError);
  EXPECT_EQ(p.error().code(), Errc::kProtocol);
}

TEST(ResponseParserErrors, ResponsesBeforeTheErrorAreDelivered) {
  ParseRun run = parseBoth("* 1 EXISTS\r\nA1 OK x\r\n* X )\r\n");
  EXPECT_TRUE(run.failed);
  EXPECT_EQ(run.responses.size(), 2u);
}

TEST(ResponseParser, IncompleteInputNeedsMore) {
  ParseRun run = parseBoth("* 1 FETCH (BODY[] {10}\r\nabc");
  EXPECT_FALSE(run.failed);
  EXPECT_TRUE(run.responses.empty());
  Options opt;
  opt.predicate = streamBodies;
  run = parseBoth("* 1 FETCH (BODY[] {10}\r\nabc", opt);
  EXPECT_EQ(run.log.back(), "incomplete literal");
}

// ---- Server quirks (QUIRKS.md; tests/tools/quirk_imap.py imitates each server) --------------
// Every input is fed whole and byte by byte (parseBoth), so each tolerance also holds when a
// response arrives split at any boundary.

TEST(ResponseParserQuirks, UnquotedListNameWithSpacesIsTheRestOfTheLine) {
  ParseRun run = parseBoth(
      "* LIST (\\HasNoChildren) \"/\" My Folder\r\n"
      "* LSUB () \".\" INBOX.Sent Items\r\n"
      "* LIST () NIL Archive/2023 old  stuff\r\n"
      "* XLIST (\\Inbox) \"/\" Inbox\r\n");
  ASSERT_FALSE(run.failed) << run.error.message();
  ASSERT_EQ(run.responses.size(), 4u);
  EXPECT_EQ(describe(run.responses[0]),
            "untagged name=LIST (A:\\HasNoChildren) S:\"/\" A:My Folder");
  EXPECT_EQ(describe(run.responses[1]), "untagged name=LSUB () S:\".\" A:INBOX.Sent Items");
  // Raw bytes: repeated blanks inside the name are kept.
  EXPECT_EQ(run.responses[2].values[2].text, "Archive/2023 old  stuff");
  EXPECT_EQ(describe(run.responses[3]), "untagged name=XLIST (A:\\Inbox) S:\"/\" A:Inbox");
}

TEST(ResponseParserQuirks, UnquotedListNameWithParenthesesAndEightBit) {
  ParseRun run = parseBoth(
      "* LIST () \"/\" Projects(2020) old\r\n"
      "* LIST () \"/\" a)b\r\n"
      "* LIST () \"/\" Entw\xc3\xbcrfe alt\r\n");
  ASSERT_FALSE(run.failed) << run.error.message();
  ASSERT_EQ(run.responses.size(), 3u);
  EXPECT_EQ(run.responses[0].values[2].text, "Projects(2020) old");
  EXPECT_EQ(run.responses[1].values[2].text, "a)b");
  EXPECT_EQ(run.responses[2].values[2].text, "Entw\xc3\xbcrfe alt");
  EXPECT_EQ(run.responses[2].values.size(), 3u);
}

TEST(ResponseParserQuirks, WellFormedListNamesAreUnchanged) {
  ParseRun run = parseBoth(
      "* LIST () \"/\" foo (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n"
      "* LIST () \"/\" \"My Folder\"\r\n"
      "* LIST () \"/\" {9}\r\nMy Folder\r\n"
      "* LIST () \"/\" INBOX  \r\n"
      "* X a b c\r\n"
      "* STATUS My Folder (MESSAGES 1)\r\n");
  ASSERT_FALSE(run.failed) << run.error.message();
  ASSERT_EQ(run.responses.size(), 6u);
  EXPECT_EQ(describe(run.responses[0]),
            "untagged name=LIST () S:\"/\" A:foo (S:\"CHILDINFO\" (S:\"SUBSCRIBED\"))");
  EXPECT_EQ(run.responses[1].values[2].text, "My Folder");
  EXPECT_EQ(run.responses[2].values[2].text, "My Folder");
  EXPECT_EQ(run.responses[3].values[2].text, "INBOX");  // trailing blanks are no name
  EXPECT_EQ(describe(run.responses[4]), "untagged name=X A:a A:b A:c");
  // Only LIST/LSUB names: other responses keep their tokens.
  EXPECT_EQ(run.responses[5].values.size(), 3u);
}

TEST(ResponseParserQuirks, BodyBeforeUidKeepsTheSequenceNumberInThePartial) {
  std::string input =
      "* 12 FETCH (BODY[] {5}\r\nhello FLAGS (\\Seen) RFC822.SIZE 99 UID 7)\r\nA1 OK done\r\n";
  Options opt;
  opt.predicate = streamBodies;
  ParseRun run = parseBoth(input, opt);
  ASSERT_FALSE(run.failed) << run.error.message();
  // At the literal's start there is no UID yet, only the message sequence number.
  EXPECT_EQ(run.log[0],
            "begin 5 key=BODY[] partial=untagged number=12 name=FETCH "
            "(A:BODY[] STREAMED:5)");
  ASSERT_EQ(run.responses.size(), 2u);
  EXPECT_EQ(fetchItem(run.responses[0].values[0], "UID")->number, 7u);
  EXPECT_EQ(fetchItem(run.responses[0].values[0], "RFC822.SIZE")->number, 99u);
  EXPECT_EQ(run.literals, std::vector<std::string>{"hello"});
}

TEST(ResponseParserQuirks, UnsolicitedResponsesBetweenFetchResponses) {
  std::string input =
      "* 1 FETCH (UID 4 BODY[] {3}\r\nabc)\r\n"
      "* 3 FETCH (FLAGS (\\Seen))\r\n"
      "* 9 EXISTS\r\n"
      "* 2 EXPUNGE\r\n"
      "* 2 FETCH (UID 6 BODY[] {3}\r\ndef)\r\n"
      "A7 OK UID FETCH done\r\n";
  Options opt;
  opt.predicate = streamBodies;
  ParseRun run = parseBoth(input, opt);
  ASSERT_FALSE(run.failed) << run.error.message();
  ASSERT_EQ(run.responses.size(), 6u);
  EXPECT_EQ(describe(run.responses[1]), "untagged number=3 name=FETCH (A:FLAGS (A:\\Seen))");
  EXPECT_EQ(fetchItem(run.responses[1].values[0], "UID"), nullptr);
  EXPECT_EQ(describe(run.responses[2]), "untagged number=9 name=EXISTS");
  EXPECT_EQ(describe(run.responses[3]), "untagged number=2 name=EXPUNGE");
  EXPECT_EQ(run.literals, (std::vector<std::string>{"abc", "def"}));
}

TEST(ResponseParserQuirks, LiteralSizeNotRfc822SizeDecidesTheBody) {
  // RFC822.SIZE says 100, the literal holds 6 bytes with bare LFs: the literal counts, and
  // its LFs are body bytes, not line ends.
  std::string input = "* 1 FETCH (UID 3 RFC822.SIZE 100 BODY[] {6}\r\na\nb\n\nc FLAGS ())\r\n";
  Options opt;
  opt.predicate = streamBodies;
  ParseRun run = parseBoth(input, opt);
  ASSERT_FALSE(run.failed) << run.error.message();
  EXPECT_EQ(run.literals, std::vector<std::string>{"a\nb\n\nc"});
  EXPECT_EQ(fetchItem(run.responses[0].values[0], "RFC822.SIZE")->number, 100u);
  EXPECT_EQ(describe(*fetchItem(run.responses[0].values[0], "FLAGS")), "()");
}

TEST(ResponseParserQuirks, EightBitMailboxNamesQuotedOrAtom) {
  ParseRun run = parseBoth(
      "* LIST () \"/\" \"Entw\xc3\xbcrfe alt\"\r\n"
      "* LIST () \"/\" \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\r\n");
  ASSERT_FALSE(run.failed) << run.error.message();
  EXPECT_EQ(run.responses[0].values[2].text, "Entw\xc3\xbcrfe alt");
  EXPECT_EQ(run.responses[1].values[2].text, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
}

TEST(ResponseParserQuirks, BadAnswersToIdEnableNamespaceAndPreauth) {
  ParseRun run = parseBoth(
      "* PREAUTH [CAPABILITY IMAP4rev1 ID] Logged in as alice\r\n"
      "M1 BAD Unknown command ID\r\n"
      "M2 BAD Unknown command ENABLE\r\n"
      "M3 bad [CLIENTBUG] Additional arguments found after last expected argument\r\n"
      "* BYE Connection closed. 14\r\n");
  ASSERT_FALSE(run.failed) << run.error.message();
  ASSERT_EQ(run.responses.size(), 5u);
  EXPECT_EQ(run.responses[0].status, "PREAUTH");
  EXPECT_EQ(run.responses[0].code, "CAPABILITY");
  EXPECT_EQ(run.responses[1].status, "BAD");
  EXPECT_EQ(run.responses[3].status, "BAD");
  EXPECT_EQ(run.responses[3].code, "CLIENTBUG");
  EXPECT_EQ(run.responses[4].status, "BYE");
}

TEST(ResponseParserQuirks, VeryLongFlagsLineUnderTheLimit) {
  // Servers that accumulate keywords send FLAGS / PERMANENTFLAGS lines of hundreds of KB.
  std::string flags;
  for (int i = 0; flags.size() < 600000; ++i) flags += " $Accumulated" + std::to_string(i);
  std::string input = "* FLAGS (\\Seen" + flags + ")\r\n* OK [PERMANENTFLAGS (\\Seen" + flags +
                      " \\*)] Flags permitted.\r\n";
  ParseRun run = parseBoth(input);
  ASSERT_FALSE(run.failed) << run.error.message();
  ASSERT_EQ(run.responses.size(), 2u);
  EXPECT_GT(run.responses[0].values[0].items.size(), 30000u);
  EXPECT_EQ(run.responses[1].code, "PERMANENTFLAGS");
  EXPECT_GT(run.responses[1].codeArgs.size(), 600000u);
}

}  // namespace
}  // namespace mf::imap
