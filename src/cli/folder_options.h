// --include / --exclude / --map / --pop3-folder options shared by migrate and verify.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "base/status.h"
#include "sync/folder_plan.h"

namespace mf::cli {

struct FolderOptions {
  std::vector<std::string> include;
  std::vector<std::string> exclude;
  std::vector<std::string> map;
  std::string pop3Folder;  // POP3 source: where its Inbox lands (default INBOX)

  void addTo(CLI::App& app) {
    app.add_option("--include", include,
                   "copy only folders matching this glob (repeatable; e.g. 'Work/*')");
    app.add_option("--exclude", exclude, "skip folders matching this glob (repeatable)");
    app.add_option("--map", map, "rename rule 'Old/Name=New/Name' (repeatable; subfolders follow)");
    app.add_option("--pop3-folder", pop3Folder,
                   "POP3 source: the destination folder for its messages (default INBOX)");
  }

  Result<sync::PlanOptions> toPlanOptions() const {
    sync::PlanOptions out;
    out.include = include;
    out.exclude = exclude;
    for (const auto& m : map) {
      MF_ASSIGN_OR_RETURN(auto rule, sync::parseMapRule(m));
      out.map.push_back(std::move(rule));
    }
    return out;
  }

  // --pop3-folder NAME is the rename rule INBOX=NAME, ahead of the others (a POP3 source
  // has the Inbox only). Errc::kUsage for an IMAP source.
  Status addPop3Folder(bool pop3Source, sync::PlanOptions& plan) const {
    if (pop3Folder.empty()) return Status::ok();
    if (!pop3Source) {
      return Status(Errc::kUsage,
                    "--pop3-folder only applies to a POP3 source (--from pop3s://... or "
                    "pop3://...); for an IMAP source use --map 'INBOX=" +
                        pop3Folder + "'");
    }
    plan.map.insert(plan.map.begin(), sync::MapRule{"INBOX", pop3Folder});
    return Status::ok();
  }
};

}  // namespace mf::cli
