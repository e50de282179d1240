// --include / --exclude / --map options shared by migrate and verify.
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

  void addTo(CLI::App& app) {
    app.add_option("--include", include,
                   "copy only folders matching this glob (repeatable; e.g. 'Work/*')");
    app.add_option("--exclude", exclude, "skip folders matching this glob (repeatable)");
    app.add_option("--map", map, "rename rule 'Old/Name=New/Name' (repeatable; subfolders follow)");
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
};

}  // namespace mf::cli
