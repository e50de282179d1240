#include "pop3/client/pop3_account.h"

#include <openssl/evp.h>

#include <algorithm>
#include <ctime>
#include <deque>

#include "base/ascii.h"
#include "base/checked_number.h"
#include "message/headers.h"

namespace mf::pop3 {
namespace {

// Receives the replies of pipelined RETR/TOP commands, one message at a time.
class Retrieval {
 public:
  virtual ~Retrieval() = default;
  virtual Status begin(uint32_t number) = 0;  // +OK: data follows
  virtual Status data(std::string_view chunk) = 0;
  virtual Status end(uint32_t number) = 0;
  virtual void refused(uint32_t number, const StatusLine& reply) = 0;  // -ERR
};

// "n rest" of a LIST or UIDL line (RFC 1939 section 5 and 7: scan listings).
bool splitScanLine(std::string_view line, uint32_t& number, std::string_view& rest) {
  size_t space = line.find(' ');
  if (space == std::string_view::npos) return false;
  auto n = parseU32(line.substr(0, space));
  if (!n || *n == 0) return false;
  rest = line.substr(space + 1);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  size_t end = rest.find(' ');
  if (end != std::string_view::npos) rest = rest.substr(0, end);  // tolerate trailing text
  if (rest.empty()) return false;
  number = *n;
  return true;
}

std::string hex(const unsigned char* bytes, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 0xf];
  }
  return out;
}

// SHA-256 of each message, for servers without UIDL.
class Hasher : public Retrieval {
 public:
  explicit Hasher(std::map<uint32_t, std::string>& out) : out_(out) {}
  ~Hasher() override { EVP_MD_CTX_free(ctx_); }
  Status begin(uint32_t) override {
    if (ctx_ == nullptr) ctx_ = EVP_MD_CTX_new();
    if (ctx_ == nullptr || EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1) {
      return Status(Errc::kInternal, "cannot start a SHA-256 digest (OpenSSL)");
    }
    return Status::ok();
  }
  Status data(std::string_view chunk) override {
    if (EVP_DigestUpdate(ctx_, chunk.data(), chunk.size()) != 1) {
      return Status(Errc::kInternal, "SHA-256 digest failed (OpenSSL)");
    }
    return Status::ok();
  }
  Status end(uint32_t number) override {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(ctx_, md, &len) != 1) {
      return Status(Errc::kInternal, "SHA-256 digest failed (OpenSSL)");
    }
    out_[number] = "sha256:" + hex(md, len);
    return Status::ok();
  }
  void refused(uint32_t, const StatusLine&) override {}

 private:
  std::map<uint32_t, std::string>& out_;
  EVP_MD_CTX* ctx_ = nullptr;
};

// Keeps the first `keep` bytes of each message: its header block.
class HeaderReader : public Retrieval {
 public:
  explicit HeaderReader(size_t keep) : keep_(keep) {}
  Status begin(uint32_t) override {
    header_.clear();
    return Status::ok();
  }
  Status data(std::string_view chunk) override {
    if (header_.size() < keep_) header_.append(chunk.substr(0, keep_ - header_.size()));
    return Status::ok();
  }
  Status end(uint32_t number) override {
    done_[number] = std::move(header_);
    header_.clear();
    return Status::ok();
  }
  void refused(uint32_t number, const StatusLine& reply) override {
    refusals_[number] = reply.words();
  }

  std::map<uint32_t, std::string> done_;
  std::map<uint32_t, std::string> refusals_;

 private:
  size_t keep_;
  std::string header_;
};

// Takes each body in whole into the spool, then hands it to the consumer with its size.
class BodyReader : public Retrieval {
 public:
  BodyReader(BodySpool& spool, access::BodyConsumer& consumer,
             const std::map<uint32_t, uint32_t>& uidOfNumber)
      : spool_(spool), consumer_(consumer), uidOfNumber_(uidOfNumber) {}
  Status begin(uint32_t) override {
    spool_.reset();
    return Status::ok();
  }
  Status data(std::string_view chunk) override { return spool_.append(chunk); }
  Status end(uint32_t number) override {
    const uint32_t uid = uidOfNumber_.at(number);
    sizes_[number] = spool_.size();
    MF_RETURN_IF_ERROR(consumer_.begin(uid, spool_.size()));
    MF_RETURN_IF_ERROR(spool_.replay([&](std::string_view c) { return consumer_.data(c); }));
    Status s = consumer_.end();
    spool_.reset();
    return s;
  }
  void refused(uint32_t number, const StatusLine& reply) override {
    refusals_[number] = reply.words();
  }

  std::map<uint32_t, uint64_t> sizes_;
  std::map<uint32_t, std::string> refusals_;

 private:
  BodySpool& spool_;
  access::BodyConsumer& consumer_;
  const std::map<uint32_t, uint32_t>& uidOfNumber_;
};

// RETR/TOP for `numbers`, pipelined up to the window when the server allows it (RFC 2449
// section 6.6: the client may send several commands without waiting). After an error from
// the sink no more commands are sent and the replies in flight are read and dropped, so the
// session stays in step; the first sink error is returned.
Status pipelined(Connection& conn, const std::vector<uint32_t>& numbers,
                 const std::function<Command(uint32_t)>& command, size_t window, Retrieval& sink) {
  if (!conn.hasCapability("PIPELINING")) window = 1;
  window = std::max<size_t>(window, 1);
  std::deque<uint32_t> inFlight;
  size_t next = 0;
  Status sinkError;
  bool ok = false;      // status of the reply being read
  bool inData = false;  // its data goes to the sink
  while (next < numbers.size() || !inFlight.empty()) {
    while (sinkError.isOk() && next < numbers.size() && inFlight.size() < window) {
      MF_RETURN_IF_ERROR(conn.send(command(numbers[next]), ReplyShape::kMultiLineData));
      inFlight.push_back(numbers[next++]);
    }
    if (inFlight.empty()) break;
    MF_ASSIGN_OR_RETURN(ReplyEvent ev, conn.readEvent());
    const uint32_t number = inFlight.front();
    switch (ev.kind) {
      case ReplyEvent::kStatus:
        ok = conn.status().isOk();
        inData = ok && sinkError.isOk();
        if (inData) {
          sinkError = sink.begin(number);
          inData = sinkError.isOk();
        }
        break;
      case ReplyEvent::kData:
        if (inData) {
          sinkError = sink.data(ev.data);
          inData = sinkError.isOk();
        }
        break;
      case ReplyEvent::kEnd:
        inFlight.pop_front();
        if (!sinkError.isOk()) break;
        if (ok && inData) {
          sinkError = sink.end(number);
        } else if (!ok) {
          sink.refused(number, conn.status());
        }
        inData = false;
        break;
      default:
        break;
    }
  }
  return sinkError;
}

Command numbered(const char* verb, uint32_t n) {
  Command c(verb);
  c.number(n);
  return c;
}

Command top0(uint32_t n) {
  Command c("TOP");
  c.number(n).number(0);
  return c;
}

bool isInbox(const access::Folder& folder) {
  return folder.path.size() == 1 && equalsIgnoreCase(folder.path[0], "INBOX");
}

}  // namespace

Pop3Account::Pop3Account(std::unique_ptr<Connection> conn, AccountOptions options)
    : conn_(std::move(conn)),
      options_(std::move(options)),
      spool_(options_.memoryBodyLimit, options_.tempDirectory) {}

Pop3Account::~Pop3Account() {
  if (conn_) conn_->close();
}

Result<std::unique_ptr<Pop3Account>> Pop3Account::open(AccountOptions options) {
  if (!options.uids) {
    return Status(Errc::kInternal, "Pop3Account needs a UidAllocator (AccountOptions::uids)");
  }
  MF_ASSIGN_OR_RETURN(auto conn, Connection::open(options.connect));
  MF_RETURN_IF_ERROR(conn->login(options.credentials));
  return std::unique_ptr<Pop3Account>(new Pop3Account(std::move(conn), std::move(options)));
}

std::string Pop3Account::describe() const {
  return conn_->describe();
}

int64_t Pop3Account::now() const {
  return options_.now ? options_.now() : static_cast<int64_t>(std::time(nullptr));
}

std::vector<std::string> Pop3Account::takeNotices() {
  return std::exchange(notices_, {});
}

void Pop3Account::notice(std::string text) {
  if (options_.onNotice) {
    options_.onNotice(text);
  } else {
    notices_.push_back(std::move(text));
  }
}

const Pop3Account::MessageInfo* Pop3Account::messageInfo(uint32_t uid) const {
  auto it = byUid_.find(uid);
  return it == byUid_.end() ? nullptr : &messages_[it->second];
}

Result<std::vector<access::Folder>> Pop3Account::listFolders() {
  access::Folder inbox;
  inbox.path = {"INBOX"};
  inbox.wireName = "INBOX";
  inbox.selectable = true;
  inbox.subscribed = true;
  return std::vector<access::Folder>{inbox};
}

Status Pop3Account::checkInbox(const access::Folder& folder) const {
  if (isInbox(folder)) return Status::ok();
  return Status(Errc::kNotFound, "folder '" + folder.displayName() + "' does not exist on " +
                                     describe() + ": POP3 has only the Inbox");
}

Result<access::FolderStatus> Pop3Account::stat() {
  MF_ASSIGN_OR_RETURN(StatusLine reply, conn_->simple(Command("STAT")));
  if (!reply.isOk()) {
    return Status(Errc::kServerNo, "STAT failed on " + describe() + ": " + reply.words());
  }
  // RFC 1939 section 5: "+OK nn mm" (count, octets).
  std::string_view text = reply.text;
  auto count = parseU32(text.substr(0, text.find(' ')));
  if (!count) {
    return Status(Errc::kProtocol,
                  describe() + " answered STAT without a message count: '" + reply.text + "'");
  }
  access::FolderStatus st;
  st.messages = *count;
  st.uidValidity = 1;  // constant: our UIDs come from the allocator and never change meaning
  st.uidNext = 0;      // unknown
  return st;
}

Result<access::FolderStatus> Pop3Account::folderStatus(const access::Folder& folder) {
  MF_RETURN_IF_ERROR(checkInbox(folder));
  return stat();
}

Result<access::FolderStatus> Pop3Account::openForRead(const access::Folder& folder) {
  MF_RETURN_IF_ERROR(checkInbox(folder));
  return stat();
}

// RETR, or with readWholeWithTop "TOP n <all lines>" (RFC 1939 section 7: the header, the
// blank line and the first n body lines, i.e. the whole message) where CAPA lists TOP.
Command Pop3Account::wholeMessage(uint32_t n) const {
  if (options_.readWholeWithTop && conn_->capaKnown() && conn_->hasCapability("TOP")) {
    Command c("TOP");
    c.number(n).number(kTopAllLines);
    return c;
  }
  return numbered("RETR", n);
}

Status Pop3Account::ensureListing() {
  if (listed_) return Status::ok();
  std::map<uint32_t, std::string> uidls;
  std::map<uint32_t, uint64_t> sizes;
  const std::string where = describe();

  // UIDL (RFC 1939 section 7), unless CAPA said there is none.
  hasUidl_ = !conn_->capaKnown() || conn_->hasCapability("UIDL");
  if (hasUidl_) {
    MF_ASSIGN_OR_RETURN(StatusLine reply,
                        conn_->listing(Command("UIDL"), [&](std::string_view line) -> Status {
                          uint32_t n = 0;
                          std::string_view id;
                          if (!splitScanLine(line, n, id)) {
                            return Status(Errc::kProtocol, where + " sent a malformed UIDL line");
                          }
                          uidls[n] = std::string(id);
                          return Status::ok();
                        }));
    hasUidl_ = reply.isOk();
  }
  MF_ASSIGN_OR_RETURN(
      StatusLine list, conn_->listing(Command("LIST"), [&](std::string_view line) -> Status {
        uint32_t n = 0;
        std::string_view size;
        auto bytes = splitScanLine(line, n, size) ? parseDecimal(size) : std::optional<uint64_t>();
        if (!bytes) {
          return Status(Errc::kProtocol, where + " sent a malformed LIST line");
        }
        sizes[n] = *bytes;
        return Status::ok();
      }));
  if (!list.isOk()) {
    return Status(Errc::kServerNo, "LIST failed on " + where + ": " + list.words());
  }

  messages_.clear();
  byUid_.clear();
  std::vector<uint32_t> needHash;
  for (const auto& [number, size] : sizes) {
    MessageInfo info;
    info.number = number;
    info.listSize = size;
    auto it = uidls.find(number);
    if (it != uidls.end()) {
      info.key = it->second;
    } else {
      needHash.push_back(number);
    }
    messages_.push_back(std::move(info));
  }
  if (!needHash.empty()) {
    notice(hasUidl_ ? where + " gave no UIDL for " + std::to_string(needHash.size()) +
                          " message(s); they are recognised by a SHA-256 of their content"
                    : where +
                          " has no UIDL: every message is downloaded on every run to recognise "
                          "the ones copied before by a SHA-256 of their content");
    std::map<uint32_t, std::string> hashes;
    Hasher hasher(hashes);
    MF_RETURN_IF_ERROR(pipelined(
        *conn_, needHash, [this](uint32_t n) { return wholeMessage(n); }, options_.pipelineWindow,
        hasher));
    for (auto& m : messages_) {
      if (!m.key.empty()) continue;
      auto h = hashes.find(m.number);
      if (h == hashes.end()) {
        return Status(Errc::kServerNo, ErrorClass::kSource,
                      where + " refused RETR " + std::to_string(m.number) +
                          ", so the message cannot be recognised without UIDL");
      }
      m.key = h->second;
    }
  }
  // Repeated keys (identical messages hashed, or a server repeating a UIDL): "#2", "#3"...
  std::map<std::string, int> seen;
  for (auto& m : messages_) {
    int count = ++seen[m.key];
    if (count > 1) m.key += "#" + std::to_string(count);
  }

  std::vector<std::string> keys;
  keys.reserve(messages_.size());
  for (const auto& m : messages_) keys.push_back(m.key);
  MF_ASSIGN_OR_RETURN(std::vector<uint32_t> uids, options_.uids->uidsFor(keys));
  if (uids.size() != keys.size()) {
    return Status(Errc::kInternal, "the UID allocator returned a wrong number of UIDs");
  }
  for (size_t i = 0; i < messages_.size(); ++i) {
    messages_[i].uid = uids[i];
    if (!byUid_.emplace(uids[i], i).second) {
      return Status(Errc::kInternal,
                    "the UID allocator gave UID " + std::to_string(uids[i]) + " to two messages");
    }
  }
  listed_ = true;
  return Status::ok();
}

Status Pop3Account::readHeaders(const std::vector<MessageInfo*>& todo) {
  if (todo.empty()) return Status::ok();
  std::vector<uint32_t> numbers;
  for (auto* m : todo) numbers.push_back(m->number);
  HeaderReader reader(options_.maxHeaderBytes);
  // TOP msg 0: the header and the blank line after it (RFC 1939 section 7). Without TOP
  // (CAPA says so, or the server refuses it) the message is RETR'd and cut.
  const bool top = !conn_->capaKnown() || conn_->hasCapability("TOP");
  if (top) {
    MF_RETURN_IF_ERROR(pipelined(*conn_, numbers, top0, options_.pipelineWindow, reader));
  }
  std::vector<uint32_t> again;
  for (uint32_t n : numbers) {
    if (!reader.done_.count(n)) again.push_back(n);
  }
  if (!again.empty()) {
    reader.refusals_.clear();
    MF_RETURN_IF_ERROR(pipelined(
        *conn_, again, [](uint32_t n) { return numbered("RETR", n); }, options_.pipelineWindow,
        reader));
  }
  const int64_t nowSeconds = now();
  for (auto* m : todo) {
    auto it = reader.done_.find(m->number);
    std::string_view header = it == reader.done_.end() ? std::string_view() : it->second;
    if (it == reader.done_.end()) {
      auto why = reader.refusals_.find(m->number);
      notice(describe() + " refused to send message " + std::to_string(m->number) + " (UIDL " +
             m->key + "): " + (why == reader.refusals_.end() ? std::string("?") : why->second));
    }
    m->messageId = message::headerField(header, "Message-ID");
    message::InternalDate date = message::internalDateFromHeader(header, nowSeconds);
    m->internalDate = date.imapDateTime;
    m->dateSource = date.source;
    m->headerRead = true;
    if (date.source == message::DateSource::kNow && it != reader.done_.end()) {
      notice("message " + std::to_string(m->number) + " (UID " + std::to_string(m->uid) + ") on " +
             describe() +
             " has no readable Received or Date header: its internal date is set "
             "to now, " +
             date.imapDateTime);
    }
  }
  return Status::ok();
}

Result<std::vector<access::MessageMeta>> Pop3Account::listMessages(uint32_t minUid) {
  return listMessagesBetween(minUid, UINT32_MAX, /*withMessageId=*/true);
}

Result<access::MailSource::ListingWindows> Pop3Account::planListingWindows(uint32_t minUid,
                                                                           size_t window) {
  MF_RETURN_IF_ERROR(ensureListing());
  std::vector<uint32_t> uids;
  uint64_t bytes = 0;
  for (const auto& m : messages_) {
    if (m.uid < minUid) continue;
    uids.push_back(m.uid);
    bytes += m.listSize;
  }
  return access::listingWindowsOf(std::move(uids), bytes, window);
}

Result<std::vector<access::MessageMeta>> Pop3Account::listMessagesBetween(uint32_t minUid,
                                                                          uint32_t maxUid, bool) {
  // The Message-ID comes with the header every listing reads anyway (the date is in it).
  MF_RETURN_IF_ERROR(ensureListing());
  std::vector<MessageInfo*> selected;
  for (auto& m : messages_) {
    if (m.uid >= minUid && m.uid <= maxUid) selected.push_back(&m);
  }
  std::sort(selected.begin(), selected.end(),
            [](const MessageInfo* a, const MessageInfo* b) { return a->uid < b->uid; });
  std::vector<MessageInfo*> todo;
  for (auto* m : selected) {
    if (!m->headerRead) todo.push_back(m);
  }
  MF_RETURN_IF_ERROR(readHeaders(todo));
  std::vector<access::MessageMeta> metas;
  metas.reserve(selected.size());
  for (const auto* m : selected) {
    access::MessageMeta meta;
    meta.uid = m->uid;
    meta.internalDate = m->internalDate;
    meta.size = m->listSize;
    meta.messageId = m->messageId;
    meta.dateAssumed = m->dateSource == message::DateSource::kNow;
    metas.push_back(std::move(meta));
  }
  return metas;
}

Status Pop3Account::fetchBodies(const std::vector<uint32_t>& uids, access::BodyConsumer& consumer) {
  if (uids.empty()) return Status::ok();
  MF_RETURN_IF_ERROR(ensureListing());
  std::map<uint32_t, uint32_t> uidOfNumber;
  for (uint32_t uid : uids) {
    auto it = byUid_.find(uid);
    if (it != byUid_.end()) uidOfNumber[messages_[it->second].number] = uid;
  }
  std::vector<uint32_t> numbers;  // ascending: the server's order
  for (const auto& [number, uid] : uidOfNumber) numbers.push_back(number);
  BodyReader reader(spool_, consumer, uidOfNumber);
  Status s = pipelined(
      *conn_, numbers, [this](uint32_t n) { return wholeMessage(n); }, options_.pipelineWindow,
      reader);
  spool_.reset();
  for (const auto& [number, size] : reader.sizes_) {
    auto it = byUid_.find(uidOfNumber[number]);
    if (it != byUid_.end()) messages_[it->second].bodySize = size;
  }
  for (const auto& [number, why] : reader.refusals_) {
    notice(describe() + " refused RETR " + std::to_string(number) + " (UID " +
           std::to_string(uidOfNumber[number]) + "): " + why);
  }
  return s;
}

}  // namespace mf::pop3
