// libFuzzer target for the RFC 5322 date parser and the internal-date rule (DESIGN.md
// practice 2). Seed corpus: fuzz/corpus/rfc5322_date.
//
// Checked invariants:
//  - no crash, leak or undefined behaviour (ASan/UBSan);
//  - a parsed date formats to a non-empty IMAP date-time that parseImapDateTime reads back
//    as the same instant, and that parses again as an RFC 5322 date to the same value
//    (the IMAP form "01-Jul-2003 10:52:37 +0200" is not RFC 5322, so this goes through a
//    rebuilt RFC 5322 string);
//  - internalDateFromHeader always yields a readable IMAP date-time, and "now" exactly when
//    asked for.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "message/imap_date.h"
#include "message/internal_date.h"
#include "message/rfc5322_date.h"

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto dt = mf::message::parseRfc5322DateTime(text)) {
    std::string imap = mf::message::formatImapDateTime(*dt);
    check(!imap.empty(), "a parsed date must format");
    auto back = mf::message::parseImapDateTime(imap);
    check(back && *back == dt->epoch, "formatted date reads back as the same instant");
    // "dd-Mon-yyyy hh:mm:ss +zzzz" -> "dd Mon yyyy hh:mm:ss +zzzz" is RFC 5322.
    std::string rfc = imap;
    rfc[2] = ' ';
    rfc[6] = ' ';
    auto again = mf::message::parseRfc5322DateTime(rfc);
    check(again && *again == *dt, "RFC 5322 round trip");
  }
  constexpr int64_t kNow = 1700000000;
  mf::message::InternalDate d = mf::message::internalDateFromHeader(text, kNow);
  auto parsed = mf::message::parseImapDateTime(d.imapDateTime);
  check(parsed && *parsed == d.when.epoch, "internal date is a readable IMAP date-time");
  if (d.source == mf::message::DateSource::kNow) {
    check(d.when.epoch == kNow && d.when.offsetMinutes == 0, "now means now");
  }
  return 0;
}
