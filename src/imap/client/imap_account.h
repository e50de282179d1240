// ImapAccount: one logged-in IMAP connection exposed through the access interfaces, as a
// source (EXAMINE, UID FETCH BODY.PEEK[] streamed, never a STORE/EXPUNGE) and as a
// destination (CREATE, SUBSCRIBE, SELECT, pipelined APPEND with LITERAL+ and UIDPLUS).
//
// Names: NAMESPACE (or, without it, a guess from LIST) gives the personal prefix and
// separator; folder paths are split on the separator, decoded from modified UTF-7 and
// have the prefix removed. A name that is not valid modified UTF-7 (8-bit bytes sent by
// broken servers) is kept as its raw bytes. A server without a hierarchy delimiter (NIL)
// gets '/' both ways (SPEC.md 4): read names are split on it, nested names are written with
// it. INBOX in any case is {"INBOX"}, also as the first component of a nested name.
//
// Server quirks (quirks.h): after login, ID is sent where announced (RFC 2971; a BAD answer
// is fine) and the workarounds are derived from greeting + CAPABILITY + ID in one table.
// They act here: error budget and reconnect (Exchange), final CRLF (Yahoo), keyword refusals
// (Zimbra), SELECT for reading (Courier). Independent of the server: FETCH data in any order
// (a body before its UID is identified by the sequence number -> UID map of the listing,
// kept up to date through EXPUNGE responses, and the UID that follows is checked), FETCH /
// EXISTS / EXPUNGE responses at any time, the literal's size rather than RFC822.SIZE.
//
// Threading: one thread at a time. Not copyable.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "access/mail_access.h"
#include "imap/client/append_pipeline.h"
#include "imap/client/connection.h"
#include "imap/client/quirks.h"

namespace mf::imap {

struct AccountOptions {
  ConnectOptions connect;
  std::string user;     // the mailbox's user (also with an admin login)
  Secret password;      // the user's own password; not needed with a token or an admin
  std::string authzid;  // AUTHENTICATE PLAIN authorization identity, "" = none
  Secret oauthToken;    // XOAUTH2 / OAUTHBEARER access token
  std::string admin;    // admin (master) user, "" = none
  Secret adminPassword;
  LoginFormat loginFormat;  // login_format.h
  std::string adminDomain;  // {domain} for the login format
  std::string side;         // "from" / "to", to name options in login errors

  Credentials credentials() const {
    return Credentials{user,          password,    authzid,     oauthToken, admin,
                       adminPassword, loginFormat, adminDomain, side};
  }
};

class ImapAccount : public access::MailAccount {
 public:
  // Connects, logs in and learns the namespace.
  static Result<std::unique_ptr<ImapAccount>> open(const AccountOptions& options);
  ~ImapAccount() override;

  // MailSource and MailDestination (listFolders is shared).
  Result<std::vector<access::Folder>> listFolders() override;
  Result<access::FolderStatus> folderStatus(const access::Folder& folder) override;
  std::vector<Result<access::FolderStatus>> folderStatuses(
      const std::vector<access::Folder>& folders) override;
  std::chrono::microseconds roundTrip() const override { return conn_->shortestRoundTrip(); }
  Result<access::FolderStatus> openForRead(const access::Folder& folder) override;
  Result<ReadView> openForReadAndList(const access::Folder& folder, uint32_t minUid,
                                      bool withMessageId) override;
  Result<std::vector<access::MessageMeta>> listMessages(uint32_t minUid) override;
  Result<std::vector<access::MessageMeta>> listMessagesWithoutMessageId(uint32_t minUid) override;
  Result<std::vector<access::MessageMeta>> listMessagesBetween(uint32_t minUid, uint32_t maxUid,
                                                               bool withMessageId) override;
  Result<ListingWindows> planListingWindows(uint32_t minUid, size_t window) override;
  Status fetchBodies(const std::vector<uint32_t>& uids, access::BodyConsumer& consumer) override;
  std::string describe() const override;

  char separator() const override { return separator_ ? separator_ : '/'; }
  Result<access::Folder> createFolder(const std::vector<std::string>& path) override;
  Status subscribe(const access::Folder& folder) override;
  Result<access::DestinationFolderInfo> openForAppend(const access::Folder& folder) override;
  Result<access::DestinationFolderInfo> subscribeAndOpenForAppend(const access::Folder& folder,
                                                                  Status& subscribed) override;
  Status beginAppend(const access::AppendRequest& request) override;
  Status appendData(std::string_view chunk) override;
  Status endAppend() override;
  Result<std::vector<access::AppendResult>> collect(bool wait) override;
  size_t appendsInFlight() const override { return appends_->inFlight(); }
  void setAppendBatching(size_t maxMessages, uint64_t maxBytes) override {
    batchMessages_ = maxMessages;
    batchBytes_ = maxBytes;
    appends_->setBatching(maxMessages, maxBytes);
  }
  Status flushAppends() override { return appends_->flush(); }
  Result<std::vector<uint32_t>> searchMessageId(std::string_view messageId) override;
  Status addFlags(const std::vector<uint32_t>& uids,
                  const std::vector<std::string>& flags) override;

  Connection& connection() { return *conn_; }
  const std::string& personalPrefix() const { return prefix_; }
  const ServerQuirks& quirks() const { return quirks_; }
  uint32_t reconnects() const { return reconnects_; }  // proactive ones (error budget)

  // Builds the server's name for a path (prefix, separator, modified UTF-7).
  Result<std::string> wireNameFor(const std::vector<std::string>& path) const;

 private:
  ImapAccount(std::unique_ptr<Connection> conn, AccountOptions options);
  Status identify();
  Status learnNamespace();
  // Every command goes through run(): it counts the session's failed commands and keeps the
  // sequence number -> UID map current through EXPUNGE responses.
  Result<Response> run(CommandBuilder& command, const UntaggedHandler& onUntagged = {});
  // STATUS (MESSAGES UIDNEXT UIDVALIDITY [HIGHESTMODSEQ]) of a folder, and the error for a
  // refused one.
  CommandBuilder statusCommand(const access::Folder& folder);
  CommandBuilder subscribeCommand(const access::Folder& folder);
  Status statusRefused(const access::Folder& folder, const Response& done) const;
  // STATUS commands in flight at once when a run plans its folders: each answer is ~100
  // bytes, so the server's replies never fill a socket buffer while we are still sending.
  static constexpr size_t kStatusPipelineDepth = 64;
  void noteUntagged(const Response& r);
  Status rebuildSeqMap();
  // Exchange: before a command that may fail `failuresAhead` times, make sure the session
  // stays below quirks_.maxErrorsPerSession, settling appends in flight or reconnecting.
  Status keepSessionUsable(size_t failuresAhead);
  Status reconnect();
  void adjustAppendResult(access::AppendResult& result);
  // Exchange (quirks.h flaggedByStoreAfterAppend): sets \Flagged on the copies among
  // `results` that were appended without it, before their outcomes go back to the engine.
  Status storeFlaggedAfterAppend(const std::vector<access::AppendResult>& results);
  // One "* LIST" / "* LSUB" response: its name into `names` and, given `folders`, the folder.
  void absorbListResponse(const Response& r, std::vector<std::string>& names,
                          std::vector<access::Folder>* folders) const;
  access::Folder folderFromWire(const std::string& wireName, char delimiter) const;
  // SELECT / EXAMINE in three steps, so it can also go out pipelined with a listing: the
  // command, what its untagged answers say (OpenedFolder), and the session state it leaves.
  struct OpenedFolder;
  const char* openVerb(bool readOnly) const;
  CommandBuilder openCommand(const access::Folder& folder, bool readOnly);
  Result<access::FolderStatus> finishOpen(const access::Folder& folder, bool readOnly,
                                          const Response& done, OpenedFolder& opened,
                                          access::DestinationFolderInfo* info);
  Result<access::FolderStatus> openFolder(const access::Folder& folder, bool readOnly,
                                          access::DestinationFolderInfo* info);
  // The listing of the open folder from minUid: its command and its answers (ListedMessages).
  struct ListedMessages;
  // "UID FETCH minUid:maxUid (...)"; maxUid 0 is "*".
  CommandBuilder listCommand(uint32_t minUid, bool withMessageId, uint32_t maxUid = 0);
  Result<std::vector<access::MessageMeta>> fetchMetas(uint32_t minUid, bool withMessageId,
                                                      uint32_t maxUid = 0);

  std::unique_ptr<Connection> conn_;
  std::string prefix_;  // personal namespace prefix, e.g. "INBOX." or ""
  char separator_ = '/';
  bool separatorKnown_ = false;
  std::string selected_;  // wire name of the open folder
  bool selectedReadOnly_ = true;

  std::unique_ptr<AppendPipeline> appends_;  // the destination side's APPEND stream
  size_t batchMessages_ = 1;                 // as last given to setAppendBatching()
  uint64_t batchBytes_ = 0;

  AccountOptions options_;  // to log in again (reconnect())
  ServerQuirks quirks_;
  uint32_t sessionErrors_ = 0;  // tagged NO/BAD answers in this session
  uint32_t reconnects_ = 0;
  // The open folder's message sequence numbers -> UIDs, from the listing (RFC 3501 2.3.1.2),
  // renumbered on each EXPUNGE. Same order of size as the listing itself.
  std::map<uint32_t, uint32_t> seqToUid_;
  std::vector<access::AppendResult> settled_;  // collected early by keepSessionUsable()
  std::set<uint64_t> ticketsWithKeywords_;     // appends in flight that carry keywords
  std::set<uint64_t> ticketsOwingFlagged_;     // appended without their \Flagged (Exchange)
  // Yahoo (appendNeedsFinalCrlf): the message being held back until its end is known.
  bool holding_ = false;
  access::AppendRequest held_;
  std::string heldBody_;
};

}  // namespace mf::imap
