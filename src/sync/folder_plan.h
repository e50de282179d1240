// Folder planning: which source folders are copied, and to which destination path.
// Pure (no I/O): input is the two folder lists and the user's rules.
//
// Rules, in order (SPEC.md section 4):
// 1. --include / --exclude glob patterns (fnmatch, '*' also matches '/') on the source's
//    display name ("Work/Projects"). With includes given, only matching folders are copied;
//    excludes always win. A folder's pattern match does not pull in its children: use
//    "Work/*" for that.
// 2. --map 'Old/Name=New/Name' rename rules: an exact match or a prefix at a '/' boundary
//    ("Old/Name/Sub" becomes "New/Name/Sub"). The first matching rule wins.
// 3. Special folders: a top-level source folder that is Sent / Drafts / Trash / Junk /
//    Archive (by SPECIAL-USE attribute, else by a well-known name such as "Sent Items") is
//    mapped to the destination folder with the same SPECIAL-USE attribute, else to the
//    destination's folder of a well-known name, else keeps its name. Only one source folder
//    is mapped onto each destination special folder (the one with the attribute first).
// 4. A component containing the destination's separator is kept as one folder with that
//    character replaced by '_' (reported).
// 5. A source folder that shows all mail (SPECIAL-USE \All, or named in
//    PlanOptions::allMailFolders: Gmail's "[Gmail]/All Mail") is
//    copied only for what no other folder holds (Gmail's archived mail; the rest is copied
//    with the folders that hold it), to the destination's \All folder, else its \Archive
//    folder, else "Archive" (unless a --map rule names it).
// Non-selectable (\Noselect) source folders are not copied; their children are.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "access/mail_access.h"
#include "base/status.h"

namespace mf::sync {

struct MapRule {
  std::string from;  // source display name ('/'-separated)
  std::string to;    // destination display name ('/'-separated)
};

// Parses "Old/Name=New/Name". Errc::kUsage on a malformed rule.
Result<MapRule> parseMapRule(const std::string& text);

struct PlanOptions {
  std::vector<std::string> include;
  std::vector<std::string> exclude;
  std::vector<MapRule> map;
  // Folders that show mail stored in other folders (a preset's: Gmail's Starred, Important).
  // The caller excludes them; named here too so that rule 5 does not count their mail as
  // held elsewhere (an archived, starred message is in All Mail and Starred only).
  std::vector<std::string> virtualFolders;
  // Folders that show all mail by name (a preset's: "[Gmail]/All Mail"), for rule 5 where the
  // server does not mark them \All.
  std::vector<std::string> allMailFolders;
};

struct FolderMapping {
  access::Folder source;
  std::vector<std::string> destinationPath;
  // The destination folder, when it exists and can hold messages (not \Noselect); points
  // into the destination list.
  const access::Folder* existingDestination = nullptr;
  std::vector<std::string> notes;  // renames the user should know about
  // Rule 5: copy only the messages none of FolderPlan::storedElsewhere holds.
  bool onlyWhatNoOtherFolderHolds = false;
};

struct FolderPlan {
  std::vector<FolderMapping> folders;  // in source order; parents before children
  std::vector<std::string> excluded;   // source display names left out by rule
  // For rule 5: every selectable source folder but \All ones and PlanOptions::virtualFolders,
  // excluded ones too (what the user left out is not copied to the archive instead).
  std::vector<access::Folder> storedElsewhere;
};

// (Message-ID, size) of messages: how rule 5 tells that another folder holds a message.
using MessageKeys = std::set<std::pair<std::string, uint64_t>>;
// Adds the keys of `listed` (messages without a Message-ID have none; with skipDeleted, those
// flagged \Deleted are left out: they are not copied from there, so not held there).
void addMessageKeys(const std::vector<access::MessageMeta>& listed, bool skipDeleted,
                    MessageKeys& keys);
// Removes from `listed` the messages whose key is in `keys`; returns how many.
size_t dropMessagesWithKeys(const MessageKeys& keys, std::vector<access::MessageMeta>& listed);

access::SpecialUse wellKnownSpecialUse(const std::string& name);

FolderPlan planFolders(const std::vector<access::Folder>& source,
                       const std::vector<access::Folder>& destination, char destinationSeparator,
                       const PlanOptions& options);

std::string joinPath(const std::vector<std::string>& path);

// The destination folder earlier runs filled for `mapping` when the state recorded it under
// another name (`recordedDestination`: the folder rules named it differently then, or the
// destination refused the planned name) and it still exists and can hold messages. A run goes
// on there and verify compares with it, so a folder's mail is never split over two folders.
// Null when the recorded name is the planned one or is gone; else points into `destination`.
const access::Folder* earlierRunDestination(const FolderMapping& mapping,
                                            const std::string& recordedDestination,
                                            const std::vector<access::Folder>& destination);

}  // namespace mf::sync
