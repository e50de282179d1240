// Opening both ends of migrate and verify, with the errors and notices the user sees.
//
// Contract:
// - resolveEnds() turns the options into both sides' settings and the mailbox key (no
//   network). A usage problem is printed ("mailferry: --from: ...") with exit code 2.
// - openEnds() opens the source (IMAP, or POP3 with ends.sourceUids) and the destination.
//   Probing (SPEC.md section 1): when a side cannot be opened for a connection-level reason
//   (refused, timeout, unreachable, DNS, TLS handshake, a greeting that is not IMAP / POP3,
//   no encryption offered), the other port/security permutations of its protocol on the same
//   host are probed (probe/probe.h; --probe-ports replaces the standard ports). A usable one
//   (encrypted unless --allow-plaintext) is used for this run, and a notice names it and
//   tells the user to save it. A refused login is never a reason to probe, nor is an
//   untrusted certificate (the same on every port), nor a failure of settings the probe
//   finds working: then the original error is reported.
// - The source's server is recognised from its greeting and capabilities (and the probe's
//   ID answer); for Gmail and Exchange / Office 365 a notice says that contacts, calendars
//   and tasks do not travel over IMAP and need an export of their own.
// - Every notice is printed on stderr as it happens and kept in ends.notices.
// - On failure, prints "mailferry: source <url>: <what and what to do>" and sets `exitCode`
//   (3 for connection and login failures, 2 for usage).
// Threading: reopenSource() / reopenDestination() may be called from the engine's worker
// threads (each call opens a new connection; the POP3 UID allocator is shared and must then
// be used by one thread at a time, which holds for a POP3 source: it has one folder).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "access/uid_allocator.h"
#include "cli/endpoint_options.h"
#include "cli/notice.h"
#include "imap/client/imap_account.h"

namespace mf::cli {

struct Ends {
  ResolvedSide from;  // after openEnds(): the settings that worked
  ResolvedSide to;
  std::string mailboxKey;  // "alice@old.example -> alice@new.example"
  std::vector<uint16_t> probePorts;

  // Set before openEnds() when the source is POP3 (pop3_account.h): persistent for migrate,
  // in memory for verify.
  std::shared_ptr<access::UidAllocator> sourceUids;
  // Receives the POP3 source's notices (dates taken from "now", no UIDL...), on the thread
  // using the source. May be set or changed after openEnds(): it is looked up at each call.
  std::function<void(const std::string&)> onSourceNotice;

  std::unique_ptr<access::MailSource> source;  // opened by openEnds()
  std::unique_ptr<imap::ImapAccount> destination;
  std::vector<Notice> notices;

  // New connections with the settings that worked (reconnects after a drop).
  Result<std::unique_ptr<access::MailSource>> reopenSource();
  Result<std::unique_ptr<imap::ImapAccount>> reopenDestination() const;
};

std::unique_ptr<Ends> resolveEnds(const EndpointOptions& options, int& exitCode);
bool openEnds(Ends& ends, const EndpointOptions& options, int& exitCode);

// "alice@host -> bob@host2": user and host only, so switching between imaps:// and imap://
// or another port (or probing) keeps the state of a mailbox.
std::string mailboxKeyOf(const imap::AccountOptions& from, const imap::AccountOptions& to);

}  // namespace mf::cli
