#include "cli/connect.h"

#include <cstdio>

#include "cli/exit_codes.h"

namespace mf::cli {

std::string mailboxKeyOf(const imap::AccountOptions& from, const imap::AccountOptions& to) {
  // Host and user only: switching between imaps:// and imap:// or another port must not
  // lose the state of a mailbox.
  return from.user + "@" + from.connect.endpoint.host + " -> " + to.user + "@" +
         to.connect.endpoint.host;
}

std::unique_ptr<Ends> openEnds(const EndpointOptions& options, int& exitCode) {
  auto from = options.resolve("from");
  if (!from) {
    std::fprintf(stderr, "mailferry: %s\n", from.status().message().c_str());
    exitCode = kExitUsage;
    return nullptr;
  }
  auto to = options.resolve("to");
  if (!to) {
    std::fprintf(stderr, "mailferry: %s\n", to.status().message().c_str());
    exitCode = kExitUsage;
    return nullptr;
  }
  if (options.insecure) {
    std::fprintf(stderr, "mailferry: warning: TLS certificates are NOT verified (--insecure)\n");
  }
  auto ends = std::make_unique<Ends>();
  ends->mailboxKey = mailboxKeyOf(*from, *to);
  ends->sourceOptions = *from;
  ends->destinationOptions = *to;
  auto source = imap::ImapAccount::open(*from);
  if (!source) {
    std::fprintf(stderr, "mailferry: source %s: %s\n", from->connect.endpoint.toUrl().c_str(),
                 source.status().message().c_str());
    exitCode = source.status().code() == Errc::kUsage ? kExitUsage : kExitConnection;
    return nullptr;
  }
  ends->source = std::move(source).value();
  auto destination = imap::ImapAccount::open(*to);
  if (!destination) {
    std::fprintf(stderr, "mailferry: destination %s: %s\n", to->connect.endpoint.toUrl().c_str(),
                 destination.status().message().c_str());
    exitCode = destination.status().code() == Errc::kUsage ? kExitUsage : kExitConnection;
    return nullptr;
  }
  ends->destination = std::move(destination).value();
  return ends;
}

}  // namespace mf::cli
