// What the provider presets of migrate and verify change (presets/preset.h, README
// "Provider presets in migrate and verify"):
// - source preset: its folders.exclude (folders that hold no mail, e.g. Office 365's Files
//   and Calendar) and folders.virtual (folders that show mail stored elsewhere too, e.g.
//   Gmail's All Mail: copying them as well would duplicate it) become --exclude rules, except
//   a name the user asked for with an --include of exactly that name;
// - destination preset: each reserved name becomes a rename rule NAME=RENAME_TO, after the
//   user's own --map rules (the first matching rule wins, so the user's own win);
// - migrate only: the destination preset's largest message lowers --max-message-size
//   (checked before a message is sent), and the smaller connection limit of the two presets
//   caps --parallel (each parallel folder holds one connection to each server).
// Each rule that applies is reported once, as a notice.
#pragma once

#include <vector>

#include "cli/endpoint_options.h"
#include "cli/notice.h"
#include "sync/folder_plan.h"
#include "sync/migrator.h"

namespace mf::cli {

void applyPresetFolderRules(const ResolvedSide& from, const ResolvedSide& to,
                            sync::PlanOptions& plan, std::vector<Notice>& notices);

void applyPresetLimits(const ResolvedSide& from, const ResolvedSide& to,
                       sync::MigrateOptions& options, std::vector<Notice>& notices);

}  // namespace mf::cli
