#include "imap/wire/mutf7.h"

#include <gtest/gtest.h>

namespace mf::imap {
namespace {

using namespace std::string_literals;

struct Vector {
  std::string utf8;
  std::string mutf7;
};

// Known pairs: RFC 3501 section 5.1.3's example, plus names seen on real servers.
const Vector kVectors[] = {
    {"", ""},
    {"INBOX", "INBOX"},
    {"~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
     "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},
    {"Entw\xc3\xbc"
     "rfe",
     "Entw&APw-rfe"},
    {"A&B", "A&-B"},
    {"&", "&-"},
    {"&&", "&-&-"},
    {"\xe3\x80\x80", "&MAA-"},  // U+3000 ideographic space
    {"a\xe3\x80\x80"
     "b",
     "a&MAA-b"},
    {"\xf0\x9f\x98\x80", "&2D3eAA-"},                    // U+1F600, a surrogate pair
    {"Mail \xf0\x9f\x93\xa7 box", "Mail &2D3c5w- box"},  // U+1F4E7
    {"\xc3\xa4\xc3\xb6\xc3\xbc", "&AOQA9gD8-"},          // three units: no padding bits
    {"Gel\xc3\xb6schte Elemente", "Gel&APY-schte Elemente"},
    {"\xd0\x9e\xd1\x82\xd0\xbf\xd1\x80\xd0\xb0\xd0\xb2\xd0\xbb\xd0\xb5\xd0\xbd\xd0\xbd\xd1\x8b"
     "\xd0\xb5",
     "&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-"},  // Russian "Sent"
    {"tab\there", "tab&AAk-here"},           // controls are encoded
    {"\x7f", "&AH8-"},
    {"~!@#$%^*()_+-={}[]|\\:;\"'<>,.?/ ", "~!@#$%^*()_+-={}[]|\\:;\"'<>,.?/ "},
};

TEST(Mutf7, EncodesKnownVectors) {
  for (const Vector& v : kVectors) {
    Result<std::string> r = encodeMutf7(v.utf8);
    ASSERT_TRUE(r.isOk()) << v.mutf7 << ": " << r.status().message();
    EXPECT_EQ(*r, v.mutf7);
  }
}

TEST(Mutf7, DecodesKnownVectors) {
  for (const Vector& v : kVectors) {
    Result<std::string> r = decodeMutf7(v.mutf7);
    ASSERT_TRUE(r.isOk()) << v.mutf7 << ": " << r.status().message();
    EXPECT_EQ(*r, v.utf8) << v.mutf7;
  }
}

TEST(Mutf7, RoundTripsEveryBmpCharacterAndSomeAstral) {
  std::string all;
  auto put = [&all](uint32_t cp) {
    if (cp < 0x80) {
      all += static_cast<char>(cp);
    } else if (cp < 0x800) {
      all += static_cast<char>(0xc0 | (cp >> 6));
      all += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      all += static_cast<char>(0xe0 | (cp >> 12));
      all += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      all += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      all += static_cast<char>(0xf0 | (cp >> 18));
      all += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      all += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      all += static_cast<char>(0x80 | (cp & 0x3f));
    }
  };
  for (uint32_t cp = 0; cp < 0x10000; ++cp) {
    if (cp < 0xd800 || cp > 0xdfff) put(cp);
  }
  for (uint32_t cp = 0x10000; cp <= 0x10ffff; cp += 0x1001) put(cp);
  put(0x10ffff);
  Result<std::string> enc = encodeMutf7(all);
  ASSERT_TRUE(enc.isOk());
  for (char c : *enc) {
    ASSERT_TRUE(c >= 0x20 && c <= 0x7e);
  }
  Result<std::string> dec = decodeMutf7(*enc);
  ASSERT_TRUE(dec.isOk()) << dec.status().message();
  EXPECT_TRUE(*dec == all);
}

TEST(Mutf7, DecodeToleratesUnnecessaryEncodingAndSplitShifts) {
  EXPECT_EQ(*decodeMutf7("&AEEAQgBD-"), "ABC");               // printable ASCII in base64
  EXPECT_EQ(*decodeMutf7("&AOQ-&APY-"), "\xc3\xa4\xc3\xb6");  // two adjacent shifts
}

TEST(Mutf7, EncodeRejectsInvalidUtf8) {
  const std::string bad[] = {
      "\x80",              // stray continuation byte
      "\xc3",              // truncated
      "a\xe3\x80",         // truncated 3-byte
      "\xc0\xaf",          // overlong '/'
      "\xe0\x80\xaf",      // overlong
      "\xed\xa0\x80",      // UTF-8-encoded surrogate U+D800
      "\xf4\x90\x80\x80",  // above U+10FFFF
      "\xff",
      "\xf8\x88\x80\x80\x80",
  };
  for (const std::string& s : bad) {
    Result<std::string> r = encodeMutf7(s);
    EXPECT_FALSE(r.isOk()) << s;
    if (!r.isOk()) {
      EXPECT_EQ(r.status().code(), Errc::kConfig);
    }
  }
}

TEST(Mutf7, DecodeRejectsInvalidInput) {
  const std::string bad[] = {
      "&",                // shift never started
      "&U,BTFw",          // unterminated
      "a&AOQ",            // unterminated
      "&A-",              // 6 bits: not a whole unit
      "&AO-",             // 12 bits
      "&AOR-",            // leftover bits not zero
      "&AOQA-",           // a full extra sextet
      "&U*BT-",           // '*' is not modified base64
      "&U/BT-",           // '/' is standard, not modified base64
      "&2D0-",            // lone high surrogate (truncated pair)
      "&2D3eAA",          // pair, unterminated
      "&2D0-&3gA-",       // pair split across shifts
      "&3gA-",            // lone low surrogate
      "&2D0AQQ-",         // high surrogate followed by 'A'
      "Entw\xc3\xbcrfe",  // raw 8-bit bytes
      "a\tb",             // raw control
      "a\x7f",
  };
  for (const std::string& s : bad) {
    Result<std::string> r = decodeMutf7(s);
    EXPECT_FALSE(r.isOk()) << s << " decoded to " << (r.isOk() ? *r : "");
    if (!r.isOk()) {
      EXPECT_EQ(r.status().code(), Errc::kProtocol);
    }
  }
}

TEST(Mutf7, NulRoundTrips) {
  EXPECT_EQ(*encodeMutf7("a\0b"s), "a&AAA-b");
  EXPECT_EQ(*decodeMutf7("a&AAA-b"), "a\0b"s);
}

}  // namespace
}  // namespace mf::imap
