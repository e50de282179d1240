// The quirks table; the contract is in quirks.h.
#include "imap/client/quirks.h"

#include <string_view>

#include "base/ascii.h"

namespace mf::imap {
namespace {

enum class Where { kNone, kGreeting, kCapability, kId };

// One piece of evidence: a greeting phrase or ID name/vendor word (lower case, substring), or
// a capability (upper case, exact).
struct Marker {
  Where where = Where::kNone;
  std::string_view text;
};

struct Entry {
  std::string_view server;
  Marker markers[3];  // any one is enough
  void (*apply)(ServerQuirks&);
  std::string_view workaround;  // for ServerQuirks::applied
};

// THE table. Keep it the only place that knows server names (quirks.h). Sources: QUIRKS.md
// sections of the same names.
constexpr Entry kTable[] = {
    // Greeting "The Microsoft Exchange IMAP4 service is ready." (2010 to Office 365); ID name
    // "Microsoft.Exchange.Imap4.Imap4Server". "exchange" alone would match host names such
    // as "exchange.example.org" in other servers' greetings.
    {"Microsoft Exchange / Office 365",
     {{Where::kGreeting, "microsoft exchange"}, {Where::kId, "microsoft.exchange"}, {}},
     [](ServerQuirks& q) {
       q.maxErrorsPerSession = 10;
       q.flaggedByStoreAfterAppend = true;
     },
     "reconnect before 10 failed commands (the server ends the session at 10); set \\Flagged "
     "with UID STORE after the APPEND (Outlook loses it when APPEND sets it)"},
    // XYMHIGHESTMODSEQ is Yahoo's own capability (its greeting text is just
    // "IMAP4rev1 Hello"); MailKit keys its Yahoo mode on the same word.
    {"Yahoo",
     {{Where::kCapability, "XYMHIGHESTMODSEQ"}, {Where::kId, "yahoo"}, {}},
     [](ServerQuirks& q) { q.appendNeedsFinalCrlf = true; },
     "end every appended message with CRLF (the server refuses it otherwise)"},
    // "* OK mail.example.com Zimbra IMAP4rev1 server ready"; ID ("NAME" "Zimbra" ...).
    {"Zimbra",
     {{Where::kGreeting, "zimbra"}, {Where::kId, "zimbra"}, {}},
     [](ServerQuirks& q) { q.bareAppendNoMeansKeywordRefused = true; },
     "a bare \"NO APPEND failed\" for a message with keywords means a refused keyword"},
    // "* OK [CAPABILITY ...] Courier-IMAP ready. Copyright 1998-2011 Double Precision, Inc."
    {"Courier-IMAP",
     {{Where::kGreeting, "courier-imap"}, {Where::kId, "courier"}, {}},
     [](ServerQuirks& q) { q.selectInsteadOfExamine = true; },
     "read folders with SELECT (read-only discipline): EXAMINE does not fix UIDVALIDITY"},
    // "* OK [CAPABILITY st11p00mm-iscream033 1S XAPPLEPUSHSERVICE ...] iSCREAM ready to rumble"
    {"Apple iCloud",
     {{Where::kGreeting, "iscream"}, {Where::kCapability, "XAPPLEPUSHSERVICE"}, {}},
     [](ServerQuirks& q) { q.phantomUids = true; },
     "lists UIDs without a message: those are recorded as vanished"},
};

const char* whereName(Where where) {
  switch (where) {
    case Where::kGreeting:
      return "greeting";
    case Where::kCapability:
      return "CAPABILITY";
    case Where::kId:
      return "ID";
    case Where::kNone:
      break;
  }
  return "";
}

}  // namespace

ServerQuirks deriveQuirks(const ServerAnnouncement& announced) {
  const std::string greeting = toLowerAscii(announced.greeting);
  std::string idWords;  // RFC 2971 3.3: "name" and "vendor" identify the software
  for (const auto& [field, value] : announced.id) {
    if (equalsIgnoreCase(field, "name") || equalsIgnoreCase(field, "vendor")) {
      idWords += toLowerAscii(value) + "\n";
    }
  }
  ServerQuirks quirks;
  for (const Entry& entry : kTable) {
    Where matched = Where::kNone;
    for (const Marker& m : entry.markers) {
      bool hit = false;
      switch (m.where) {
        case Where::kGreeting:
          hit = greeting.find(m.text) != std::string::npos;
          break;
        case Where::kId:
          hit = idWords.find(m.text) != std::string::npos;
          break;
        case Where::kCapability:
          hit = announced.capabilities.count(std::string(m.text)) > 0;
          break;
        case Where::kNone:
          break;
      }
      if (hit) {
        matched = m.where;
        break;
      }
    }
    if (matched == Where::kNone) continue;
    entry.apply(quirks);
    quirks.applied.push_back(std::string(entry.server) + " (" + whereName(matched) +
                             "): " + std::string(entry.workaround));
  }
  return quirks;
}

}  // namespace mf::imap
