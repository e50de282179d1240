// `mailferry verify`: compares source and destination folder by folder (see sync/verifier.h).
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/connect.h"
#include "cli/exit_codes.h"
#include "cli/folder_options.h"
#include "cli/notice.h"
#include "cli/preset_rules.h"
#include "cli/state_file.h"
#include "cli/text_width.h"
#include "store/state_store.h"
#include "sync/verifier.h"

namespace mf::cli {
namespace {

struct VerifyArgs {
  EndpointOptions endpoints;
  FolderOptions folders;
  bool deep = false;
  bool includeDeleted = false;
  bool json = false;
  size_t listingWindow = sync::VerifyOptions{}.listingWindow;
  std::string statePath;
  bool noState = false;
};

void printList(const char* label, const std::vector<std::string>& lines) {
  for (const auto& l : lines) std::printf("    %s: %s\n", label, l.c_str());
}

// Migrate's state file for this run, read only: where earlier runs put each folder (see
// sync/verifier.h). None without a file at the default path, or with --no-state. An explicit
// --state that cannot be read stops verify (exit code in `exitCode`); an unreadable default
// file is a notice, and the folders are then compared by the folder rules alone.
bool openRecords(const VerifyArgs& args, std::unique_ptr<store::Store>& records,
                 std::vector<Notice>& notices, int& exitCode) {
  if (args.noState) return true;
  const bool explicitPath = !args.statePath.empty();
  const std::string path = explicitPath ? args.statePath : defaultStatePath();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    if (!explicitPath) return true;
    std::fprintf(stderr,
                 "mailferry: state file %s does not exist: give the --state that migrate used, "
                 "or --no-state to compare by the folder rules alone\n",
                 path.c_str());
    exitCode = kExitUsage;
    return false;
  }
  auto opened = store::openSqliteStoreForReading(path);
  if (!opened) {
    if (explicitPath) {
      std::fprintf(stderr, "mailferry: %s (or verify with --no-state)\n",
                   opened.status().message().c_str());
      exitCode = kExitUsage;
      return false;
    }
    notices.push_back({"state", "",
                       opened.status().message() +
                           ": folders are compared by the folder rules alone, as "
                           "with --no-state",
                       ""});
    printNotice(notices.back());
    return true;
  }
  records = std::move(opened).value();
  return true;
}

}  // namespace

std::function<int()> addVerifyCommand(CLI::App& app) {
  auto args = std::make_shared<VerifyArgs>();
  CLI::App* cmd = app.add_subcommand("verify", "compare the destination with the source");
  args->endpoints.addTo(*cmd);
  args->folders.addTo(*cmd);
  cmd->add_flag("--deep", args->deep,
                "compare the SHA-256 of every message (fetches every byte from both sides)");
  cmd->add_flag("--include-deleted", args->includeDeleted,
                "expect messages flagged \\Deleted on the destination too");
  cmd->add_flag("--json", args->json, "print the report as one JSON object");
  cmd->add_option("--listing-window", args->listingWindow,
                  "a folder with more messages than this is listed (and with --deep read) this "
                  "many at a time, so memory stays bounded (default 5000)")
      ->check(CLI::Range(size_t{1}, size_t{10000000}));
  auto* state = cmd->add_option(
      "--state", args->statePath,
      std::string("migrate's state file, read only: a folder earlier runs copied under another "
                  "name than the folder rules now give is compared with that folder (") +
          kDefaultStatePathHelp + "; verify runs without it when that file does not exist)");
  cmd->add_flag("--no-state", args->noState,
                "do not read migrate's state file: compare every folder with the one the folder "
                "rules give (for a copy made by another tool)")
      ->excludes(state);

  return [cmd, args]() -> int {
    if (!cmd->parsed()) return -1;
    auto plan = args->folders.toPlanOptions();
    if (!plan) {
      std::fprintf(stderr, "mailferry: %s\n", plan.status().message().c_str());
      return kExitUsage;
    }
    int exitCode = kExitOk;
    auto ends = resolveEnds(args->endpoints, exitCode);
    if (!ends) return exitCode;
    if (Status s = args->folders.addPop3Folder(ends->from.isPop3(), *plan); !s) {
      std::fprintf(stderr, "mailferry: %s\n", s.message().c_str());
      return kExitUsage;
    }
    // verify reads no state file: a POP3 source's UIDs live as long as this run.
    if (ends->from.isPop3()) ends->sourceUids = std::make_shared<access::MemoryUidAllocator>();
    std::vector<std::string> sourceNotices;
    ends->onSourceNotice = [&sourceNotices](const std::string& text) {
      sourceNotices.push_back("source: " + text);
      std::fprintf(stderr, "mailferry: %s\n", sourceNotices.back().c_str());
    };
    std::unique_ptr<store::Store> records;
    std::vector<Notice> stateNotices;
    if (!openRecords(*args, records, stateNotices, exitCode)) return exitCode;
    if (!openEnds(*ends, args->endpoints, exitCode)) return exitCode;
    sync::VerifyOptions options;
    options.records = records.get();
    options.mailboxKey = ends->mailboxKey;
    options.plan = std::move(plan).value();
    options.deep = args->deep;
    options.includeDeleted = args->includeDeleted;
    options.listingWindow = args->listingWindow;
    std::vector<Notice> presetNotices;
    applyPresetFolderRules(ends->from, ends->to, options.plan, presetNotices);
    for (const auto& n : presetNotices) printNotice(n);
    auto report =
        sync::verifyMailbox(*ends->source, *ends->destination, *ends->destination, options);
    ends->onSourceNotice = nullptr;
    std::vector<std::string> notices;
    for (const auto& n : ends->notices) notices.push_back(n.text);
    for (const auto& n : presetNotices) notices.push_back(n.text);
    for (const auto& n : stateNotices) notices.push_back(n.text);
    notices.insert(notices.end(), sourceNotices.begin(), sourceNotices.end());
    if (!report) {
      std::fprintf(stderr, "mailferry: %s\n", report.status().message().c_str());
      return kExitConnection;
    }
    if (args->json) {
      nlohmann::json folders = nlohmann::json::array();
      for (const auto& f : report->folders) {
        folders.push_back({{"source", f.source},
                           {"destination", f.destination},
                           {"source_messages", f.sourceMessages},
                           {"destination_messages", f.destinationMessages},
                           {"missing", f.missing},
                           {"extra", f.extra},
                           {"flag_differences", f.flagDifferences},
                           {"date_differences", f.dateDifferences},
                           {"source_undated", f.sourceUndated},
                           {"notes", f.notes},
                           {"error", f.error},
                           {"identical", f.identical()}});
      }
      nlohmann::json out = {{"deep", report->deep},
                            {"identical", report->identical()},
                            {"folders", folders},
                            {"notices", notices}};
      std::printf("%s\n", out.dump().c_str());
    } else {
      std::printf("Verify report (%s)\n",
                  report->deep ? "deep: SHA-256 of every message" : "Message-ID and size");
      std::printf("%-30s %-30s %9s %9s  %s\n", "SOURCE FOLDER", "DESTINATION", "SOURCE", "DEST",
                  "RESULT");
      for (const auto& f : report->folders) {
        std::printf("%s %s %9llu %9llu  %s\n", padRight(f.source, 30).c_str(),
                    padRight(f.destination, 30).c_str(),
                    static_cast<unsigned long long>(f.sourceMessages),
                    static_cast<unsigned long long>(f.destinationMessages),
                    f.identical() ? "identical" : "DIFFERENT");
        printList("missing", f.missing);
        printList("extra", f.extra);
        printList("flags", f.flagDifferences);
        printList("date", f.dateDifferences);
        if (f.sourceUndated > 0) {
          std::printf(
              "    note: %llu message(s) have no date on the source (no Received or Date "
              "header): their internal date was set when they were copied, so it is not "
              "compared\n",
              static_cast<unsigned long long>(f.sourceUndated));
        }
        printList("note", f.notes);
        if (!f.error.empty()) std::printf("    error: %s\n", f.error.c_str());
      }
      for (const auto& n : notices) std::printf("notice: %s\n", n.c_str());
      std::printf("%s\n", report->identical() ? "Result: identical" : "Result: DIFFERENCES FOUND");
    }
    return report->identical() ? kExitOk : kExitPartial;
  };
}

}  // namespace mf::cli
