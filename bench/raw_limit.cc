// bench/raw_limit: the fastest a client could possibly copy a mailbox between two IMAP servers,
// the yardstick bench/run prints mailferry's time against ("the raw streaming limit").
//
// It has no state and makes no checks beyond the servers' answers: per source folder it
// EXAMINEs the folder, CREATEs (and by default SELECTs) the same name on the destination, sends
// one `UID FETCH 1:* (UID FLAGS INTERNALDATE BODY.PEEK[])` and streams every body, as the
// source's literal arrives, into MULTIAPPEND batches on the destination (RFC 3502):
//   R7 APPEND box (flags) "date" {n+}\r\n<n bytes> (flags) "date" {n+}\r\n<n bytes> ...\r\n
// with LITERAL+ (RFC 7888), so nothing waits for a continuation; a batch ends at
// --batch-messages messages or --batch-bytes bytes, and up to --window batches are in flight.
//
// FLAGS and INTERNALDATE must be known before a message's literal header can be written.
// Dovecot sends UID, FLAGS and INTERNALDATE before BODY[] whatever order they are asked in
// (checked by bench/run's smoke test); for a server that puts them after the body, --meta-first
// fetches `(UID FLAGS INTERNALDATE)` of the folder first and looks them up by UID.
//
// Usage: raw_limit --from HOST:PORT --to HOST:PORT --user USER [--to-user USER]
//                  [--tls --ca-file FILE] [--batch-messages N] [--batch-bytes B] [--window W]
//                  [--no-select] [--meta-first] [--json]
// Passwords: $MAILFERRY_FROM_PASSWORD and $MAILFERRY_TO_PASSWORD (never argv), as for mailferry.
// Output: one summary line (or JSON object) on stdout; exit 0 on success, 1 on any failure.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bench/raw_session.h"
#include "imap/wire/command_builder.h"
#include "imap/wire/response.h"

namespace mf::bench {
namespace {

struct Options {
  std::string fromHost, toHost, user, toUser, caFile;
  uint16_t fromPort = 0, toPort = 0;
  bool tls = false, select = true, metaFirst = false, json = false;
  size_t batchMessages = 500;
  uint64_t batchBytes = 32ull << 20;
  size_t window = 8;
};

struct Totals {
  uint64_t folders = 0, messages = 0, bytes = 0;
};

struct Meta {
  std::vector<std::string> flags;
  std::string date;
};

bool startsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

// UID, FLAGS (without the session flag \Recent, which APPEND cannot set) and INTERNALDATE of a
// FETCH response, complete or still streaming.
std::optional<uint64_t> readMeta(const imap::Response& r, Meta* meta) {
  std::optional<uint64_t> uid;
  for (const auto& v : r.values) {
    if (v.kind != imap::Value::Kind::kList) continue;
    if (const auto* u = imap::fetchItem(v, "UID"); u && u->kind == imap::Value::Kind::kNumber) {
      uid = u->number;
    }
    if (meta == nullptr) continue;
    if (const auto* f = imap::fetchItem(v, "FLAGS")) {
      meta->flags.clear();
      for (const auto& flag : f->items) {
        if (!flag.isAtom("\\RECENT")) meta->flags.push_back(flag.text);
      }
    }
    if (const auto* d = imap::fetchItem(v, "INTERNALDATE")) meta->date = d->text;
  }
  return uid;
}

// Copies one folder; see the file comment for the wire flow.
class FolderCopy {
 public:
  FolderCopy(const Options& o, RawSession& src, RawSession& dst, std::string wire)
      : o_(o), src_(src), dst_(dst), wire_(std::move(wire)) {}

  Status run(Totals& totals) {
    imap::CommandBuilder examine(src_.nextTag(), "EXAMINE");
    examine.astring(wire_);
    MF_RETURN_IF_ERROR(src_.run(examine).status());
    if (wire_ != "INBOX") {
      imap::CommandBuilder create(dst_.nextTag(), "CREATE", true);
      create.astring(wire_);
      auto created = dst_.run(create);
      if (!created && created.status().message().find("ALREADYEXISTS") == std::string::npos) {
        return created.status();
      }
    }
    if (o_.select) {
      // Dovecot saves into the selected folder faster than into another one.
      imap::CommandBuilder select(dst_.nextTag(), "SELECT");
      select.astring(wire_);
      MF_RETURN_IF_ERROR(dst_.run(select).status());
    }
    if (o_.metaFirst) MF_RETURN_IF_ERROR(fetchMeta());
    MF_RETURN_IF_ERROR(stream(totals));
    totals.folders++;
    return Status::ok();
  }

 private:
  Status fetchMeta() {
    imap::CommandBuilder fetch(src_.nextTag(), "UID FETCH");
    fetch.atom("1:*").raw("(UID FLAGS INTERNALDATE)");
    return src_
        .run(fetch,
             [&](imap::Response& r) {
               Meta m;
               if (auto uid = readMeta(r, &m)) meta_[*uid] = std::move(m);
             })
        .status();
  }

  Status stream(Totals& totals) {
    src_.parser().setStreamPredicate([](const imap::Response&, std::string_view key, uint64_t) {
      return startsWithNoCase(key, "BODY[");
    });
    std::string tag = src_.nextTag();
    imap::CommandBuilder fetch(tag, "UID FETCH");
    fetch.atom("1:*").raw("(UID FLAGS INTERNALDATE BODY.PEEK[])");
    for (const auto& seg : fetch.build()) MF_RETURN_IF_ERROR(src_.write(seg.bytes));
    auto flushHook = [this]() { return flush(); };
    Status result;
    for (;;) {
      auto ev = src_.next(flushHook);
      if (!ev) {
        result = ev.status();
        break;
      }
      if (ev->kind == imap::ParseEvent::kLiteralBegin) {
        result = beginMessage(ev->size);
        if (!result) break;
        totals.messages++;
        totals.bytes += ev->size;
      } else if (ev->kind == imap::ParseEvent::kLiteralData) {
        result = body(ev->data);
        if (!result) break;
      } else if (ev->kind == imap::ParseEvent::kLiteralEnd) {
        result = drainReplies(/*block=*/false);
        if (!result) break;
      } else if (ev->kind == imap::ParseEvent::kResponse) {
        imap::Response r = src_.parser().takeResponse();
        if (r.type == imap::ResponseType::kTagged && r.tag == tag) {
          if (r.status != "OK") {
            result = Status(Errc::kServerNo,
                            src_.name() + ": UID FETCH of '" + wire_ + "': " + describeAnswer(r));
          }
          break;
        }
      }
    }
    src_.parser().setStreamPredicate({});
    if (!result) return result;
    if (batchCount_ > 0) endBatch();
    MF_RETURN_IF_ERROR(flush());
    while (!inFlight_.empty()) MF_RETURN_IF_ERROR(drainReplies(/*block=*/true));
    return Status::ok();
  }

  Status beginMessage(uint64_t size) {
    Meta meta;
    auto uid = readMeta(src_.parser().partial(), o_.metaFirst ? nullptr : &meta);
    if (o_.metaFirst) {
      auto it = uid ? meta_.find(*uid) : meta_.end();
      if (it == meta_.end()) return Status(Errc::kProtocol, "a body without known UID");
      meta = it->second;
    } else if (meta.date.empty()) {
      return Status(Errc::kProtocol, src_.name() +
                                         " sent BODY[] before INTERNALDATE; "
                                         "run raw_limit with --meta-first");
    }
    if (batchCount_ > 0 &&
        (batchCount_ >= o_.batchMessages || batchBytes_ + size > o_.batchBytes)) {
      endBatch();
    }
    if (batchCount_ == 0) {
      while (inFlight_.size() >= o_.window) {
        MF_RETURN_IF_ERROR(flush());
        MF_RETURN_IF_ERROR(drainReplies(/*block=*/true));
      }
      std::string tag = dst_.nextTag();
      inFlight_.push_back(tag);
      builder_.emplace(tag, "APPEND", /*literalPlus=*/true);
      builder_->astring(wire_);
    }
    builder_->flagList(meta.flags);
    builder_->quotedOrLiteral(meta.date);
    builder_->literalHeader(size);
    for (const auto& seg : builder_->takeSegments()) out_ += seg.bytes;
    batchCount_++;
    batchBytes_ += size;
    return Status::ok();
  }

  void endBatch() {
    for (const auto& seg : builder_->build()) out_ += seg.bytes;
    builder_.reset();
    batchCount_ = 0;
    batchBytes_ = 0;
  }

  Status body(std::string_view data) {
    constexpr size_t kCoalesce = 128 * 1024;
    if (out_.size() + data.size() <= kCoalesce) {
      out_.append(data);
      return Status::ok();
    }
    MF_RETURN_IF_ERROR(flush());
    return dst_.write(data);
  }

  Status flush() {
    if (out_.empty()) return Status::ok();
    Status s = dst_.write(out_);
    out_.clear();
    return s;
  }

  // Reads destination answers: all that are there (block=false), or at least one.
  Status drainReplies(bool block) {
    for (;;) {
      if (!block) {
        MF_ASSIGN_OR_RETURN(bool now, dst_.readable());
        if (!now) return Status::ok();
      }
      MF_ASSIGN_OR_RETURN(imap::ParseEvent ev, dst_.next());
      if (ev.kind != imap::ParseEvent::kResponse) continue;
      imap::Response r = dst_.parser().takeResponse();
      if (r.type == imap::ResponseType::kUntagged && r.status == "BYE") {
        return Status(Errc::kClosed, dst_.name() + " closed the session: " + describeAnswer(r));
      }
      if (r.type != imap::ResponseType::kTagged) continue;
      if (inFlight_.empty() || r.tag != inFlight_.front()) {
        return Status(Errc::kProtocol, dst_.name() + " answered unknown tag " + r.tag);
      }
      inFlight_.erase(inFlight_.begin());
      if (r.status != "OK") {
        return Status(Errc::kServerNo,
                      dst_.name() + ": APPEND to '" + wire_ + "' failed: " + describeAnswer(r));
      }
      if (block) return Status::ok();
    }
  }

  const Options& o_;
  RawSession& src_;
  RawSession& dst_;
  std::string wire_;
  std::map<uint64_t, Meta> meta_;
  std::optional<imap::CommandBuilder> builder_;
  size_t batchCount_ = 0;
  uint64_t batchBytes_ = 0;
  std::vector<std::string> inFlight_;
  std::string out_;
};

// Selectable folders of the source, by wire name, sorted so parents come before children.
Result<std::vector<std::string>> listFolders(RawSession& src) {
  std::vector<std::string> names;
  imap::CommandBuilder list(src.nextTag(), "LIST");
  list.quotedOrLiteral("").quotedOrLiteral("*");
  auto done = src.run(list, [&](imap::Response& r) {
    if (r.name != "LIST" || r.values.size() < 3) return;
    for (const auto& attr : r.values[0].items) {
      if (attr.isAtom("\\NOSELECT") || attr.isAtom("\\NONEXISTENT")) return;
    }
    names.push_back(r.values[2].text);
  });
  if (!done) return done.status();
  std::sort(names.begin(), names.end());
  return names;
}

bool splitHostPort(const std::string& s, std::string* host, uint16_t* port) {
  size_t colon = s.rfind(':');
  if (colon == std::string::npos) return false;
  *host = s.substr(0, colon);
  int p = std::atoi(s.c_str() + colon + 1);
  if (p <= 0 || p > 65535) return false;
  *port = static_cast<uint16_t>(p);
  return true;
}

int usage(const char* why) {
  std::fprintf(stderr,
               "raw_limit: %s\nusage: raw_limit --from HOST:PORT --to HOST:PORT --user USER "
               "[--to-user USER] [--tls --ca-file FILE] [--batch-messages N] [--batch-bytes B] "
               "[--window W] [--no-select] [--meta-first] [--json]\n"
               "passwords: $MAILFERRY_FROM_PASSWORD, $MAILFERRY_TO_PASSWORD\n",
               why);
  return 2;
}

int fail(const Status& s) {
  std::fprintf(stderr, "raw_limit: %s\n", s.message().c_str());
  return 1;
}

int runMain(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (a == "--tls")
      o.tls = true;
    else if (a == "--no-select")
      o.select = false;
    else if (a == "--meta-first")
      o.metaFirst = true;
    else if (a == "--json")
      o.json = true;
    else if ((a == "--from" || a == "--to") && (v = value())) {
      bool ok = a == "--from" ? splitHostPort(v, &o.fromHost, &o.fromPort)
                              : splitHostPort(v, &o.toHost, &o.toPort);
      if (!ok) return usage("expected HOST:PORT");
    } else if (a == "--user" && (v = value()))
      o.user = v;
    else if (a == "--to-user" && (v = value()))
      o.toUser = v;
    else if (a == "--ca-file" && (v = value()))
      o.caFile = v;
    else if (a == "--batch-messages" && (v = value()))
      o.batchMessages = std::strtoul(v, nullptr, 10);
    else if (a == "--batch-bytes" && (v = value()))
      o.batchBytes = std::strtoull(v, nullptr, 10);
    else if (a == "--window" && (v = value()))
      o.window = std::strtoul(v, nullptr, 10);
    else
      return usage(("unknown or incomplete option " + a).c_str());
  }
  if (o.fromHost.empty() || o.toHost.empty() || o.user.empty()) return usage("missing option");
  if (o.toUser.empty()) o.toUser = o.user;
  if (o.batchMessages == 0 || o.batchBytes == 0 || o.window == 0) return usage("zero limit");
  const char* fromPw = std::getenv("MAILFERRY_FROM_PASSWORD");
  const char* toPw = std::getenv("MAILFERRY_TO_PASSWORD");
  if (!fromPw || !toPw) return usage("set MAILFERRY_FROM_PASSWORD and MAILFERRY_TO_PASSWORD");

  std::optional<net::TlsOptions> tls;
  if (o.tls) tls = net::TlsOptions{true, o.caFile, ""};
  Timeouts timeouts;
  auto t0 = std::chrono::steady_clock::now();
  auto src = RawSession::open(o.fromHost, o.fromPort, tls, timeouts);
  if (!src) return fail(src.status());
  auto dst = RawSession::open(o.toHost, o.toPort, tls, timeouts);
  if (!dst) return fail(dst.status());
  if (Status s = (*src)->login(o.user, Secret(fromPw)); !s) return fail(s);
  if (Status s = (*dst)->login(o.toUser, Secret(toPw)); !s) return fail(s);
  if (!(*dst)->hasCapability("LITERAL+")) {
    return fail(Status(Errc::kProtocol, "the destination lacks LITERAL+"));
  }
  // Without MULTIAPPEND every batch holds one message (plain pipelined APPENDs).
  if (!(*dst)->hasCapability("MULTIAPPEND")) o.batchMessages = 1;

  auto folders = listFolders(**src);
  if (!folders) return fail(folders.status());
  Totals totals;
  for (const auto& wire : *folders) {
    FolderCopy copy(o, **src, **dst, wire);
    if (Status s = copy.run(totals); !s) return fail(s.withContext("folder '" + wire + "'"));
  }
  (*src)->logout();
  (*dst)->logout();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (o.json) {
    std::printf("{\"folders\": %llu, \"messages\": %llu, \"bytes\": %llu, \"seconds\": %.3f}\n",
                static_cast<unsigned long long>(totals.folders),
                static_cast<unsigned long long>(totals.messages),
                static_cast<unsigned long long>(totals.bytes), secs);
  } else {
    std::printf("raw_limit: %llu folders, %llu messages, %.1f MB in %.2f s (%.1f MB/s)\n",
                static_cast<unsigned long long>(totals.folders),
                static_cast<unsigned long long>(totals.messages), totals.bytes / 1e6, secs,
                totals.bytes / 1e6 / secs);
  }
  return 0;
}

}  // namespace
}  // namespace mf::bench

int main(int argc, char** argv) {
  return mf::bench::runMain(argc, argv);
}
