// `mailferry verify`: compares every planned source folder with its destination folder. The
// messages are compared by what both servers hold, never by the state store's records, so it
// also checks what another tool copied. Which destination folder a source folder is compared
// with, in order:
//  1. with VerifyOptions::records (migrate's state file, read only): the folder earlier
//     migrate runs filled, when they recorded another name than the plan gives and that
//     folder exists (the --map rules changed since, or the destination refused the name or
//     held it in another case): where migrate goes on too (folder_plan.h earlierRunDestination);
//  2. the planned destination folder, if it exists;
//  3. where migrate puts a folder whose name the destination would not take (folder_naming.h
//     renamedDestinations: "Caret_Name" for "Caret^Name" on Gmail, "Name (2)"), the first that
//     exists.
// Each folder's report notes when 1 chose another folder than the plan, or when the recorded
// folder is gone.
// A source folder that shows all mail (folder_plan.h rule 5) is compared for what no other
// source folder holds, as migrate copies it; when its destination folder shows all mail too
// (Gmail's \All), that side is compared for what no other destination folder holds.
//
// Matching: by default messages are paired by (Message-ID, size); with deep, by the SHA-256
// of the full content (every byte of both sides is fetched). Paired messages must carry the
// same flags and keywords (\Recent ignored; \Deleted ignored unless includeDeleted) and the
// same internal date (compared as instants), unless the source has no date for the message
// (a POP3 message without Received or Date: counted in sourceUndated instead). Unpaired source
// messages are "missing", unpaired destination messages "extra". Source messages flagged \Deleted
// are not expected on the destination unless includeDeleted.
//
// Memory: both sides of a folder are held as compact entries (folder_comparison.h, 40 bytes a
// message); a folder bigger than VerifyOptions::listingWindow (by STATUS) is listed a window
// at a time, and the report's lines come from listing again only the messages that differ.
#pragma once

#include <string>
#include <vector>

#include "access/mail_access.h"
#include "store/state_store.h"
#include "sync/folder_plan.h"

namespace mf::sync {

struct VerifyOptions {
  PlanOptions plan;
  bool deep = false;
  bool includeDeleted = false;
  // Folders with more messages are listed (and with deep, read) a window at a time. Smaller
  // than migrate's: both sides' windows are held at once (about 500 bytes a listed message),
  // and a window costs verify only one round trip more.
  size_t listingWindow = 5000;
  // Migrate's records of this mailbox pair, read only (null: plan by the rules alone).
  store::Store* records = nullptr;
  std::string mailboxKey;
};

struct FolderVerification {
  std::string source;
  std::string destination;
  uint64_t sourceMessages = 0;  // expected on the destination
  uint64_t destinationMessages = 0;
  std::vector<std::string> missing;  // one line per message
  std::vector<std::string> extra;
  std::vector<std::string> flagDifferences;
  std::vector<std::string> dateDifferences;
  // Paired messages whose source has no date (MessageMeta::dateAssumed): their internal
  // dates are not compared; not a difference.
  uint64_t sourceUndated = 0;
  std::vector<std::string> notes;  // why this destination folder (see the header)
  std::string error;

  bool identical() const {
    return error.empty() && missing.empty() && extra.empty() && flagDifferences.empty() &&
           dateDifferences.empty() && sourceMessages == destinationMessages;
  }
};

struct VerifyReport {
  std::vector<FolderVerification> folders;
  bool deep = false;
  bool identical() const;
};

Result<VerifyReport> verifyMailbox(access::MailSource& source, access::MailDestination& destination,
                                   access::MailSource& destinationReader,
                                   const VerifyOptions& options);

}  // namespace mf::sync
