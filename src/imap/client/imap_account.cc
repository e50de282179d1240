#include "imap/client/imap_account.h"

#include <strings.h>

#include <algorithm>
#include <set>

#include "base/checked_number.h"
#include "base/log.h"
#include "imap/client/server_errors.h"
#include "imap/client/uid_set.h"
#include "imap/wire/mutf7.h"
#include "message/headers.h"

namespace mf::imap {
namespace {


bool startsWithNoCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && strncasecmp(s.data(), prefix.data(), prefix.size()) == 0;
}
bool equalsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

access::SpecialUse specialUseFromAttribute(std::string_view attr) {
  using access::SpecialUse;
  if (equalsNoCase(attr, "\\Sent")) return SpecialUse::kSent;
  if (equalsNoCase(attr, "\\Drafts")) return SpecialUse::kDrafts;
  if (equalsNoCase(attr, "\\Trash")) return SpecialUse::kTrash;
  if (equalsNoCase(attr, "\\Junk")) return SpecialUse::kJunk;
  if (equalsNoCase(attr, "\\Archive")) return SpecialUse::kArchive;
  if (equalsNoCase(attr, "\\All")) return SpecialUse::kAll;
  if (equalsNoCase(attr, "\\Flagged")) return SpecialUse::kFlagged;
  return SpecialUse::kNone;
}

// The UID a FETCH response is about, looking at what has been parsed so far.
std::optional<uint32_t> uidOf(const Response& response) {
  for (const auto& v : response.values) {
    if (v.kind != Value::Kind::kList) continue;
    if (const Value* uid = fetchItem(v, "UID"); uid && uid->kind == Value::Kind::kNumber &&
                                                uid->number <= UINT32_MAX) {
      return static_cast<uint32_t>(uid->number);
    }
  }
  return std::nullopt;
}

std::string quoteForMessage(std::string_view s) { return "'" + std::string(s) + "'"; }

bool contains(std::string_view hay, std::string_view needle) {
  for (size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    if (strncasecmp(hay.data() + i, needle.data(), needle.size()) == 0) return true;
  }
  return false;
}

}  // namespace

ImapAccount::ImapAccount(std::unique_ptr<Connection> conn)
    : conn_(std::move(conn)), appends_(std::make_unique<AppendPipeline>(*conn_)) {}
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

std::string ImapAccount::describe() const { return conn_->describe(); }

Result<std::unique_ptr<ImapAccount>> ImapAccount::open(const AccountOptions& options) {
  MF_ASSIGN_OR_RETURN(auto conn, Connection::open(options.connect));
  MF_RETURN_IF_ERROR(conn->login(options.credentials()));
  std::unique_ptr<ImapAccount> account(new ImapAccount(std::move(conn)));
  MF_RETURN_IF_ERROR(account->learnNamespace());
  return account;
}

Status ImapAccount::learnNamespace() {
  if (conn_->hasCapability("NAMESPACE")) {
    CommandBuilder cmd(conn_->nextTag(), "NAMESPACE");
    bool found = false;
    auto done = conn_->execute(cmd, [&](Response& r) {
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
  MF_ASSIGN_OR_RETURN(Response done, conn_->execute(cmd, [&](Response& r) {
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
  if (equalsNoCase(wireName, "INBOX")) {
    folder.path = {"INBOX"};
    return folder;
  }
  std::string_view rest = wireName;
  if (!prefix_.empty() && startsWithNoCase(rest, prefix_)) rest.remove_prefix(prefix_.size());
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
  return folder;
}

Result<std::string> ImapAccount::wireNameFor(const std::vector<std::string>& path) const {
  if (path.size() == 1 && equalsNoCase(path[0], "INBOX")) return std::string("INBOX");
  std::string name = prefix_;
  for (size_t i = 0; i < path.size(); ++i) {
    if (i) {
      if (!separator_) {
        return Status(Errc::kConfig, "the destination has no hierarchy separator, so the "
                                     "nested folder " + quoteForMessage(path[i]) +
                                     " cannot be created; use --map to flatten it");
      }
      name += separator_;
    }
    MF_ASSIGN_OR_RETURN(std::string encoded, encodeMutf7(path[i]));
    name += encoded;
  }
  return name;
}

Result<std::vector<std::string>> ImapAccount::listNames(const char* command,
                                                        std::vector<access::Folder>* folders) {
  CommandBuilder cmd(conn_->nextTag(), command);
  cmd.quotedOrLiteral("").quotedOrLiteral("*");
  std::vector<std::string> names;
  MF_ASSIGN_OR_RETURN(Response done, conn_->execute(cmd, [&](Response& r) {
    if ((r.name != "LIST" && r.name != "LSUB") || r.values.size() < 3) return;
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
  }));
  if (!done.isOk()) return Connection::statusFromTagged(done, command);
  return names;
}

Result<std::vector<access::Folder>> ImapAccount::listFolders() {
  std::vector<access::Folder> folders;
  auto listed = listNames("LIST", &folders);
  if (!listed) return listed.status();
  std::set<std::string> subscribed;
  auto lsub = listNames("LSUB", nullptr);
  if (lsub.isOk()) subscribed.insert(lsub->begin(), lsub->end());
  for (auto& f : folders) f.subscribed = subscribed.count(f.wireName) > 0;
  // Dovecot and others list the namespace prefix itself ("INBOX." lists as "INBOX"); an
  // empty path component at the end comes from a listed prefix: drop such entries.
  std::erase_if(folders, [](const access::Folder& f) {
    return f.path.empty() || (f.path.size() == 1 && f.path[0].empty());
  });
  std::sort(folders.begin(), folders.end(),
            [](const access::Folder& a, const access::Folder& b) { return a.path < b.path; });
  return folders;
}

Result<access::FolderStatus> ImapAccount::openFolder(const access::Folder& folder, bool readOnly,
                                                     access::DestinationFolderInfo* info) {
  CommandBuilder cmd(conn_->nextTag(), readOnly ? "EXAMINE" : "SELECT", conn_->literalPlus());
  cmd.astring(folder.wireName);
  access::FolderStatus status;
  std::vector<std::string> permanent;
  bool anyKeyword = false;
  bool sawPermanent = false;
  MF_ASSIGN_OR_RETURN(Response done, conn_->execute(cmd, [&](Response& r) {
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
        if (flag == "\\*") anyKeyword = true;
        else if (!flag.empty()) permanent.push_back(flag);
        pos = end + 1;
      }
    }
  }));
  if (!done.isOk()) {
    selected_.clear();
    Status refused = Connection::statusFromTagged(done, readOnly ? "EXAMINE" : "SELECT");
    // Throttling and the like are not "missing folder": keep them retryable.
    if (refused.code() == Errc::kThrottled) return refused;
    return Status(Errc::kNotFound, "cannot open folder " + quoteForMessage(folder.displayName()) +
                                       " on " + describe() + ": " +
                                       Connection::statusFromTagged(done, readOnly ? "EXAMINE" : "SELECT").message());
  }
  selected_ = folder.wireName;
  selectedReadOnly_ = readOnly;
  appends_->setMailbox(readOnly ? std::string() : folder.wireName);
  if (info) {
    info->status = status;
    info->permanentFlags = std::move(permanent);
    // RFC 3501 7.1: no PERMANENTFLAGS means all flags in FLAGS are permanent; be liberal.
    info->acceptsAnyKeyword = anyKeyword || !sawPermanent;
    // RFC 7889: APPENDLIMIT=n in CAPABILITY applies to every mailbox.
    for (const auto& cap : conn_->capabilities()) {
      if (cap.rfind("APPENDLIMIT=", 0) == 0) {
        info->appendLimit = parseDecimal(std::string_view(cap).substr(12)).value_or(0);
      }
    }
  }
  return status;
}

Result<access::FolderStatus> ImapAccount::folderStatus(const access::Folder& folder) {
  CommandBuilder cmd(conn_->nextTag(), "STATUS", conn_->literalPlus());
  cmd.astring(folder.wireName);
  const bool condstore = conn_->hasCapability("CONDSTORE");
  cmd.raw(condstore ? "(MESSAGES UIDNEXT UIDVALIDITY HIGHESTMODSEQ)"
                    : "(MESSAGES UIDNEXT UIDVALIDITY)");
  access::FolderStatus status;
  MF_ASSIGN_OR_RETURN(Response done, conn_->execute(cmd, [&](Response& r) {
    if (r.name != "STATUS" || r.values.size() < 2) return;
    const Value& items = r.values[1];
    for (size_t i = 0; i + 1 < items.items.size(); i += 2) {
      const Value& key = items.items[i];
      uint64_t n = items.items[i + 1].number;
      if (key.isAtom("MESSAGES")) status.messages = static_cast<uint32_t>(n);
      if (key.isAtom("UIDNEXT")) status.uidNext = static_cast<uint32_t>(n);
      if (key.isAtom("UIDVALIDITY")) status.uidValidity = static_cast<uint32_t>(n);
      if (key.isAtom("HIGHESTMODSEQ")) status.highestModSeq = n;
    }
  }));
  if (!done.isOk()) {
    Status refused = Connection::statusFromTagged(done, "STATUS");
    if (refused.code() == Errc::kThrottled) return refused;
    return Status(Errc::kNotFound, "cannot read the status of folder " +
                                       quoteForMessage(folder.displayName()) + " on " +
                                       describe() + ": " +
                                       Connection::statusFromTagged(done, "STATUS").message());
  }
  return status;
}

Result<access::FolderStatus> ImapAccount::openForRead(const access::Folder& folder) {
  return openFolder(folder, /*readOnly=*/true, nullptr);
}

Result<std::vector<access::MessageMeta>> ImapAccount::listMessages(uint32_t minUid) {
  if (minUid == 0) minUid = 1;
  CommandBuilder cmd(conn_->nextTag(), "UID FETCH");
  cmd.raw(std::to_string(minUid) + ":*");
  cmd.raw("(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])");
  std::vector<access::MessageMeta> metas;
  conn_->setStreamPredicate({});
  MF_ASSIGN_OR_RETURN(Response done, conn_->execute(cmd, [&](Response& r) {
    if (r.name != "FETCH" || r.values.empty() || r.values[0].kind != Value::Kind::kList) return;
    const Value& list = r.values[0];
    access::MessageMeta meta;
    auto uid = uidOf(r);
    if (!uid || *uid < minUid) return;  // "n:*" also returns the last message when n > max
    meta.uid = *uid;
    if (const Value* flags = fetchItem(list, "FLAGS")) {
      for (const auto& f : flags->items) {
        if (f.isAtom("\\RECENT")) continue;  // session flag, cannot be set by APPEND
        meta.flags.push_back(f.text);
      }
    }
    if (const Value* date = fetchItem(list, "INTERNALDATE")) meta.internalDate = date->text;
    if (const Value* size = fetchItem(list, "RFC822.SIZE")) meta.size = size->number;
    for (size_t i = 0; i + 1 < list.items.size(); i += 2) {
      if (startsWithNoCase(list.items[i].text, "BODY[HEADER")) {
        meta.messageId = message::headerField(list.items[i + 1].text, "Message-ID");
      }
    }
    metas.push_back(std::move(meta));
  }));
  if (!done.isOk()) return Connection::statusFromTagged(done, "UID FETCH (list messages)");
  std::sort(metas.begin(), metas.end(),
            [](const auto& a, const auto& b) { return a.uid < b.uid; });
  metas.erase(std::unique(metas.begin(), metas.end(),
                          [](const auto& a, const auto& b) { return a.uid == b.uid; }),
              metas.end());
  return metas;
}

Status ImapAccount::fetchBodies(const std::vector<uint32_t>& uids,
                                access::BodyConsumer& consumer) {
  if (uids.empty()) return Status::ok();
  std::string tag = conn_->nextTag();
  CommandBuilder cmd(tag, "UID FETCH");
  cmd.raw(compressUidSet(uids));
  cmd.raw("(UID BODY.PEEK[])");
  conn_->setStreamPredicate([](const Response&, std::string_view key, uint64_t) {
    return startsWithNoCase(key, "BODY[") || startsWithNoCase(key, "RFC822");
  });
  Status sent = conn_->send(cmd.build());
  if (!sent) return sent;
  Status consumerError;
  bool inBody = false;
  for (;;) {
    auto ev = conn_->readEvent();
    if (!ev) {
      conn_->setStreamPredicate({});
      return ev.status();
    }
    switch (ev->kind) {
      case ParseEvent::kLiteralBegin: {
        auto uid = uidOf(conn_->parser().partial());
        if (!uid) {
          consumerError = Status(Errc::kProtocol, describe() + " sent a message body before its "
                                                  "UID; cannot tell which message it is");
        }
        if (consumerError.isOk()) consumerError = consumer.begin(*uid, ev->size);
        inBody = consumerError.isOk();
        break;
      }
      case ParseEvent::kLiteralData:
        if (inBody) {
          consumerError = consumer.data(ev->data);
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
          conn_->setStreamPredicate({});
          if (!consumerError.isOk()) return consumerError;
          return Connection::statusFromTagged(r, "UID FETCH (bodies)");
        }
        if (r.type == ResponseType::kUntagged && r.status == "BYE") {
          conn_->setStreamPredicate({});
          return statusFromServer(r, describe() + " session");
        }
        break;
      }
      default:
        break;
    }
  }
}

Result<access::Folder> ImapAccount::createFolder(const std::vector<std::string>& path) {
  MF_ASSIGN_OR_RETURN(std::string wire, wireNameFor(path));
  access::Folder folder = folderFromWire(wire, separator_);
  folder.path = path;
  if (wire == "INBOX") return folder;
  CommandBuilder cmd(conn_->nextTag(), "CREATE", conn_->literalPlus());
  cmd.astring(wire);
  MF_ASSIGN_OR_RETURN(Response done, conn_->execute(cmd));
  if (done.isOk()) return folder;
  if (done.code == "ALREADYEXISTS" || (done.status == "NO" && contains(done.text, "already exists"))) {
    return Status(Errc::kAlreadyExists, "folder " + quoteForMessage(folder.displayName()) +
                                            " already exists on " + describe());
  }
  return Status(Errc::kServerNo, ErrorClass::kDestinationLimit,
                "cannot create folder " + quoteForMessage(folder.displayName()) + " on " +
                    describe() + ": " + Connection::statusFromTagged(done, "CREATE").message());
}

Status ImapAccount::subscribe(const access::Folder& folder) {
  CommandBuilder cmd(conn_->nextTag(), "SUBSCRIBE", conn_->literalPlus());
  cmd.astring(folder.wireName);
  MF_ASSIGN_OR_RETURN(Response done, conn_->execute(cmd));
  return Connection::statusFromTagged(done, "SUBSCRIBE " + folder.displayName());
}

Result<access::DestinationFolderInfo> ImapAccount::openForAppend(const access::Folder& folder) {
  access::DestinationFolderInfo info;
  auto opened = openFolder(folder, /*readOnly=*/false, &info);
  if (!opened) return opened.status();
  return info;
}

Status ImapAccount::beginAppend(const access::AppendRequest& request) {
  return appends_->begin(request);
}
Status ImapAccount::appendData(std::string_view chunk) { return appends_->data(chunk); }
Status ImapAccount::endAppend() { return appends_->end(); }
Result<std::vector<access::AppendResult>> ImapAccount::collect(bool wait) {
  return appends_->collect(wait);
}

Result<std::vector<uint32_t>> ImapAccount::searchMessageId(std::string_view messageId) {
  CommandBuilder cmd(conn_->nextTag(), "UID SEARCH", conn_->literalPlus());
  cmd.atom("HEADER").atom("Message-ID").quotedOrLiteral(messageId);
  std::vector<uint32_t> uids;
  MF_ASSIGN_OR_RETURN(Response done, conn_->execute(cmd, [&](Response& r) {
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
