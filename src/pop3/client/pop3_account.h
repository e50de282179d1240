// Pop3Account: one logged-in POP3 session exposed as an access::MailSource (SPEC.md section 3:
// the Inbox only, incremental by UIDL, never deletes, never changes the source).
//
// How the MailSource maps onto POP3 (RFC 1939, RFC 2449):
// - listFolders(): exactly one folder, {"INBOX"} (POP3 has no folders), subscribed.
// - folderStatus() / openForRead() of INBOX: messages = STAT's count, uidValidity = 1
//   (constant: the UIDs come from the injected UidAllocator and never change meaning),
//   uidNext = 0 (unknown; the engine then lists every run, which costs UIDL + LIST, and
//   TOP only for messages not copied before). Any other folder is kNotFound.
// - UIDs: each message's key is its UIDL (RFC 1939 section 7). A server without UIDL (UIDL
//   answers -ERR) gets key "sha256:" + hex SHA-256 of the content, which costs one RETR of
//   EVERY message on EVERY run just to recognise what was copied before (about the size of
//   the maildrop in download per run; the fallback, reported via notices()). Two
//   messages with the same key (identical content, or a server repeating a UIDL) get "#2",
//   "#3"... appended in maildrop order, so none is lost. The keys go through the injected
//   access::UidAllocator in maildrop order: new messages always get higher UIDs.
// - listMessages(minUid): the messages whose UID >= minUid, ascending by UID, with
//   size = LIST's size (the server's count; the exact byte count comes with the body),
//   no flags (POP3 has none), Message-ID and the internal date from the header (TOP n 0;
//   RETR if the server has no TOP): the topmost Received field's date, else Date, else now
//   (message/internal_date.h). Which one is in messageInfo(uid).dateSource; "now" is also
//   reported in notices(), since a re-read gives another time (verify will flag it).
// - fetchBodies(): RETR (or TOP, see readWholeWithTop), pipelined (up to pipelineWindow in flight)
// when CAPA lists
//   PIPELINING. Each body is dot-unstuffed and taken in whole into a BodySpool (memory up to
//   memoryBodyLimit, then a temporary file: body_spool.h says why), then handed to the
//   consumer with its exact size. A RETR answered -ERR is not delivered (noted). After a
//   consumer error the remaining replies are read and dropped, so the session stays usable.
// - Never changes the source: there is no code path that sends DELE (pop3::Command refuses
//   the verb, Connection refuses it again), so the QUIT at the end removes nothing (RFC 1939
//   section 6). Servers that mark RETR'd messages read at QUIT (Dovecot without
//   pop3_no_flag_updates) are outside our control; see QUIRKS.md.
// Threading: one thread at a time. Not copyable.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "access/mail_access.h"
#include "access/uid_allocator.h"
#include "message/internal_date.h"
#include "pop3/client/body_spool.h"
#include "pop3/client/connection.h"

namespace mf::pop3 {

struct AccountOptions {
  ConnectOptions connect;
  Credentials credentials;
  // Required. Persistent for migrate (sync::StoreUidAllocator over the state file, same
  // mailbox key as MigrateOptions::mailboxKey, folder "INBOX"); access::MemoryUidAllocator
  // for verify. Shared so that a reconnect factory can hand it to the next session.
  std::shared_ptr<access::UidAllocator> uids;
  // RETR/TOP commands in flight when the server announces PIPELINING (RFC 2449 6.6).
  size_t pipelineWindow = 16;
  // Bodies up to this size stay in memory; bigger ones go to a temporary file.
  size_t memoryBodyLimit = 1 << 20;
  std::string tempDirectory;  // "" = $TMPDIR, else /tmp
  // Header bytes kept per message for Message-ID and dates (the rest of a huge header is
  // read and dropped).
  size_t maxHeaderBytes = 256 * 1024;
  // Seconds since the epoch for the "now" fallback date; tests fix it.
  std::function<int64_t()> now;
  // Read messages with "TOP n 2147483647" instead of RETR where CAPA lists TOP. The bytes are
  // the same (RFC 1939 section 7), but Dovecot, for one, marks only RETR'd messages \Seen at
  // QUIT (unless pop3_no_flag_updates; measured with Dovecot 2.3: a RETR without QUIT is
  // marked at the next session's QUIT, a TOP never), so this leaves such a source unchanged.
  // Off by default: the issue asks for RETR, and TOP is optional and less used by clients.
  bool readWholeWithTop = false;
  // Receives each notice (see takeNotices()) as it happens, on the thread using the account,
  // e.g. to forward it to sync::ProgressSink::onNotice. When set, takeNotices() stays empty.
  std::function<void(const std::string&)> onNotice;
};

class Pop3Account : public access::MailSource {
 public:
  // The line count that makes TOP return a whole message; fits any server's 32-bit parser.
  static constexpr uint32_t kTopAllLines = 2147483647;

  // Connects, negotiates TLS, logs in. Fails (kConfig) without options.uids.
  static Result<std::unique_ptr<Pop3Account>> open(AccountOptions options);
  ~Pop3Account() override;  // QUIT when the session is clean, then close

  Result<std::vector<access::Folder>> listFolders() override;
  Result<access::FolderStatus> folderStatus(const access::Folder& folder) override;
  Result<access::FolderStatus> openForRead(const access::Folder& folder) override;
  Result<std::vector<access::MessageMeta>> listMessages(uint32_t minUid) override;
  // A window reads the headers (TOP) of its own messages only; the plan reads none.
  Result<std::vector<access::MessageMeta>> listMessagesBetween(uint32_t minUid, uint32_t maxUid,
                                                               bool withMessageId) override;
  Result<ListingWindows> planListingWindows(uint32_t minUid, size_t window) override;
  Status fetchBodies(const std::vector<uint32_t>& uids, access::BodyConsumer& consumer) override;
  std::string describe() const override;

  struct MessageInfo {
    uint32_t number = 0;  // POP3 message number in this session (1-based)
    uint32_t uid = 0;
    std::string key;        // UIDL, or "sha256:<hex>", with "#n" for repeats
    uint64_t listSize = 0;  // LIST's size
    uint64_t bodySize = 0;  // exact bytes of the last RETR, 0 if not fetched
    bool headerRead = false;
    std::string messageId;
    std::string internalDate;  // IMAP date-time
    message::DateSource dateSource = message::DateSource::kNow;
  };
  // Information on a message listed in this session; nullptr if unknown.
  const MessageInfo* messageInfo(uint32_t uid) const;
  // True if the server gives UIDLs (known after the first listMessages()).
  bool hasUidl() const { return hasUidl_; }
  // Things the caller should report (no UIDL, dates set to now, RETR refused), oldest
  // first; taking them clears the list. Empty when AccountOptions::onNotice is set.
  std::vector<std::string> takeNotices();
  Connection& connection() { return *conn_; }

 private:
  Pop3Account(std::unique_ptr<Connection> conn, AccountOptions options);
  Status checkInbox(const access::Folder& folder) const;
  Result<access::FolderStatus> stat();
  Status ensureListing();
  Status listKeysByContent(std::vector<std::string>& keys);
  Status readHeaders(const std::vector<MessageInfo*>& todo);
  // RETR of `numbers` (pipelined), each body handed to onBody(number, spool) whole; -ERR
  // replies go to onRefused(number, reply).
  Status retrieve(const std::vector<uint32_t>& numbers, const char* verb,
                  const std::function<Status(uint32_t, BodySpool&)>& onBody,
                  const std::function<void(uint32_t, const StatusLine&)>& onRefused,
                  size_t keepBytes);
  int64_t now() const;
  Command wholeMessage(uint32_t number) const;
  void notice(std::string text);

  std::unique_ptr<Connection> conn_;
  AccountOptions options_;
  BodySpool spool_;
  bool listed_ = false;
  bool hasUidl_ = true;
  std::vector<MessageInfo> messages_;  // by message number - 1
  std::map<uint32_t, size_t> byUid_;   // uid -> index in messages_
  std::vector<std::string> notices_;
};

}  // namespace mf::pop3
