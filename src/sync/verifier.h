// `mailferry verify`: compares every planned source folder with its destination folder,
// independently of the state store (so it also checks what another tool copied). A planned
// destination name that does not exist is looked for where migrate puts a folder whose name
// the destination would not take (folder_naming.h renamedDestinations: "Caret_Name" for
// "Caret^Name" on Gmail, "Name (2)"), the first that exists.
//
// Matching: by default messages are paired by (Message-ID, size); with deep, by the SHA-256
// of the full content (every byte of both sides is fetched). Paired messages must carry the
// same flags and keywords (\Recent ignored; \Deleted ignored unless includeDeleted) and the
// same internal date (compared as instants), unless the source has no date for the message
// (a POP3 message without Received or Date: counted in sourceUndated instead). Unpaired source
// messages are "missing", unpaired destination messages "extra". Source messages flagged \Deleted
// are not expected on the destination unless includeDeleted.
#pragma once

#include <string>
#include <vector>

#include "access/mail_access.h"
#include "sync/folder_plan.h"

namespace mf::sync {

struct VerifyOptions {
  PlanOptions plan;
  bool deep = false;
  bool includeDeleted = false;
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
