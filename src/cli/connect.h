// Opening both ends of a command, with the errors the user sees when that fails.
#pragma once

#include <memory>
#include <string>

#include "cli/endpoint_options.h"
#include "imap/client/imap_account.h"

namespace mf::cli {

struct Ends {
  std::unique_ptr<imap::ImapAccount> source;
  std::unique_ptr<imap::ImapAccount> destination;
  std::string mailboxKey;  // "alice@old.example -> alice@new.example"
  // What was used to open them, to open them again after a dropped connection.
  imap::AccountOptions sourceOptions;
  imap::AccountOptions destinationOptions;
};

// On failure prints "mailferry: source: <what and what to do>" and returns the exit code
// through `exitCode`.
std::unique_ptr<Ends> openEnds(const EndpointOptions& options, int& exitCode);

// "imaps://alice@host:993" with the user actually used.
std::string mailboxKeyOf(const imap::AccountOptions& from, const imap::AccountOptions& to);

}  // namespace mf::cli
