#include "cli/preset_rules.h"

#include <algorithm>
#include <cstdio>
#include <string>

namespace mf::cli {
namespace {

std::string quotedList(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "'" : ", '") + n + "'";
  return out;
}

std::string presetName(const ResolvedSide& side) {
  return std::string(side.what()) + " preset " + side.preset->name + " (" + side.preset->title +
         ")";
}

std::string human(uint64_t bytes) {
  char buf[32];
  if (bytes >= 1000000)
    std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(bytes) / 1e6);
  else
    std::snprintf(buf, sizeof buf, "%.1f KB", static_cast<double>(bytes) / 1e3);
  return buf;
}

// Adds the names not --include'd by exactly that name to plan.exclude; returns those added.
std::vector<std::string> excludeUnlessIncluded(const std::vector<std::string>& names,
                                               sync::PlanOptions& plan) {
  std::vector<std::string> added;
  for (const auto& name : names) {
    if (std::find(plan.include.begin(), plan.include.end(), name) != plan.include.end()) continue;
    plan.exclude.push_back(name);
    added.push_back(name);
  }
  return added;
}

}  // namespace

void applyPresetFolderRules(const ResolvedSide& from, const ResolvedSide& to,
                            sync::PlanOptions& plan, std::vector<Notice>& notices) {
  auto notice = [&](const char* side, std::string text) {
    notices.push_back(Notice{"preset", side, std::move(text), ""});
  };
  if (from.preset) {
    const presets::FolderRules& rules = from.preset->folders;
    auto excluded = excludeUnlessIncluded(rules.exclude, plan);
    if (!excluded.empty()) {
      notice("source", presetName(from) + ": not copying " + quotedList(excluded) +
                           ": these folders hold no mail there");
    }
    auto virtuals = excludeUnlessIncluded(rules.virtualFolders, plan);
    plan.virtualFolders.insert(plan.virtualFolders.end(), virtuals.begin(), virtuals.end());
    if (!virtuals.empty()) {
      notice("source",
             presetName(from) + ": not copying " + quotedList(virtuals) +
                 ": they show mail that is stored in other folders too, so copying them would "
                 "duplicate it (to copy such a folder anyway, --include it by its exact name, "
                 "with --include '*' for the rest)");
    }
    if (!rules.allMailFolders.empty()) {
      plan.allMailFolders.insert(plan.allMailFolders.end(), rules.allMailFolders.begin(),
                                 rules.allMailFolders.end());
      notice("source", presetName(from) + ": " + quotedList(rules.allMailFolders) +
                           " show every message: from there only what no other folder holds "
                           "(archived mail) is copied, to the destination's archive; the rest "
                           "goes with the folders that hold it");
    }
  }
  if (to.preset) {
    for (const auto& reserved : to.preset->folders.reserved) {
      plan.map.push_back(sync::MapRule{reserved.name, reserved.renameTo});
      notice("destination", presetName(to) + ": the folder name '" + reserved.name +
                                "' is reserved there: a source folder of that name is copied to '" +
                                reserved.renameTo + "'");
    }
  }
}

void applyPresetLimits(const ResolvedSide& from, const ResolvedSide& to,
                       sync::MigrateOptions& options, std::vector<Notice>& notices) {
  if (to.preset && to.preset->maxMessageBytes) {
    const uint64_t limit = *to.preset->maxMessageBytes;
    if (options.maxMessageBytes == 0 || limit < options.maxMessageBytes) {
      options.maxMessageBytes = limit;
      notices.push_back(
          Notice{"preset", "destination",
                 presetName(to) + ": messages larger than " + std::to_string(limit) + " bytes (" +
                     human(limit) +
                     ") are not sent: the provider refuses them. They are reported as failed with "
                     "code too_big",
                 ""});
    }
  }
  const ResolvedSide* cap = nullptr;
  for (const ResolvedSide* side : {&from, &to}) {
    if (side->preset && side->preset->maxConnections &&
        (cap == nullptr || *side->preset->maxConnections < *cap->preset->maxConnections)) {
      cap = side;
    }
  }
  if (cap != nullptr && *cap->preset->maxConnections < options.parallelFolders) {
    const size_t limit = std::max<size_t>(1, *cap->preset->maxConnections);
    notices.push_back(
        Notice{"preset", cap->what(),
               presetName(*cap) + ": at most " + std::to_string(*cap->preset->maxConnections) +
                   " connection(s) per account: --parallel lowered from " +
                   std::to_string(options.parallelFolders) + " to " + std::to_string(limit),
               ""});
    options.parallelFolders = limit;
  }
}

}  // namespace mf::cli
