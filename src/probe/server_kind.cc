#include "probe/server_kind.h"

#include "base/ascii.h"

namespace mf::probe {
namespace {

struct Marker {
  std::string_view text;  // matched ignoring ASCII case, as a substring
  ServerKind kind;
};

// Words that name the software in an ID "name"/"vendor" field or a POP3 IMPLEMENTATION line.
// Gmail's ID says "GImap" / "Google, Inc."; Exchange Online's "Microsoft.Exchange.Imap4...";
// Dovecot's "Dovecot"; Cyrus's "Cyrus IMAPD" / "Project Cyrus"; Zimbra's "Zimbra".
constexpr Marker kProductWords[] = {
    {"gimap", ServerKind::kGmail},       {"gpop", ServerKind::kGmail},
    {"google", ServerKind::kGmail},      {"microsoft", ServerKind::kExchange},
    {"exchange", ServerKind::kExchange}, {"dovecot", ServerKind::kDovecot},
    {"cyrus", ServerKind::kCyrus},       {"courier", ServerKind::kCourier},
    {"zimbra", ServerKind::kZimbra},     {"kerio", ServerKind::kKerio},
};

// Phrases in greetings. Stricter than the product words: a greeting often carries the host
// name ("* OK exchange.example.org Dovecot ready."), so Exchange needs "microsoft exchange".
constexpr Marker kGreetingPhrases[] = {
    {"gimap ready", ServerKind::kGmail},
    {"gpop ready", ServerKind::kGmail},
    {"microsoft exchange", ServerKind::kExchange},
    {"dovecot", ServerKind::kDovecot},
    {"cyrus imap", ServerKind::kCyrus},
    {"cyrus pop3", ServerKind::kCyrus},
    {"courier-imap", ServerKind::kCourier},
    {"courier mail server", ServerKind::kCourier},
    {"zimbra", ServerKind::kZimbra},
    {"kerio connect", ServerKind::kKerio},
    {"kerio mailserver", ServerKind::kKerio},
};

ServerKind matchAny(std::string_view text, const Marker* begin, const Marker* end) {
  for (const Marker* m = begin; m != end; ++m) {
    if (containsIgnoreCase(text, m->text)) return m->kind;
  }
  return ServerKind::kOther;
}

}  // namespace

ServerKind detectServer(std::string_view greeting, const std::vector<std::string>& capabilities,
                        const IdFields& idResponse) {
  // RFC 2971 section 3.3: "name" and "vendor" are the fields that identify the software.
  for (const auto& [field, value] : idResponse) {
    if (!equalsIgnoreCase(field, "name") && !equalsIgnoreCase(field, "vendor")) continue;
    ServerKind kind = matchAny(value, std::begin(kProductWords), std::end(kProductWords));
    if (kind != ServerKind::kOther) return kind;
  }
  for (const std::string& capability : capabilities) {
    // Gmail's IMAP extensions (X-GM-MSGID, X-GM-LABELS) are announced as X-GM-EXT-1.
    if (equalsIgnoreCase(capability, "x-gm-ext-1")) return ServerKind::kGmail;
    // POP3 CAPA: "IMPLEMENTATION Courier Mail Server" (RFC 2449 section 6.9).
    if (startsWithIgnoreCase(capability, "implementation ")) {
      ServerKind kind = matchAny(capability, std::begin(kProductWords), std::end(kProductWords));
      if (kind != ServerKind::kOther) return kind;
    }
  }
  return matchAny(greeting, std::begin(kGreetingPhrases), std::end(kGreetingPhrases));
}

const char* serverKindName(ServerKind kind) {
  switch (kind) {
    case ServerKind::kGmail:
      return "gmail";
    case ServerKind::kExchange:
      return "exchange";
    case ServerKind::kDovecot:
      return "dovecot";
    case ServerKind::kCyrus:
      return "cyrus";
    case ServerKind::kCourier:
      return "courier";
    case ServerKind::kZimbra:
      return "zimbra";
    case ServerKind::kKerio:
      return "kerio";
    case ServerKind::kOther:
      break;
  }
  return "other";
}

const char* serverKindTitle(ServerKind kind) {
  switch (kind) {
    case ServerKind::kGmail:
      return "Gmail / Google Workspace";
    case ServerKind::kExchange:
      return "Microsoft Exchange / Office 365";
    case ServerKind::kDovecot:
      return "Dovecot";
    case ServerKind::kCyrus:
      return "Cyrus IMAP";
    case ServerKind::kCourier:
      return "Courier";
    case ServerKind::kZimbra:
      return "Zimbra";
    case ServerKind::kKerio:
      return "Kerio Connect";
    case ServerKind::kOther:
      break;
  }
  return "unknown server";
}

std::string nonMailNotice(ServerKind kind) {
  switch (kind) {
    case ServerKind::kGmail:
      return "This is Gmail / Google Workspace: contacts, calendars and tasks are not carried "
             "over IMAP, so mailferry copies the mail only. Export them with Google Takeout "
             "(takeout.google.com: Contacts, Calendar, Tasks) and import them at the "
             "destination.";
    case ServerKind::kExchange:
      return "This is Microsoft Exchange / Office 365: contacts, calendars and tasks are not "
             "carried over IMAP, so mailferry copies the mail only. Export them to a PST file "
             "with Outlook (File > Open & Export > Import/Export > Export to a file > Outlook "
             "Data File), or have the Office 365 admin export the mailbox to PST (Microsoft "
             "Purview eDiscovery export), and import them at the destination.";
    default:
      return {};
  }
}

}  // namespace mf::probe
