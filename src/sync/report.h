// What a migration or verification run reports: per-folder counts, failures with their
// error code, class and remedy, and the progress events the CLI renders.
//
// Invariant (checked by tests): for every folder, seen == copied + alreadyCopied +
// skippedDeleted + skippedVanished + failed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace mf::sync {

struct MessageFailure {
  uint32_t sourceUid = 0;
  std::string code;        // stable: errcName(), e.g. "server_no"
  std::string errorClass;  // errorClassName()
  std::string text;        // what happened and what to do
};

struct FolderReport {
  std::string source;
  std::string destination;
  uint64_t seen = 0;  // messages looked at in this run
  uint64_t copied = 0;
  uint64_t alreadyCopied = 0;    // copied by an earlier run (found in the state)
  uint64_t skippedDeleted = 0;   // \Deleted on the source, without --include-deleted
  uint64_t skippedVanished = 0;  // expunged on the source while we ran
  uint64_t failed = 0;
  uint64_t bytes = 0;            // bytes copied
  uint64_t plannedMessages = 0;  // to copy in this run (what --dry-run prints)
  uint64_t plannedBytes = 0;
  bool willCreate = false;  // destination folder does not exist yet
  double seconds = 0;
  bool upToDate = false;  // nothing new since the last run (checked without listing)
  std::vector<std::string> notes;
  std::vector<MessageFailure> failures;
  std::string error;  // the folder as a whole failed (e.g. cannot be created)
  std::string errorCode;
  bool errorRetryable = false;  // a reconnect may cure it (dropped connection, throttling)
  int64_t retryAfterMs = -1;    // the server's requested wait, -1 if it gave none
  uint32_t attempts = 1;        // connections used for this folder (1 + reconnects)
};

struct MigrationReport {
  std::vector<FolderReport> folders;
  std::vector<std::string> excluded;
  std::vector<std::string> notices;
  bool dryRun = false;
  double seconds = 0;

  uint64_t totalCopied() const;
  uint64_t totalFailed() const;    // messages failed
  uint64_t foldersFailed() const;  // folders with error set
  uint64_t totalBytes() const;
};

// Receives progress as the engine works. Called on the engine's thread.
class ProgressSink {
 public:
  virtual ~ProgressSink() = default;
  // Estimated messages to look at in total (from STATUS), before copying starts.
  virtual void onStart(uint64_t estimatedMessages) { (void)estimatedMessages; }
  virtual void onFolderStart(const std::string& source, const std::string& destination,
                             uint64_t toCopy, uint64_t bytesToCopy) {
    (void)source, (void)destination, (void)toCopy, (void)bytesToCopy;
  }
  // One message handled (copied: bytes > 0; skipped or failed: bytes == 0).
  virtual void onMessage(uint64_t bytes, bool ok) { (void)bytes, (void)ok; }
  virtual void onFolderDone(const FolderReport& report) { (void)report; }
  virtual void onNotice(const std::string& text) { (void)text; }
};

}  // namespace mf::sync
