#include "imap/client/imap_account.h"

#include <algorithm>
#include <set>

#include "base/ascii.h"
#include "base/checked_number.h"
#include "base/log.h"
#include "imap/client/quirks.h"
#include "imap/client/server_errors.h"
#include "imap/client/uid_set.h"
#include "imap/wire/mutf7.h"
#include "message/headers.h"

namespace mf::imap {
namespace {

// Yahoo (quirks.h appendNeedsFinalCrlf): a message is held in memory until its end is known,
// up to the largest message Yahoo accepts ("25 Mega bytes maximum for a single message",
// imapsync FAQ.Yahoo) plus a margin. Larger ones stream as they are: Yahoo refuses them by
// size anyway, and memory stays bounded.
constexpr uint64_t kFinalCrlfHoldBackMax = 26u << 20;

// Error budget (Exchange): the count stays this far below the server's limit, for the login's
// own commands, which are not counted here.
constexpr uint32_t kErrorMargin = 2;

bool hasKeyword(const std::vector<std::string>& flags) {
  return std::any_of(flags.begin(), flags.end(),
                     [](const std::string& f) { return !f.empty() && f[0] != '\\'; });
}

access::SpecialUse specialUseFromAttribute(std::string_view attr) {
  using access::SpecialUse;
  if (equalsIgnoreCase(attr, "\\Sent")) return SpecialUse::kSent;
  if (equalsIgnoreCase(attr, "\\Drafts")) return SpecialUse::kDrafts;
  if (equalsIgnoreCase(attr, "\\Trash")) return SpecialUse::kTrash;
  if (equalsIgnoreCase(attr, "\\Junk")) return SpecialUse::kJunk;
  if (equalsIgnoreCase(attr, "\\Archive")) return SpecialUse::kArchive;
  if (equalsIgnoreCase(attr, "\\All")) return SpecialUse::kAll;
  if (equalsIgnoreCase(attr, "\\Flagged")) return SpecialUse::kFlagged;
  return SpecialUse::kNone;
}

// The UID a FETCH response is about, looking at what has been parsed so far.
std::optional<uint32_t> uidOf(const Response& response) {
  for (const auto& v : response.values) {
    if (v.kind != Value::Kind::kList) continue;
    if (const Value* uid = fetchItem(v, "UID");
        uid && uid->kind == Value::Kind::kNumber && uid->number <= UINT32_MAX) {
      return static_cast<uint32_t>(uid->number);
    }
  }
  return std::nullopt;
}

std::string quoteForMessage(std::string_view s) {
  return "'" + std::string(s) + "'";
}

}  // namespace

ImapAccount::ImapAccount(std::unique_ptr<Connection> conn, AccountOptions options)
    : conn_(std::move(conn)),
      appends_(std::make_unique<AppendPipeline>(*conn_)),
      options_(std::move(options)) {}
ImapAccount::~ImapAccount() {
  if (!conn_) return;
  // Never LOGOUT into an unfinished APPEND: those bytes would complete the literal and the
  // server would store a corrupted message. Hanging up makes it discard the command.
  if (appends_->midCommand()) {
    conn_->abandon();
  } else {
    conn_->logout();
  }
}

std::string ImapAccount::describe() const {
  return conn_->describe();
}

Result<std::unique_ptr<ImapAccount>> ImapAccount::open(const AccountOptions& options) {
  MF_ASSIGN_OR_RETURN(auto conn, Connection::open(options.connect));
  MF_RETURN_IF_ERROR(conn->login(options.credentials()));
  std::unique_ptr<ImapAccount> account(new ImapAccount(std::move(conn), options));
  MF_RETURN_IF_ERROR(account->identify());
  MF_RETURN_IF_ERROR(account->learnNamespace());
  return account;
}

// RFC 2971: ID only where announced, with our name, so server logs can tell who it was. The
// answer feeds the quirks table; a BAD from a server that announces ID without implementing
// it (QUIRKS.md "Others") is no error.
Status ImapAccount::identify() {
  ServerAnnouncement announced;
  announced.greeting = conn_->greeting();
  announced.capabilities = conn_->capabilities();
  if (conn_->hasCapability("ID")) {
    CommandBuilder cmd(conn_->nextTag(), "ID");
    cmd.openList().quotedOrLiteral("name").quotedOrLiteral("mailferry").closeList();
    MF_ASSIGN_OR_RETURN(
        Response done, run(cmd, [&](Response& r) {
          if (r.name != "ID" || r.values.empty() || r.values[0].kind != Value::Kind::kList) return;
          const auto& items = r.values[0].items;
          for (size_t i = 0; i + 1 < items.size(); i += 2) {
            announced.id.emplace_back(items[i].text, items[i + 1].text);
          }
        }));
    (void)done;
  }
  quirks_ = deriveQuirks(announced);
  for (const auto& line : quirks_.applied) log::info(describe() + ": " + line);
  return Status::ok();
}

Result<Response> ImapAccount::run(CommandBuilder& command, const UntaggedHandler& onUntagged) {
  auto done = conn_->execute(command, [&](Response& r) {
    noteUntagged(r);
    if (onUntagged) onUntagged(r);
  });
  if (done.isOk() && !done->isOk()) ++sessionErrors_;
  return done;
}

// RFC 3501 7.4.1: "* n EXPUNGE" removes message n; every higher number goes down by one.
// Servers may send it during UID FETCH and UID SEARCH, and between any commands.
void ImapAccount::noteUntagged(const Response& r) {
  if (r.name != "EXPUNGE" || !r.number || seqToUid_.empty()) return;
  const uint64_t gone = *r.number;
  std::map<uint32_t, uint32_t> renumbered;
  for (const auto& [seq, uid] : seqToUid_) {
    if (seq < gone)
      renumbered.emplace_hint(renumbered.end(), seq, uid);
    else if (seq > gone)
      renumbered.emplace_hint(renumbered.end(), seq - 1, uid);
  }
  seqToUid_.swap(renumbered);
}

// After a reconnect the sequence numbers are those of a new session: ask for all of them.
Status ImapAccount::rebuildSeqMap() {
  seqToUid_.clear();
  CommandBuilder cmd(conn_->nextTag(), "FETCH");
  cmd.raw("1:*").raw("(UID)");
  std::map<uint32_t, uint32_t> fresh;
  MF_ASSIGN_OR_RETURN(Response done, run(cmd, [&](Response& r) {
                        auto uid = uidOf(r);
                        if (r.name == "FETCH" && r.number && uid && *r.number <= UINT32_MAX) {
                          fresh[static_cast<uint32_t>(*r.number)] = *uid;
                        }
                      }));
  if (!done.isOk()) return Connection::statusFromTagged(done, "FETCH (UID)");
  seqToUid_.swap(fresh);
  return Status::ok();
}

Status ImapAccount::keepSessionUsable(size_t failuresAhead) {
  const uint32_t limit = quirks_.maxErrorsPerSession;
  if (limit == 0) return Status::ok();
  // Appends in flight may all fail: they count until answered.
  auto atRisk = [&] {
    return sessionErrors_ + appends_->inFlight() + failuresAhead + kErrorMargin;
  };
  if (atRisk() < limit) return Status::ok();
  while (appends_->inFlight() > 0) {
    MF_ASSIGN_OR_RETURN(auto results, appends_->collect(true));
    for (auto& r : results) {
      adjustAppendResult(r);
      settled_.push_back(std::move(r));
    }
  }
  if (atRisk() < limit) return Status::ok();
  return reconnect();
}

Status ImapAccount::reconnect() {
  MF_ASSIGN_OR_RETURN(auto fresh, Connection::open(options_.connect));
  MF_RETURN_IF_ERROR(fresh->login(options_.credentials()));
  log::info(describe() + ": " + std::to_string(sessionErrors_) +
            " commands failed in this "
            "session and the server ends sessions at " +
            std::to_string(quirks_.maxErrorsPerSession) + ": continuing on a new session");
  conn_->logout();
  conn_ = std::move(fresh);
  appends_ = std::make_unique<AppendPipeline>(*conn_);
  appends_->setBatching(batchMessages_, batchBytes_);
  sessionErrors_ = 0;
  ++reconnects_;
  if (selected_.empty()) return Status::ok();
  // The same folder, in the same mode.
  access::Folder folder;
  folder.wireName = selected_;
  const bool hadMap = !seqToUid_.empty();
  MF_RETURN_IF_ERROR(openFolder(folder, selectedReadOnly_, nullptr).status());
  return hadMap ? rebuildSeqMap() : Status::ok();
}

Status ImapAccount::learnNamespace() {
  if (conn_->hasCapability("NAMESPACE")) {
    CommandBuilder cmd(conn_->nextTag(), "NAMESPACE");
    bool found = false;
    auto done = run(cmd, [&](Response& r) {
      if (r.name != "NAMESPACE" || r.values.empty()) return;
      const Value& personal = r.values[0];
      if (personal.kind != Value::Kind::kList || personal.items.empty()) return;
      const Value& first = personal.items[0];
      if (first.kind != Value::Kind::kList || first.items.size() < 2) return;
      prefix_ = first.items[0].text;
      const Value& delim = first.items[1];
      if (delim.kind != Value::Kind::kNil && !delim.text.empty()) {
        separator_ = delim.text[0];
        separatorKnown_ = true;
      } else {
        separator_ = 0;
        separatorKnown_ = true;
      }
      found = true;
    });
    if (!done.isOk()) return done.status();
    // Some servers answer BAD to NAMESPACE although they announce it (QUIRKS.md); fall
    // through to LIST-based discovery then.
    if (done->isOk() && found) return Status::ok();
  }
  // RFC 3501 6.3.8: LIST "" "" returns the hierarchy delimiter.
  CommandBuilder cmd(conn_->nextTag(), "LIST");
  cmd.quotedOrLiteral("").quotedOrLiteral("");
  MF_ASSIGN_OR_RETURN(
      Response done, run(cmd, [&](Response& r) {
        if (r.name == "LIST" && r.values.size() >= 2) {
          const Value& delim = r.values[1];
          separator_ = (delim.kind == Value::Kind::kNil || delim.text.empty()) ? 0 : delim.text[0];
          separatorKnown_ = true;
        }
      }));
  if (!done.isOk()) return Connection::statusFromTagged(done, "LIST");
  return Status::ok();
}

access::Folder ImapAccount::folderFromWire(const std::string& wireName, char delimiter) const {
  access::Folder folder;
  folder.wireName = wireName;
  if (equalsIgnoreCase(wireName, "INBOX")) {
    folder.path = {"INBOX"};
    return folder;
  }
  std::string_view rest = wireName;
  if (!prefix_.empty() && startsWithIgnoreCase(rest, prefix_)) rest.remove_prefix(prefix_.size());
  // SPEC.md 4: a server without a delimiter (NIL) gets '/' as the hierarchy separator.
  char sep = delimiter ? delimiter : '/';
  size_t pos = 0;
  while (pos <= rest.size()) {
    size_t end = rest.find(sep, pos);
    if (end == std::string_view::npos) end = rest.size();
    std::string_view raw = rest.substr(pos, end - pos);
    auto decoded = decodeMutf7(raw);
    folder.path.push_back(decoded.isOk() ? *decoded : std::string(raw));
    pos = end + 1;
  }
  // RFC 3501 5.1: INBOX is case-insensitive; "Inbox/Sub" is a child of the INBOX.
  if (folder.path.size() > 1 && equalsIgnoreCase(folder.path[0], "INBOX")) folder.path[0] = "INBOX";
  return folder;
}

Result<std::string> ImapAccount::wireNameFor(const std::vector<std::string>& path) const {
  if (path.size() == 1 && equalsIgnoreCase(path[0], "INBOX")) return std::string("INBOX");
  std::string name = prefix_;
  for (size_t i = 0; i < path.size(); ++i) {
    // SPEC.md 4: a server without a delimiter (NIL) takes '/' in names as the hierarchy, when
    // reading (folderFromWire) and so when writing: the name reads back as the same path.
    if (i) name += separator_ ? separator_ : '/';
    MF_ASSIGN_OR_RETURN(std::string encoded, encodeMutf7(path[i]));
    name += encoded;
  }
  return name;
}

void ImapAccount::absorbListResponse(const Response& r, std::vector<std::string>& names,
                                     std::vector<access::Folder>* folders) const {
  if (r.values.size() < 3) return;
  const Value& attrs = r.values[0];
  const Value& delim = r.values[1];
  const Value& name = r.values[2];
  if (name.kind == Value::Kind::kNil || name.kind == Value::Kind::kList) return;
  names.push_back(name.text);
  if (!folders) return;
  char sep = (delim.kind == Value::Kind::kNil || delim.text.empty()) ? 0 : delim.text[0];
  access::Folder folder = folderFromWire(name.text, sep);
  for (const auto& a : attrs.items) {
    if (a.isAtom("\\NOSELECT") || a.isAtom("\\NONEXISTENT")) folder.selectable = false;
    auto use = specialUseFromAttribute(a.text);
    if (use != access::SpecialUse::kNone) folder.specialUse = use;
  }
  folders->push_back(std::move(folder));
}

Result<std::vector<access::Folder>> ImapAccount::listFolders() {
  MF_RETURN_IF_ERROR(keepSessionUsable(2));
  // LIST and LSUB pipelined: one round trip for both.
  std::vector<CommandBuilder> commands;
  for (const char* verb : {"LIST", "LSUB"}) {
    commands.emplace_back(conn_->nextTag(), verb);
    commands.back().quotedOrLiteral("").quotedOrLiteral("*");
  }
  std::vector<access::Folder> folders;
  std::vector<std::string> listedNames, subscribedNames;
  MF_ASSIGN_OR_RETURN(auto done, conn_->executeAll(commands, 2, [&](size_t, Response& r) {
    noteUntagged(r);
    if (r.name == "LIST") absorbListResponse(r, listedNames, &folders);
    if (r.name == "LSUB") absorbListResponse(r, subscribedNames, nullptr);
  }));
  for (const Response& r : done) {
    if (!r.isOk()) ++sessionErrors_;
  }
  if (!done[0].isOk()) return Connection::statusFromTagged(done[0], "LIST");
  // A server that refuses LSUB just has no subscriptions to copy.
  std::set<std::string> subscribed;
  if (done[1].isOk()) subscribed.insert(subscribedNames.begin(), subscribedNames.end());
  for (auto& f : folders) {
    f.subscribed = subscribed.count(f.wireName) > 0;
    if (!f.subscribed && f.path == std::vector<std::string>{"INBOX"}) {
      f.subscribed = std::any_of(subscribed.begin(), subscribed.end(),
                                 [](const std::string& n) { return equalsIgnoreCase(n, "INBOX"); });
    }
  }
  // Dovecot and others list the namespace prefix itself ("INBOX." lists as "INBOX"); an
  // empty path component at the end comes from a listed prefix: drop such entries.
  std::erase_if(folders, [](const access::Folder& f) {
    return f.path.empty() || (f.path.size() == 1 && f.path[0].empty());
  });
  std::sort(folders.begin(), folders.end(),
            [](const access::Folder& a, const access::Folder& b) { return a.path < b.path; });
  return folders;
}

// What SELECT / EXAMINE answers before its tagged OK.
struct ImapAccount::OpenedFolder {
  access::FolderStatus status;
  std::vector<std::string> permanent;
  bool anyKeyword = false;
  bool sawPermanent = false;

  void absorb(const Response& r) {
    if (r.name == "EXISTS" && r.number) status.messages = static_cast<uint32_t>(*r.number);
    if (r.code == "UIDVALIDITY") status.uidValidity = parseU32(r.codeArgs).value_or(0);
    if (r.code == "UIDNEXT") status.uidNext = parseU32(r.codeArgs).value_or(0);
    if (r.code == "HIGHESTMODSEQ") status.highestModSeq = parseDecimal(r.codeArgs).value_or(0);
    if (r.code == "PERMANENTFLAGS") {
      sawPermanent = true;
      std::string_view args = r.codeArgs;
      if (!args.empty() && args.front() == '(') args.remove_prefix(1);
      if (!args.empty() && args.back() == ')') args.remove_suffix(1);
      size_t pos = 0;
      while (pos < args.size()) {
        size_t end = args.find(' ', pos);
        if (end == std::string_view::npos) end = args.size();
        std::string flag(args.substr(pos, end - pos));
        if (flag == "\\*")
          anyKeyword = true;
        else if (!flag.empty())
          permanent.push_back(flag);
        pos = end + 1;
      }
    }
  }
};

const char* ImapAccount::openVerb(bool readOnly) const {
  // Courier (quirks.h): SELECT instead of EXAMINE, read-only by discipline (BODY.PEEK only).
  return readOnly && !quirks_.selectInsteadOfExamine ? "EXAMINE" : "SELECT";
}

CommandBuilder ImapAccount::openCommand(const access::Folder& folder, bool readOnly) {
  CommandBuilder cmd(conn_->nextTag(), openVerb(readOnly), conn_->literalPlus());
  cmd.astring(folder.wireName);
  return cmd;
}

Result<access::FolderStatus> ImapAccount::finishOpen(const access::Folder& folder, bool readOnly,
                                                     const Response& done, OpenedFolder& opened,
                                                     access::DestinationFolderInfo* info) {
  if (!done.isOk()) {
    selected_.clear();
    const char* verb = openVerb(readOnly);
    Status refused = Connection::statusFromTagged(done, verb);
    // Throttling and the like are not "missing folder": keep them retryable.
    if (refused.code() == Errc::kThrottled) return refused;
    return Status(Errc::kNotFound, "cannot open folder " + quoteForMessage(folder.displayName()) +
                                       " on " + describe() + ": " + refused.message());
  }
  selected_ = folder.wireName;
  selectedReadOnly_ = readOnly;
  appends_->setMailbox(readOnly ? std::string() : folder.wireName);
  if (info) {
    info->status = opened.status;
    info->permanentFlags = std::move(opened.permanent);
    // RFC 3501 7.1: no PERMANENTFLAGS means all flags in FLAGS are permanent; be liberal.
    info->acceptsAnyKeyword = opened.anyKeyword || !opened.sawPermanent;
    // RFC 7889: APPENDLIMIT=n in CAPABILITY applies to every mailbox.
    for (const auto& cap : conn_->capabilities()) {
      if (cap.rfind("APPENDLIMIT=", 0) == 0) {
        info->appendLimit = parseDecimal(std::string_view(cap).substr(12)).value_or(0);
      }
    }
  }
  return opened.status;
}

Result<access::FolderStatus> ImapAccount::openFolder(const access::Folder& folder, bool readOnly,
                                                     access::DestinationFolderInfo* info) {
  CommandBuilder cmd = openCommand(folder, readOnly);
  seqToUid_.clear();
  OpenedFolder opened;
  MF_ASSIGN_OR_RETURN(Response done, run(cmd, [&](Response& r) { opened.absorb(r); }));
  return finishOpen(folder, readOnly, done, opened, info);
}

namespace {

// The items of "* STATUS name (MESSAGES 3 UIDNEXT 4 ...)" into `status`.
void readStatusItems(const Response& r, access::FolderStatus& status) {
  if (r.values.size() < 2) return;
  const Value& items = r.values[1];
  for (size_t i = 0; i + 1 < items.items.size(); i += 2) {
    const Value& key = items.items[i];
    uint64_t n = items.items[i + 1].number;
    if (key.isAtom("MESSAGES")) status.messages = static_cast<uint32_t>(n);
    if (key.isAtom("UIDNEXT")) status.uidNext = static_cast<uint32_t>(n);
    if (key.isAtom("UIDVALIDITY")) status.uidValidity = static_cast<uint32_t>(n);
    if (key.isAtom("HIGHESTMODSEQ")) status.highestModSeq = n;
  }
}

}  // namespace

CommandBuilder ImapAccount::statusCommand(const access::Folder& folder) {
  CommandBuilder cmd(conn_->nextTag(), "STATUS", conn_->literalPlus());
  cmd.astring(folder.wireName);
  cmd.raw(conn_->hasCapability("CONDSTORE") ? "(MESSAGES UIDNEXT UIDVALIDITY HIGHESTMODSEQ)"
                                            : "(MESSAGES UIDNEXT UIDVALIDITY)");
  return cmd;
}

Status ImapAccount::statusRefused(const access::Folder& folder, const Response& done) const {
  Status refused = Connection::statusFromTagged(done, "STATUS");
  if (refused.code() == Errc::kThrottled) return refused;
  return Status(Errc::kNotFound, "cannot read the status of folder " +
                                     quoteForMessage(folder.displayName()) + " on " + describe() +
                                     ": " + refused.message());
}

Result<access::FolderStatus> ImapAccount::folderStatus(const access::Folder& folder) {
  MF_RETURN_IF_ERROR(keepSessionUsable(2));
  if (!selected_.empty() && folder.wireName == selected_) {
    // STATUS of the selected folder may be answered from this session's own view, which
    // does not yet hold what other sessions appended since (Dovecot does so: the UIDNEXT
    // stays where this session last synchronized). Recovery waits for a killed session's
    // appends to stop landing by watching exactly that number, so NOOP first: it makes the
    // server synchronize the session with the folder (RFC 3501 6.1.2).
    CommandBuilder noop(conn_->nextTag(), "NOOP", conn_->literalPlus());
    MF_ASSIGN_OR_RETURN(Response synced, run(noop));
    MF_RETURN_IF_ERROR(Connection::statusFromTagged(synced, "NOOP"));
  }
  CommandBuilder cmd = statusCommand(folder);
  access::FolderStatus status;
  MF_ASSIGN_OR_RETURN(Response done, run(cmd, [&](Response& r) {
                        if (r.name == "STATUS") readStatusItems(r, status);
                      }));
  if (!done.isOk()) return statusRefused(folder, done);
  return status;
}

std::vector<Result<access::FolderStatus>> ImapAccount::folderStatuses(
    const std::vector<access::Folder>& folders) {
  // One at a time where a failed command counts against the session (servers that end it
  // after a few errors: the budget is checked before each), and with a folder selected
  // (its STATUS needs a NOOP first, see folderStatus).
  if (quirks_.maxErrorsPerSession != 0 || !selected_.empty() || folders.size() < 2) {
    return MailSource::folderStatuses(folders);
  }
  std::vector<CommandBuilder> commands;
  commands.reserve(folders.size());
  for (const access::Folder& folder : folders) commands.push_back(statusCommand(folder));
  std::vector<access::FolderStatus> statuses(folders.size());
  auto done = conn_->executeAll(commands, kStatusPipelineDepth, [&](size_t oldest, Response& r) {
    noteUntagged(r);
    if (r.name != "STATUS" || r.values.empty()) return;
    // The answer names its folder; servers answer in order, so the oldest command is the
    // fallback for a name spelled differently (INBOX in another case, say).
    size_t k = oldest;
    const std::string_view name = r.values[0].asText();
    for (size_t j = oldest; j < folders.size() && j < oldest + kStatusPipelineDepth; ++j) {
      if (folders[j].wireName == name) {
        k = j;
        break;
      }
    }
    readStatusItems(r, statuses[k]);
  });
  std::vector<Result<access::FolderStatus>> out;
  out.reserve(folders.size());
  for (size_t k = 0; k < folders.size(); ++k) {
    if (!done) {
      out.emplace_back(done.status());
    } else if (!(*done)[k].isOk()) {
      ++sessionErrors_;
      out.emplace_back(statusRefused(folders[k], (*done)[k]));
    } else {
      out.emplace_back(statuses[k]);
    }
  }
  return out;
}

Result<access::FolderStatus> ImapAccount::openForRead(const access::Folder& folder) {
  MF_RETURN_IF_ERROR(keepSessionUsable(1));
  return openFolder(folder, /*readOnly=*/true, nullptr);
}

Result<std::vector<access::MessageMeta>> ImapAccount::listMessages(uint32_t minUid) {
  return fetchMetas(minUid, /*withMessageId=*/true);
}

Result<std::vector<access::MessageMeta>> ImapAccount::listMessagesWithoutMessageId(
    uint32_t minUid) {
  return fetchMetas(minUid, /*withMessageId=*/false);
}

Result<std::vector<access::MessageMeta>> ImapAccount::listMessagesBetween(uint32_t minUid,
                                                                          uint32_t maxUid,
                                                                          bool withMessageId) {
  if (maxUid == 0 || maxUid < minUid) return std::vector<access::MessageMeta>{};
  // A range above every message the sequence number map holds is the next window of a folder
  // listed a window at a time: its numbers replace the last window's (whose bodies are
  // fetched), so the map holds a window, not the folder. Any other listing adds to it. UIDs
  // ascend with sequence numbers: the highest number holds the highest UID.
  if (!seqToUid_.empty() && seqToUid_.rbegin()->second < minUid) seqToUid_.clear();
  return fetchMetas(minUid, withMessageId, maxUid);
}

Result<access::MailSource::ListingWindows> ImapAccount::planListingWindows(uint32_t minUid,
                                                                           size_t window) {
  if (minUid == 0) minUid = 1;
  MF_RETURN_IF_ERROR(keepSessionUsable(1));
  CommandBuilder cmd(conn_->nextTag(), "UID FETCH");
  cmd.raw(std::to_string(minUid) + ":*").raw("(UID RFC822.SIZE)");
  std::vector<uint32_t> uids;
  uint64_t bytes = 0;
  conn_->setStreamPredicate({});
  MF_ASSIGN_OR_RETURN(Response done, run(cmd, [&](Response& r) {
                        if (r.name != "FETCH" || r.values.empty()) return;
                        auto uid = uidOf(r);
                        if (!uid || *uid < minUid) return;  // "n:*" past the end: the last one
                        uids.push_back(*uid);
                        if (const Value* size = fetchItem(r.values[0], "RFC822.SIZE")) {
                          bytes += size->number;
                        }
                      }));
  if (!done.isOk()) return Connection::statusFromTagged(done, "UID FETCH (plan the listing)");
  return access::listingWindowsOf(std::move(uids), bytes, window);
}

// What "UID FETCH n:* (UID FLAGS INTERNALDATE RFC822.SIZE ...)" answers, by UID, merged: a
// server may also send FETCH responses of its own (a flag change by another session, RFC 3501
// 7.4.2), with or without the UID, before or after ours.
struct ImapAccount::ListedMessages {
  uint32_t minUid = 1;
  uint32_t maxUid = UINT32_MAX;
  std::map<uint32_t, access::MessageMeta> metas;

  void absorb(const Response& r, std::map<uint32_t, uint32_t>& seqToUid) {
    if (r.name != "FETCH" || r.values.empty() || r.values[0].kind != Value::Kind::kList) return;
    const Value& list = r.values[0];
    auto uid = uidOf(r);
    // "n:*" also returns the last message when n > max; a server's own FETCH responses (flag
    // changes) may name messages outside the range asked for.
    if (!uid || *uid < minUid || *uid > maxUid) return;
    if (r.number && *r.number <= UINT32_MAX) seqToUid[static_cast<uint32_t>(*r.number)] = *uid;
    access::MessageMeta& meta = metas[*uid];
    meta.uid = *uid;
    if (const Value* flags = fetchItem(list, "FLAGS")) {
      meta.flags.clear();
      for (const auto& f : flags->items) {
        if (f.isAtom("\\RECENT")) continue;  // session flag, cannot be set by APPEND
        meta.flags.push_back(f.text);
      }
    }
    if (const Value* date = fetchItem(list, "INTERNALDATE")) meta.internalDate = date->text;
    if (const Value* size = fetchItem(list, "RFC822.SIZE")) meta.size = size->number;
    for (size_t i = 0; i + 1 < list.items.size(); i += 2) {
      if (startsWithIgnoreCase(list.items[i].text, "BODY[HEADER")) {
        meta.messageId = message::headerField(list.items[i + 1].text, "Message-ID");
      }
    }
  }

  std::vector<access::MessageMeta> take() {
    std::vector<access::MessageMeta> out;
    out.reserve(metas.size());
    for (auto& [uid, meta] : metas) out.push_back(std::move(meta));
    return out;
  }
};

CommandBuilder ImapAccount::listCommand(uint32_t minUid, bool withMessageId, uint32_t maxUid) {
  CommandBuilder cmd(conn_->nextTag(), "UID FETCH");
  cmd.raw(std::to_string(minUid) + ":" + (maxUid ? std::to_string(maxUid) : "*"));
  // Without the header field the server answers from its index; with it, most servers open
  // (or at least look up the cached header of) every message.
  cmd.raw(withMessageId
              ? "(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])"
              : "(UID FLAGS INTERNALDATE RFC822.SIZE)");
  return cmd;
}

Result<std::vector<access::MessageMeta>> ImapAccount::fetchMetas(uint32_t minUid,
                                                                 bool withMessageId,
                                                                 uint32_t maxUid) {
  if (minUid == 0) minUid = 1;
  MF_RETURN_IF_ERROR(keepSessionUsable(1));
  CommandBuilder cmd = listCommand(minUid, withMessageId, maxUid);
  ListedMessages listed;
  listed.minUid = minUid;
  if (maxUid) listed.maxUid = maxUid;
  conn_->setStreamPredicate({});
  MF_ASSIGN_OR_RETURN(Response done, run(cmd, [&](Response& r) { listed.absorb(r, seqToUid_); }));
  if (!done.isOk()) return Connection::statusFromTagged(done, "UID FETCH (list messages)");
  return listed.take();
}

Result<access::MailSource::ReadView> ImapAccount::openForReadAndList(const access::Folder& folder,
                                                                     uint32_t minUid,
                                                                     bool withMessageId) {
  if (minUid == 0) minUid = 1;
  MF_RETURN_IF_ERROR(keepSessionUsable(2));
  // EXAMINE and the listing go out together: one round trip instead of two. Should the
  // EXAMINE fail, the server has no folder selected and refuses the listing too (RFC 3501
  // 6.3.1), which is then ignored; nothing here changes anything on the server.
  std::vector<CommandBuilder> commands;
  commands.push_back(openCommand(folder, /*readOnly=*/true));
  commands.push_back(listCommand(minUid, withMessageId));
  seqToUid_.clear();
  OpenedFolder opened;
  ListedMessages listed;
  listed.minUid = minUid;
  conn_->setStreamPredicate({});
  MF_ASSIGN_OR_RETURN(auto done, conn_->executeAll(commands, 2, [&](size_t oldest, Response& r) {
    noteUntagged(r);
    if (oldest == 0)
      opened.absorb(r);
    else
      listed.absorb(r, seqToUid_);
  }));
  for (const Response& r : done) {
    if (!r.isOk()) ++sessionErrors_;
  }
  ReadView view;
  MF_ASSIGN_OR_RETURN(view.status, finishOpen(folder, /*readOnly=*/true, done[0], opened, nullptr));
  // "n:*" of an empty folder is an error on some servers: nothing to list, then.
  if (!done[1].isOk() && view.status.messages > 0) {
    return Connection::statusFromTagged(done[1], "UID FETCH (list messages)");
  }
  view.metas = listed.take();
  return view;
}

Status ImapAccount::fetchBodies(const std::vector<uint32_t>& uids, access::BodyConsumer& consumer) {
  if (uids.empty()) return Status::ok();
  MF_RETURN_IF_ERROR(keepSessionUsable(1));
  std::string tag = conn_->nextTag();
  CommandBuilder cmd(tag, "UID FETCH");
  cmd.raw(compressUidSet(uids));
  cmd.raw("(UID BODY.PEEK[])");
  conn_->setStreamPredicate([](const Response&, std::string_view key, uint64_t) {
    return startsWithIgnoreCase(key, "BODY[") || startsWithIgnoreCase(key, "RFC822");
  });
  struct ResetPredicate {
    Connection& conn;
    ~ResetPredicate() { conn.setStreamPredicate({}); }
  } reset{*conn_};
  MF_RETURN_IF_ERROR(conn_->send(cmd.build()));
  Status consumerError;
  bool inBody = false;
  // The UID taken from the sequence number map for a body that came before its UID.
  std::optional<uint32_t> assumedUid;
  for (;;) {
    MF_ASSIGN_OR_RETURN(ParseEvent ev, conn_->readEvent());
    switch (ev.kind) {
      case ParseEvent::kLiteralBegin: {
        const Response& partial = conn_->parser().partial();
        auto uid = uidOf(partial);
        if (!uid && partial.number) {
          // RFC 3501 7.4.2 fixes no order for FETCH data: the body may come before the UID.
          // Its sequence number says which message it is (the literal's own size is what
          // counts, whatever RFC822.SIZE said); the UID that follows is checked against it.
          auto it = seqToUid_.find(static_cast<uint32_t>(*partial.number));
          if (it != seqToUid_.end()) uid = assumedUid = it->second;
        }
        if (!uid && consumerError.isOk()) {
          consumerError = Status(Errc::kProtocol, describe() +
                                                      " sent a message body before its "
                                                      "UID, for a message not in the listing; "
                                                      "cannot tell which message it is");
        }
        if (consumerError.isOk()) consumerError = consumer.begin(*uid, ev.size);
        inBody = consumerError.isOk();
        break;
      }
      case ParseEvent::kLiteralData:
        if (inBody) {
          consumerError = consumer.data(ev.data);
          if (!consumerError) inBody = false;
        }
        break;
      case ParseEvent::kLiteralEnd:
        if (inBody) {
          consumerError = consumer.end();
          inBody = false;
        }
        break;
      case ParseEvent::kResponse: {
        Response r = conn_->parser().takeResponse();
        if (r.type == ResponseType::kTagged && r.tag == tag) {
          if (!r.isOk()) ++sessionErrors_;
          if (!consumerError.isOk()) return consumerError;
          return Connection::statusFromTagged(r, "UID FETCH (bodies)");
        }
        if (r.type == ResponseType::kUntagged && r.status == "BYE") {
          return statusFromServer(r, describe() + " session");
        }
        if (assumedUid && r.name == "FETCH") {
          auto said = uidOf(r);
          if (said && *said != *assumedUid && consumerError.isOk()) {
            consumerError =
                Status(Errc::kProtocol, describe() + " sent message " + std::to_string(*r.number) +
                                            " before its UID " + std::to_string(*said) +
                                            ", but the listing had UID " +
                                            std::to_string(*assumedUid) + " there");
          }
          assumedUid.reset();
        }
        noteUntagged(r);
        break;
      }
      default:
        break;
    }
  }
}

Result<access::Folder> ImapAccount::createFolder(const std::vector<std::string>& path) {
  MF_RETURN_IF_ERROR(keepSessionUsable(1));
  MF_ASSIGN_OR_RETURN(std::string wire, wireNameFor(path));
  access::Folder folder = folderFromWire(wire, separator_);
  folder.path = path;
  if (wire == "INBOX") return folder;
  CommandBuilder cmd(conn_->nextTag(), "CREATE", conn_->literalPlus());
  cmd.astring(wire);
  MF_ASSIGN_OR_RETURN(Response done, run(cmd));
  if (done.isOk()) return folder;
  if (done.code == "ALREADYEXISTS" ||
      (done.status == "NO" && containsIgnoreCase(done.text, "already exists"))) {
    // The exact name may exist by now without being a collision: created as the superior of
    // a folder created just before (RFC 3501 6.3.3 lets a server create superiors as real
    // folders), e.g. by another worker. That is the folder we want. Only another spelling
    // (a case-folding server, QUIRKS.md Exchange) is a collision for the engine to resolve.
    CommandBuilder list(conn_->nextTag(), "LIST", conn_->literalPlus());
    list.quotedOrLiteral("").astring(wire);
    bool exact = false;
    auto listed = run(list, [&](Response& r) {
      if (r.name != "LIST" || r.values.size() < 3 || r.values[2].text != wire) return;
      exact = std::none_of(r.values[0].items.begin(), r.values[0].items.end(), [](const Value& a) {
        return a.isAtom("\\NOSELECT") || a.isAtom("\\NONEXISTENT");
      });
    });
    if (listed.isOk() && listed->isOk() && exact) return folder;
    return Status(Errc::kAlreadyExists, "folder " + quoteForMessage(folder.displayName()) +
                                            " already exists on " + describe());
  }
  return Status(Errc::kServerNo, ErrorClass::kDestinationLimit,
                "cannot create folder " + quoteForMessage(folder.displayName()) + " on " +
                    describe() + ": " + Connection::statusFromTagged(done, "CREATE").message());
}

CommandBuilder ImapAccount::subscribeCommand(const access::Folder& folder) {
  CommandBuilder cmd(conn_->nextTag(), "SUBSCRIBE", conn_->literalPlus());
  cmd.astring(folder.wireName);
  return cmd;
}

Status ImapAccount::subscribe(const access::Folder& folder) {
  MF_RETURN_IF_ERROR(keepSessionUsable(1));
  CommandBuilder cmd = subscribeCommand(folder);
  MF_ASSIGN_OR_RETURN(Response done, run(cmd));
  return Connection::statusFromTagged(done, "SUBSCRIBE " + folder.displayName());
}

Result<access::DestinationFolderInfo> ImapAccount::openForAppend(const access::Folder& folder) {
  MF_RETURN_IF_ERROR(keepSessionUsable(1));
  access::DestinationFolderInfo info;
  auto opened = openFolder(folder, /*readOnly=*/false, &info);
  if (!opened) return opened.status();
  return info;
}

Result<access::DestinationFolderInfo> ImapAccount::subscribeAndOpenForAppend(
    const access::Folder& folder, Status& subscribed) {
  MF_RETURN_IF_ERROR(keepSessionUsable(2));
  // Pipelined: the SELECT does not depend on the SUBSCRIBE's outcome.
  std::vector<CommandBuilder> commands;
  commands.push_back(subscribeCommand(folder));
  commands.push_back(openCommand(folder, /*readOnly=*/false));
  seqToUid_.clear();
  OpenedFolder opened;
  MF_ASSIGN_OR_RETURN(auto done, conn_->executeAll(commands, 2, [&](size_t oldest, Response& r) {
    noteUntagged(r);
    if (oldest == 1) opened.absorb(r);
  }));
  for (const Response& r : done) {
    if (!r.isOk()) ++sessionErrors_;
  }
  subscribed = Connection::statusFromTagged(done[0], "SUBSCRIBE " + folder.displayName());
  access::DestinationFolderInfo info;
  MF_RETURN_IF_ERROR(finishOpen(folder, /*readOnly=*/false, done[1], opened, &info).status());
  return info;
}

Status ImapAccount::beginAppend(const access::AppendRequest& request) {
  if (holding_) return Status(Errc::kInternal, "append inside another append");
  MF_RETURN_IF_ERROR(keepSessionUsable(1));
  if (hasKeyword(request.flags)) {
    ticketsWithKeywords_.insert(request.ticket);
  } else {
    ticketsWithKeywords_.erase(request.ticket);
  }
  // Exchange (quirks.h): \Flagged is left out here and set by storeFlaggedAfterAppend().
  const access::AppendRequest* toSend = &request;
  access::AppendRequest unflagged;
  ticketsOwingFlagged_.erase(request.ticket);
  if (quirks_.flaggedByStoreAfterAppend && conn_->hasCapability("UIDPLUS")) {
    auto isFlagged = [](const std::string& f) { return equalsIgnoreCase(f, "\\Flagged"); };
    if (std::any_of(request.flags.begin(), request.flags.end(), isFlagged)) {
      unflagged = request;
      std::erase_if(unflagged.flags, isFlagged);
      toSend = &unflagged;
      ticketsOwingFlagged_.insert(request.ticket);
    }
  }
  if (quirks_.appendNeedsFinalCrlf && request.size <= kFinalCrlfHoldBackMax) {
    held_ = *toSend;
    heldBody_.clear();
    heldBody_.reserve(static_cast<size_t>(request.size) + 2);
    holding_ = true;
    return Status::ok();
  }
  return appends_->begin(*toSend);
}

Status ImapAccount::appendData(std::string_view chunk) {
  if (!holding_) return appends_->data(chunk);
  if (heldBody_.size() + chunk.size() > held_.size) {
    return Status(Errc::kInternal, "append body longer than announced");
  }
  heldBody_.append(chunk);
  return Status::ok();
}

Status ImapAccount::endAppend() {
  if (!holding_) return appends_->end();
  holding_ = false;
  if (heldBody_.size() != held_.size) {
    return Status(Errc::kInternal, "append body shorter than announced");
  }
  // Yahoo (quirks.h): the last line must end in CRLF. A missing line end gets CRLF, a bare LF
  // gets the CR before it; the change is the smallest that makes the server take it.
  const size_t n = heldBody_.size();
  const bool endsInCrlf = n >= 2 && heldBody_[n - 2] == '\r' && heldBody_[n - 1] == '\n';
  if (!endsInCrlf) {
    const bool bareLf = n >= 1 && heldBody_[n - 1] == '\n';
    if (bareLf) {
      heldBody_.insert(n - 1, 1, '\r');
    } else {
      heldBody_ += "\r\n";
    }
    log::warn(describe() + ": message " + std::to_string(held_.ticket) + " does not end in " +
              "CRLF, which this server (Yahoo) refuses; appended it with " +
              (bareLf ? "a CR before its final LF" : "a final CRLF") + " (" +
              std::to_string(heldBody_.size() - n) + " byte(s) added)");
  }
  access::AppendRequest request = held_;
  request.size = heldBody_.size();
  Status s = appends_->begin(request);
  if (s) s = appends_->data(heldBody_);
  if (s) s = appends_->end();
  // Give a big buffer back: the next message may be small.
  if (heldBody_.capacity() > (1u << 20)) std::string().swap(heldBody_);
  heldBody_.clear();
  return s;
}

// Zimbra (quirks.h): a bare "NO APPEND failed" for a message with keywords is a refused
// keyword. Every refusal counts against the session's error budget.
void ImapAccount::adjustAppendResult(access::AppendResult& result) {
  const bool hadKeywords = ticketsWithKeywords_.erase(result.ticket) > 0;
  if (result.status.isOk()) return;
  ++sessionErrors_;
  if (quirks_.bareAppendNoMeansKeywordRefused && hadKeywords &&
      result.status.code() == Errc::kServerNo) {
    result.status =
        Status(Errc::kKeywordRefused, result.status.errorClass(),
               result.status.message() + " (this server answers so when it refuses a keyword)");
  }
}

Result<std::vector<access::AppendResult>> ImapAccount::collect(bool wait) {
  std::vector<access::AppendResult> out;
  out.swap(settled_);
  MF_ASSIGN_OR_RETURN(auto results, appends_->collect(wait && out.empty()));
  for (auto& r : results) {
    adjustAppendResult(r);
    out.push_back(std::move(r));
  }
  if (!ticketsOwingFlagged_.empty()) MF_RETURN_IF_ERROR(storeFlaggedAfterAppend(out));
  return out;
}

Status ImapAccount::storeFlaggedAfterAppend(const std::vector<access::AppendResult>& results) {
  std::vector<uint32_t> uids;
  for (const auto& r : results) {
    if (ticketsOwingFlagged_.erase(r.ticket) > 0 && r.status.isOk() && r.uid != 0) {
      uids.push_back(r.uid);
    }
  }
  if (uids.empty()) return Status::ok();
  Status s = addFlags(uids, {"\\Flagged"});
  if (s.code() == Errc::kServerNo || s.code() == Errc::kServerBad) {
    // The copies are there; only their flag is missing, which verify reports.
    log::warn(describe() + ": could not set \\Flagged on " + std::to_string(uids.size()) +
              " copied message(s) of " + selected_ + ": " + s.message());
    return Status::ok();
  }
  return s;
}

Status ImapAccount::addFlags(const std::vector<uint32_t>& uids,
                             const std::vector<std::string>& flags) {
  if (uids.empty() || flags.empty()) return Status::ok();
  // Never on a source: a folder opened for reading (also one a Courier source SELECTs under
  // the read-only discipline) takes no STORE.
  if (selected_.empty() || selectedReadOnly_) {
    return Status(Errc::kInternal, "adding flags needs a folder opened for append");
  }
  // Exchange counts a refused STORE against the session's error budget too.
  MF_RETURN_IF_ERROR(keepSessionUsable(1));
  // Between two messages, in the folder the copies were appended to (it is selected, also
  // after a reconnect); answers to APPENDs still in flight are kept for the next collect().
  CommandBuilder cmd(conn_->nextTag(), "UID STORE");
  cmd.raw(compressUidSet(uids)).atom("+FLAGS.SILENT").flagList(flags);
  MF_ASSIGN_OR_RETURN(Response done, appends_->runBetween(cmd));
  if (!done.isOk()) {
    ++sessionErrors_;
    return Connection::statusFromTagged(done, "UID STORE");
  }
  return Status::ok();
}

Result<std::vector<uint32_t>> ImapAccount::searchMessageId(std::string_view messageId) {
  MF_RETURN_IF_ERROR(keepSessionUsable(1));
  CommandBuilder cmd(conn_->nextTag(), "UID SEARCH", conn_->literalPlus());
  cmd.atom("HEADER").atom("Message-ID").quotedOrLiteral(messageId);
  std::vector<uint32_t> uids;
  MF_ASSIGN_OR_RETURN(Response done, run(cmd, [&](Response& r) {
                        if (r.name != "SEARCH") return;
                        for (const auto& v : r.values) {
                          if (v.kind == Value::Kind::kNumber && v.number <= UINT32_MAX) {
                            uids.push_back(static_cast<uint32_t>(v.number));
                          }
                        }
                      }));
  if (!done.isOk()) return Connection::statusFromTagged(done, "UID SEARCH");
  return uids;
}

}  // namespace mf::imap
