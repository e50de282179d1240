// `mailferry migrate`: copies one mailbox from --from to --to (see README.md).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli/commands.h"
#include "cli/connect.h"
#include "cli/connection_slots.h"
#include "cli/exit_codes.h"
#include "cli/folder_options.h"
#include "cli/notice.h"
#include "cli/preset_rules.h"
#include "cli/progress.h"
#include "cli/state_file.h"
#include "cli/text_width.h"
#include "store/crash_injection.h"
#include "store/state_store.h"
#include "sync/locked.h"
#include "sync/migrator.h"
#include "sync/store_uid_allocator.h"

namespace mf::cli {
namespace {

struct MigrateArgs {
  EndpointOptions endpoints;
  FolderOptions folders;
  std::string statePath;
  bool dryRun = false;
  bool includeDeleted = false;
  bool json = false;
  std::string progress = "auto";
  bool retryErrors = false;
  double maxMessageMegabytes = 0;
  uint32_t retries = 8;
  double retryBackoffSeconds = 1;
  size_t parallel = 4;
  bool inOrder = false;
  bool splitAlways = false;
  size_t batchMessages = 500;
  size_t listingWindow = 20000;
  double batchMegabytes = 64;
};

std::string human(uint64_t bytes) {
  char buf[32];
  if (bytes >= 1000000)
    std::snprintf(buf, sizeof buf, "%.1f MB", bytes / 1e6);
  else if (bytes >= 1000)
    std::snprintf(buf, sizeof buf, "%.1f KB", bytes / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  return buf;
}

nlohmann::json summaryJson(const sync::MigrationReport& r) {
  nlohmann::json folders = nlohmann::json::array();
  for (const auto& f : r.folders) {
    nlohmann::json failures = nlohmann::json::array();
    for (const auto& m : f.failures) {
      failures.push_back({{"source_uid", m.sourceUid},
                          {"code", m.code},
                          {"class", m.errorClass},
                          {"text", m.text}});
    }
    folders.push_back({{"source", f.source},
                       {"destination", f.destination},
                       {"seen", f.seen},
                       {"copied", f.copied},
                       {"already_copied", f.alreadyCopied},
                       {"skipped_deleted", f.skippedDeleted},
                       {"skipped_vanished", f.skippedVanished},
                       {"failed", f.failed},
                       {"bytes", f.bytes},
                       {"seconds", f.seconds},
                       {"up_to_date", f.upToDate},
                       {"planned_messages", f.plannedMessages},
                       {"planned_bytes", f.plannedBytes},
                       {"will_create", f.willCreate},
                       {"notes", f.notes},
                       {"failures", failures},
                       {"error", f.error},
                       {"error_code", f.errorCode}});
  }
  return {{"event", "summary"},        {"dry_run", r.dryRun},
          {"folders", folders},        {"excluded", r.excluded},
          {"notices", r.notices},      {"copied", r.totalCopied()},
          {"failed", r.totalFailed()}, {"folders_failed", r.foldersFailed()},
          {"bytes", r.totalBytes()},   {"seconds", r.seconds}};
}

void printSummary(const sync::MigrationReport& r) {
  if (r.dryRun) {
    std::printf("Dry run: nothing was changed. Plan:\n");
    std::printf("%-32s %-32s %10s %10s\n", "SOURCE FOLDER", "DESTINATION", "TO COPY", "BYTES");
    for (const auto& f : r.folders) {
      std::string dest = f.destination + (f.willCreate ? " (new)" : "");
      std::printf("%s %s %10llu %10s\n", padRight(f.source, 32).c_str(), padRight(dest, 32).c_str(),
                  static_cast<unsigned long long>(f.plannedMessages),
                  human(f.plannedBytes).c_str());
      for (const auto& n : f.notes) std::printf("    note: %s\n", n.c_str());
      if (!f.error.empty()) std::printf("    error: %s\n", f.error.c_str());
    }
  } else {
    std::printf("%-28s %-28s %7s %7s %7s %6s %10s %7s\n", "SOURCE FOLDER", "DESTINATION", "COPIED",
                "BEFORE", "SKIPPED", "FAILED", "BYTES", "TIME");
    for (const auto& f : r.folders) {
      std::printf("%s %s %7llu %7llu %7llu %6llu %10s %6.1fs\n", padRight(f.source, 28).c_str(),
                  padRight(f.destination, 28).c_str(), static_cast<unsigned long long>(f.copied),
                  static_cast<unsigned long long>(f.alreadyCopied),
                  static_cast<unsigned long long>(f.skippedDeleted + f.skippedVanished),
                  static_cast<unsigned long long>(f.failed), human(f.bytes).c_str(), f.seconds);
      for (const auto& n : f.notes) std::printf("    note: %s\n", n.c_str());
      for (const auto& m : f.failures) {
        std::printf("    failed: UID %u [%s, %s] %s\n", m.sourceUid, m.code.c_str(),
                    m.errorClass.c_str(), m.text.c_str());
      }
      if (!f.error.empty())
        std::printf("    folder error [%s]: %s\n", f.errorCode.c_str(), f.error.c_str());
    }
  }
  for (const auto& e : r.excluded) std::printf("excluded by rule: %s\n", e.c_str());
  for (const auto& n : r.notices) std::printf("notice: %s\n", n.c_str());
  std::printf("Total: %llu copied (%s), %llu failed, %llu folder(s) failed, %.1fs\n",
              static_cast<unsigned long long>(r.totalCopied()), human(r.totalBytes()).c_str(),
              static_cast<unsigned long long>(r.totalFailed()),
              static_cast<unsigned long long>(r.foldersFailed()), r.seconds);
}

}  // namespace

std::function<int()> addMigrateCommand(CLI::App& app) {
  auto args = std::make_shared<MigrateArgs>();
  CLI::App* cmd = app.add_subcommand("migrate", "copy one mailbox from --from to --to");
  args->endpoints.addTo(*cmd);
  args->folders.addTo(*cmd);
  cmd->add_option("--state", args->statePath,
                  std::string("state file (") + kDefaultStatePathHelp + ")");
  cmd->add_flag("--dry-run", args->dryRun,
                "print the plan (folders, messages, bytes); change nothing");
  cmd->add_flag("--include-deleted", args->includeDeleted, "also copy messages flagged \\Deleted");
  cmd->add_flag("--json", args->json, "JSON lines on stdout: progress events and a summary");
  cmd->add_flag("--retry-errors", args->retryErrors,
                "re-attempt only the messages that failed in earlier runs (nothing new)");
  cmd->add_option("--max-message-size", args->maxMessageMegabytes,
                  "refuse messages larger than this many MB before sending them (the "
                  "destination's APPENDLIMIT is always honoured)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--parallel", args->parallel,
                  "folders (or parts of a big folder) copied at the same time, each over its "
                  "own connection to each server (default 4; lower it for servers with a "
                  "connection limit). The "
                  "mailferry runs of this machine share them per server: a run started while "
                  "others use the same server begins with fewer (at least one) and adds more "
                  "as those finish")
      ->check(CLI::Range(1, 64));
  cmd->add_flag("--in-order", args->inOrder,
                "copy each folder over one connection, so the destination numbers its messages "
                "in the source's order. By default a connection with no folder left takes over "
                "part of a big folder, and the parts' messages are numbered interleaved");
  cmd->add_flag("--split-always", args->splitAlways,
                "split big folders between connections even where that is measured to be no "
                "faster (by default a folder goes back to one connection when the split does "
                "not pay)")
      ->excludes("--in-order");
  cmd->add_option("--retries", args->retries,
                  "reconnect attempts per folder after a dropped connection, timeout or "
                  "throttling, before the folder is reported failed (default 8)");
  cmd->add_option("--retry-backoff", args->retryBackoffSeconds,
                  "seconds before the first reconnect; doubles each time, at most 60 (default 1)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--batch-messages", args->batchMessages,
                  "messages per recorded batch (one state transaction each; default 500)")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--batch-mb", args->batchMegabytes, "megabytes per recorded batch (default 64)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--listing-window", args->listingWindow,
                  "a folder with more messages than this is listed and copied this many at a "
                  "time, so memory stays bounded (default 20000)")
      ->check(CLI::Range(size_t{1}, size_t{10000000}));
  cmd->add_option("--progress", args->progress, "auto|bar|plain|none")
      ->check(CLI::IsMember({"auto", "bar", "plain", "none"}));

  return [cmd, args]() -> int {
    if (!cmd->parsed()) return -1;
    int exitCode = kExitOk;
    auto plan = args->folders.toPlanOptions();
    if (!plan) {
      std::fprintf(stderr, "mailferry: %s\n", plan.status().message().c_str());
      return kExitUsage;
    }
    auto ends = resolveEnds(args->endpoints, exitCode);
    if (!ends) return exitCode;
    if (Status s = args->folders.addPop3Folder(ends->from.isPop3(), *plan); !s) {
      std::fprintf(stderr, "mailferry: %s\n", s.message().c_str());
      return kExitUsage;
    }
    std::string statePath = args->statePath.empty() ? defaultStatePath() : args->statePath;
    if (args->dryRun && !std::filesystem::exists(statePath)) statePath = ":memory:";
    if (statePath != ":memory:") {
      std::error_code ec;
      auto parent = std::filesystem::path(statePath).parent_path();
      if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    }
    auto opened = store::openSqliteStore(statePath);
    if (!opened) {
      std::fprintf(stderr, "mailferry: %s\n", opened.status().message().c_str());
      return kExitInternal;
    }
    // Test hook (kill-at-every-step tests); inert unless its environment variable is set.
    std::unique_ptr<store::Store> store =
        store::withCrashInjectionFromEnvironment(std::move(opened).value());
    if (ends->from.isPop3()) {
      // POP3 has no UIDs: the state file keeps one per UIDL, under this mailbox's key. A
      // POP3 source has one folder, so the engine uses it from this thread only.
      ends->sourceUids =
          std::make_shared<sync::StoreUidAllocator>(*store, ends->mailboxKey, "INBOX");
    }
    // Runs of this machine against the same servers share --parallel connections per
    // server (cli/connection_slots.h). The first worker's share is claimed before
    // connecting, so runs started together see each other before they add workers.
    std::unique_ptr<ConnectionSlots> slots;
    std::unique_ptr<sync::WorkerSlots::Lease> firstWorkerLease;
    std::optional<Notice> unshared;
    if (auto shared = ConnectionSlots::open(ends->from.account.connect.endpoint,
                                            ends->to.account.connect.endpoint, args->parallel)) {
      slots = std::move(shared).value();
      firstWorkerLease = slots->tryClaim();  // none free: this worker runs all the same
    } else {
      unshared =
          Notice{"connections", "",
                 "this run does not share its connections with other mailferry runs (" +
                     shared.status().message() + "): each run opens up to --parallel of its own",
                 ""};
      printNotice(*unshared);
    }
    if (!openEnds(*ends, args->endpoints, exitCode)) return exitCode;

    ProgressMode mode = ProgressMode::kNone;
    if (args->json)
      mode = ProgressMode::kJson;
    else if (args->dryRun)
      mode = ProgressMode::kNone;
    else if (args->progress == "bar")
      mode = ProgressMode::kBar;
    else if (args->progress == "plain")
      mode = ProgressMode::kPlain;
    else if (args->progress == "auto")
      mode = isatty(STDERR_FILENO) ? ProgressMode::kBar : ProgressMode::kPlain;
    auto progress = makeProgress(mode);
    // The POP3 source's notices come from the engine's thread; the engine's own progress
    // calls may come from its workers.
    sync::LockedProgress lockedProgress(*progress);
    std::mutex sourceNoticesMutex;
    std::vector<std::string> sourceNotices;
    // Like our own notices, each is said on stderr (the bar and plain modes print it there
    // through the progress sink) and, with --json, as a JSON event.
    const bool toStderr = mode == ProgressMode::kNone || mode == ProgressMode::kJson;
    ends->onSourceNotice = [&, toStderr](const std::string& text) {
      const std::string line = "source: " + text;
      {
        std::lock_guard lock(sourceNoticesMutex);
        sourceNotices.push_back(line);
      }
      if (toStderr) std::fprintf(stderr, "mailferry: %s\n", line.c_str());
      lockedProgress.onNotice(line);
    };

    sync::MigrateOptions options;
    options.mailboxKey = ends->mailboxKey;
    options.plan = std::move(plan).value();
    options.includeDeleted = args->includeDeleted;
    options.dryRun = args->dryRun;
    options.batchMessages = args->batchMessages;
    options.listingWindow = args->listingWindow;
    options.retries = args->retries;
    options.parallelFolders = args->parallel;
    // A POP3 maildrop takes one session at a time (RFC 1939 locks it).
    options.splitFolders = !args->inOrder && !ends->from.isPop3();
    options.judgeSplits = !args->splitAlways;
    options.retryErrors = args->retryErrors;
    options.maxMessageBytes = static_cast<uint64_t>(args->maxMessageMegabytes * 1e6);
    options.retryBackoff =
        std::chrono::milliseconds(static_cast<int64_t>(args->retryBackoffSeconds * 1000));
    options.batchBytes = static_cast<uint64_t>(args->batchMegabytes * 1e6);
    std::vector<Notice> notices = ends->notices;  // already printed
    if (unshared) notices.push_back(*unshared);
    std::vector<Notice> presetNotices;
    applyPresetFolderRules(ends->from, ends->to, options.plan, presetNotices);
    applyPresetLimits(ends->from, ends->to, options, presetNotices);
    for (const auto& n : presetNotices) printNotice(n);
    notices.insert(notices.end(), presetNotices.begin(), presetNotices.end());
    if (args->json) {
      for (const auto& n : notices) std::printf("%s\n", noticeJson(n).dump().c_str());
      std::fflush(stdout);
    }
    // The first call of each factory hands out the connection opened above (so a bad
    // password or certificate fails fast with exit code 3); later calls reconnect.
    access::SourceFactory openSource = [&ends]() -> Result<std::unique_ptr<access::MailSource>> {
      if (ends->source) return std::move(ends->source);
      return ends->reopenSource();
    };
    access::AccountFactory openDestination =
        [&ends]() -> Result<std::unique_ptr<access::MailAccount>> {
      if (ends->destination) {
        return std::unique_ptr<access::MailAccount>(std::move(ends->destination));
      }
      MF_ASSIGN_OR_RETURN(auto account, ends->reopenDestination());
      return std::unique_ptr<access::MailAccount>(std::move(account));
    };
    sync::Migrator migrator(openSource, openDestination, *store, options, lockedProgress,
                            slots.get());
    auto report = migrator.run();
    ends->onSourceNotice = nullptr;
    progress.reset();  // finish the bar before the summary
    if (!report) {
      std::fprintf(stderr, "mailferry: %s\n", report.status().message().c_str());
      return report.status().code() == Errc::kStore ? kExitInternal : kExitConnection;
    }
    // The summary lists every notice once: ours first, then the source's, then the engine's.
    std::vector<std::string> texts;
    for (const auto& n : notices) texts.push_back(n.text);
    texts.insert(texts.end(), sourceNotices.begin(), sourceNotices.end());
    report->notices.insert(report->notices.begin(), texts.begin(), texts.end());
    if (args->json) {
      std::printf("%s\n", summaryJson(*report).dump().c_str());
    } else {
      printSummary(*report);
    }
    return report->totalFailed() || report->foldersFailed() ? kExitPartial : kExitOk;
  };
}

}  // namespace mf::cli
