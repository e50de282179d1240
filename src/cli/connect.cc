#include "cli/connect.h"

#include <algorithm>
#include <cstdio>
#include <future>
#include <optional>

#include "cli/exit_codes.h"
#include "cli/pop3_source.h"
#include "probe/probe.h"
#include "probe/server_kind.h"

namespace mf::cli {
namespace {

// Failures that say "these settings do not reach a mail server we can use" rather than
// "the server refused the login": only these are worth probing other ports for. An untrusted
// certificate is not one of them: every port of the server shows the same certificate, so
// probing could only end at a port without encryption; the error's advice (--ca-file) is the
// way out.
bool connectionLevel(const Status& s) {
  if (s.code() == Errc::kTls && s.message().find("certificate") != std::string::npos) {
    return false;
  }
  switch (s.code()) {
    case Errc::kDns:
    case Errc::kRefused:
    case Errc::kUnreachable:
    case Errc::kTimeout:
    case Errc::kTls:
    case Errc::kClosed:
    case Errc::kIo:
    case Errc::kProtocol:
    case Errc::kPlaintextRefused:
      return true;
    default:
      return false;
  }
}

int exitCodeOf(const Status& s) {
  return s.code() == Errc::kUsage || s.code() == Errc::kConfig ? kExitUsage : kExitConnection;
}

void printFailure(const ResolvedSide& side, const Status& s) {
  std::fprintf(stderr, "mailferry: %s %s: %s\n", side.what(),
               side.account.connect.endpoint.toUrl().c_str(), s.message().c_str());
}

// "imap://alice@host:143 with STARTTLS"
std::string settingsText(const net::Endpoint& e) {
  switch (e.security) {
    case net::Security::kTls:
      return e.toUrl() + " (TLS)";
    case net::Security::kStartTls:
      return e.toUrl() + " with " + probe::securityLabel(e);
    case net::Security::kNone:
      break;
  }
  return e.toUrl() + " without encryption (--allow-plaintext)";
}

Millis atMost(Millis value, Millis cap) {
  return std::min(value, cap);
}

// The first sentence of an error message (what failed, without the advice after it).
std::string firstSentence(const std::string& text) {
  size_t end = text.find(". ");
  std::string out = text.substr(0, end);
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

// Opens one side with `open`. On a connection-level failure, probes and, when other settings
// work, opens those and records a notice. `server` receives what the probe recognised.
// `tried`: the outcome of an attempt with the given settings already made (not repeated: a
// wrong password is never sent twice).
bool openWithProbing(ResolvedSide& side, Ends& ends,
                     const std::function<Status(const imap::AccountOptions&)>& open,
                     probe::ServerKind& server, int& exitCode,
                     std::optional<Status> tried = std::nullopt) {
  Status first = tried ? *tried : open(side.account);
  if (first) return true;
  if (!connectionLevel(first)) {
    printFailure(side, first);
    exitCode = exitCodeOf(first);
    return false;
  }
  const net::Endpoint given = side.account.connect.endpoint;
  std::fprintf(stderr, "mailferry: %s %s: %s; trying the other ports and security modes of %s\n",
               side.what(), given.toUrl().c_str(), firstSentence(first.message()).c_str(),
               given.host.c_str());
  probe::ProbeOptions po;
  po.ports = ends.probePorts;
  po.tls = side.account.connect.tls;
  po.allowPlaintext = side.account.connect.allowPlaintext;
  const Timeouts& t = side.account.connect.timeouts;
  const Millis cap(10'000);
  po.timeouts = Timeouts{atMost(t.connect, cap), atMost(t.greeting, cap), atMost(t.read, cap)};
  probe::ProbeResult result = probe::probeEndpoint(given, po);
  const net::Endpoint* chosen = result.chosenEndpoint();
  if (chosen == nullptr || result.givenWorked()) {
    // Nothing else works, or the given settings do (then the failure was not about them).
    if (chosen == nullptr) {
      for (const auto& a : result.attempts) {
        std::fprintf(stderr, "  %s: %s%s%s\n", probe::describeEndpoint(a.endpoint).c_str(),
                     probe::outcomeName(a.outcome), a.detail.empty() ? "" : " - ",
                     a.detail.c_str());
      }
      std::string advice = probe::recommendation(result);
      std::fprintf(stderr, "mailferry: %s: %s\n", side.what(), advice.c_str());
    }
    printFailure(side, first);
    exitCode = exitCodeOf(first);
    return false;
  }
  net::Endpoint use = *chosen;
  use.user = given.user;
  const probe::ProbeAttempt& failed = result.attempts.front();
  std::string why =
      firstSentence(failed.detail.empty() ? probe::outcomeName(failed.outcome) : failed.detail);
  Notice notice;
  notice.kind = "settings";
  notice.side = side.what();
  notice.url = use.toUrl();
  notice.text = std::string(side.what()) + ": " + given.toUrl() + " failed (" + why + "); " +
                settingsText(use) + " works - using it. Save these settings: pass --" + side.side +
                " " + use.toUrl() + " next time";
  printNotice(notice);
  ends.notices.push_back(notice);
  side.account.connect.endpoint = use;
  server = result.server;
  Status again = open(side.account);
  if (!again) {
    printFailure(side, again);
    exitCode = exitCodeOf(again);
    return false;
  }
  return true;
}

std::vector<std::string> capabilityList(const imap::Connection& conn) {
  return {conn.capabilities().begin(), conn.capabilities().end()};
}

}  // namespace

std::string mailboxKeyOf(const imap::AccountOptions& from, const imap::AccountOptions& to) {
  // Host and user only: switching between imaps:// and imap:// or another port must not
  // lose the state of a mailbox.
  return from.user + "@" + from.connect.endpoint.host + " -> " + to.user + "@" +
         to.connect.endpoint.host;
}

std::unique_ptr<Ends> resolveEnds(const EndpointOptions& options, int& exitCode) {
  auto ends = std::make_unique<Ends>();
  auto ports = options.probePortList();
  if (!ports) {
    std::fprintf(stderr, "mailferry: %s\n", ports.status().message().c_str());
    exitCode = kExitUsage;
    return nullptr;
  }
  ends->probePorts = std::move(ports).value();
  // Every option of both sides is checked before a password is read or asked for.
  for (bool secrets : {false, true}) {
    for (auto [side, out] :
         {std::pair<const char*, ResolvedSide*>{"from", &ends->from}, {"to", &ends->to}}) {
      auto resolved = options.resolve(side, secrets);
      if (!resolved) {
        std::fprintf(stderr, "mailferry: %s\n", resolved.status().message().c_str());
        exitCode = kExitUsage;
        return nullptr;
      }
      *out = std::move(resolved).value();
    }
  }
  ends->mailboxKey = mailboxKeyOf(ends->from.account, ends->to.account);
  return ends;
}

Result<std::unique_ptr<access::MailSource>> Ends::reopenSource() {
  if (from.isPop3()) {
    return openPop3Source(from.account, sourceUids, [this](const std::string& text) {
      if (onSourceNotice) onSourceNotice(text);
    });
  }
  MF_ASSIGN_OR_RETURN(auto account, imap::ImapAccount::open(from.account));
  return std::unique_ptr<access::MailSource>(std::move(account));
}

Result<std::unique_ptr<imap::ImapAccount>> Ends::reopenDestination() const {
  return imap::ImapAccount::open(to.account);
}

namespace {
// Whether COMPRESS=DEFLATE is on is worth one line: it changes what the link and both CPUs do.
void noteCompression(Ends& ends, const ResolvedSide& side, const imap::Connection& conn) {
  if (!conn.compressed()) return;
  Notice n{"compression", side.what(),
           std::string(side.what()) +
               ": compressed with COMPRESS=DEFLATE (RFC 4978; --compress no "
               "turns it off)",
           ""};
  printNotice(n);
  ends.notices.push_back(std::move(n));
}
}  // namespace

bool openEnds(Ends& ends, const EndpointOptions& options, int& exitCode) {
  if (options.insecure) {
    std::fprintf(stderr, "mailferry: warning: TLS certificates are NOT verified (--insecure)\n");
  }
  for (const ResolvedSide* side : {&ends.from, &ends.to}) {
    for (const auto& text : side->notices) {
      Notice n{"preset", side->what(), text, ""};
      printNotice(n);
      ends.notices.push_back(std::move(n));
    }
  }

  probe::ServerKind server = probe::ServerKind::kOther;
  std::string greeting;
  std::vector<std::string> capabilities;
  auto openSource = [&](const imap::AccountOptions& options) -> Status {
    if (ends.from.isPop3()) {
      pop3::Pop3Account* account = nullptr;
      auto opened = openPop3Source(
          options, ends.sourceUids,
          [e = &ends](const std::string& text) {
            if (e->onSourceNotice) e->onSourceNotice(text);
          },
          &account);
      if (!opened) return opened.status();
      greeting = account->connection().greeting();
      ends.source = std::move(opened).value();
      return Status::ok();
    }
    auto opened = imap::ImapAccount::open(options);
    if (!opened) return opened.status();
    greeting = (*opened)->connection().greeting();
    capabilities = capabilityList((*opened)->connection());
    noteCompression(ends, ends.from, (*opened)->connection());
    ends.source = std::move(opened).value();
    return Status::ok();
  };

  // The destination's first attempt runs while the source opens: two logins at the same
  // time instead of one after the other (over a real network each is several round trips and
  // a TLS handshake). It touches nothing shared; its outcome is taken in below, after the
  // source's, so notices and errors come in the same order as before. When the source
  // fails, the destination's connection is simply closed.
  auto destinationFirst = std::async(
      std::launch::async, [options = ends.to.account] { return imap::ImapAccount::open(options); });
  if (!openWithProbing(ends.from, ends, openSource, server, exitCode)) return false;

  // Gmail and Exchange hold more than mail (SPEC.md section 3): say so once, up front.
  probe::ServerKind seen = probe::detectServer(greeting, capabilities, {});
  if (seen == probe::ServerKind::kOther) seen = server;
  if (std::string text = probe::nonMailNotice(seen); !text.empty()) {
    Notice n{"server", "source", "source: " + text, ""};
    printNotice(n);
    ends.notices.push_back(std::move(n));
  }

  probe::ServerKind ignored = probe::ServerKind::kOther;
  auto adoptDestination = [&](std::unique_ptr<imap::ImapAccount> account) {
    noteCompression(ends, ends.to, account->connection());
    ends.destination = std::move(account);
  };
  auto openDestination = [&](const imap::AccountOptions& options) -> Status {
    auto opened = imap::ImapAccount::open(options);
    if (!opened) return opened.status();
    adoptDestination(std::move(opened).value());
    return Status::ok();
  };
  auto first = destinationFirst.get();
  if (first) {
    adoptDestination(std::move(first).value());
    return true;
  }
  return openWithProbing(ends.to, ends, openDestination, ignored, exitCode, first.status());
}

}  // namespace mf::cli
