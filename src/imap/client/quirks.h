// Server quirks: the workarounds ImapAccount applies for servers that break or bend the RFCs
// (/work/shared/QUIRKS.md), all in ONE table keyed by what the server announces: the greeting
// text, the CAPABILITY list and the ID response (RFC 2971). Nowhere else in the client is a
// server recognised by name; code asks the ServerQuirks fields instead.
//
// Contract:
// - deriveQuirks() is pure and cheap. Matching is case-insensitive: greeting phrases and ID
//   "name"/"vendor" values (RFC 2971 section 3.3) by substring, capabilities exactly. Several
//   entries may match (an Exchange front end answering with a Zimbra ID): each applies its own
//   fields. No match gives the defaults, i.e. plain RFC behaviour.
// - Greetings can be customised by admins, so a quirk that only helps (reconnecting early,
//   adding a missing final CRLF) may be keyed on weak evidence; none of them is harmful on a
//   server that does not need it.
// - tests/tools/quirk_imap.py imitates each server (its --profile), tests/integration/
//   test_quirks.py proves each workaround end to end; quirks_test.cc checks the table.
// Threading: none (pure function over values).
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace mf::imap {

// What a server says about itself before any workaround is chosen.
struct ServerAnnouncement {
  std::string greeting;                // text of the greeting, after the status and code
  std::set<std::string> capabilities;  // upper-cased, as Connection keeps them
  std::vector<std::pair<std::string, std::string>> id;  // ID response fields, in order
};

struct ServerQuirks {
  // Microsoft Exchange / Office 365 end the session after 10 failed commands ("* BYE
  // Connection closed. 14"): ImapAccount counts the session's NO/BAD answers and reconnects
  // (same login, same folder) before this many. 0 = no limit.
  uint32_t maxErrorsPerSession = 0;
  // Yahoo refuses an APPEND whose message does not end in CRLF ("BAD [CLIENTBUG] Additional
  // arguments found after last expected argument", imapsync#209): the message's last line is
  // terminated with CRLF before sending, as imapsync's FAQ.Yahoo recipe does. This changes
  // the copy (2 bytes, or 1 when the message ends in a bare LF) and is reported.
  bool appendNeedsFinalCrlf = false;
  // Zimbra refuses messages with some keywords with a bare "NO APPEND failed" (imapsync#498)
  // although PERMANENTFLAGS says \*: such a refusal of a message that carries keywords is
  // Errc::kKeywordRefused, so the engine copies it again with its system flags only.
  bool bareAppendNoMeansKeywordRefused = false;
  // Courier-IMAP does not fix a folder's UIDVALIDITY on EXAMINE (Dovecot imapc's no-examine
  // workaround), so UIDs read after EXAMINE may be void on the next run. Source folders are
  // opened with SELECT instead, under a read-only discipline: only BODY.PEEK fetches, never
  // STORE, EXPUNGE or CLOSE ("SELECT, EXAMINE, and LOGOUT implicitly close the currently
  // selected mailbox without doing an expunge", RFC 3501 6.4.2). The one change SELECT can
  // make is that the server stops reporting the folder's messages as \Recent to later
  // sessions (RFC 3501 2.3.2), a session flag no migration copies.
  bool selectInsteadOfExamine = false;
  // Microsoft Exchange keeps \Flagged given in APPEND for IMAP only: Outlook and OWA do not
  // show the message as flagged (FAQ.Exchange). Messages are appended without \Flagged and
  // the flag is set with UID STORE +FLAGS.SILENT on the UIDs APPENDUID gave, before their
  // outcome is returned (so the state never records a copy whose flag is still owed). A
  // server without UIDPLUS gets \Flagged in the APPEND as before: there is no UID to STORE.
  bool flaggedByStoreAfterAppend = false;
  // Apple iCloud lists UIDs whose FETCH returns nothing (hilli README): nothing to change in
  // the client, the engine records them as "vanished"; named so reports can say why.
  bool phantomUids = false;

  // One line per matched entry: "Microsoft Exchange / Office 365 (greeting): reconnect before
  // 10 failed commands", for logs and reports. Empty when nothing matched.
  std::vector<std::string> applied;

  bool any() const { return !applied.empty(); }
};

ServerQuirks deriveQuirks(const ServerAnnouncement& announced);

}  // namespace mf::imap
