#include "sync/folder_plan.h"

#include <fnmatch.h>

#include <algorithm>
#include <map>
#include <set>

#include "base/ascii.h"

namespace mf::sync {
namespace {

std::vector<std::string> splitPath(const std::string& name) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= name.size()) {
    size_t end = name.find('/', pos);
    if (end == std::string::npos) end = name.size();
    out.push_back(name.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

bool matchesAny(const std::vector<std::string>& patterns, const std::string& name) {
  for (const auto& p : patterns) {
    if (fnmatch(p.c_str(), name.c_str(), 0) == 0) return true;
  }
  return false;
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Rule 5's folders.
bool showsAllMail(const access::Folder& folder, const PlanOptions& options) {
  return folder.specialUse == access::SpecialUse::kAll ||
         contains(options.allMailFolders, folder.displayName());
}

}  // namespace

std::string joinPath(const std::vector<std::string>& path) {
  std::string out;
  for (size_t i = 0; i < path.size(); ++i) {
    if (i) out += '/';
    out += path[i];
  }
  return out;
}

void addMessageKeys(const std::vector<access::MessageMeta>& listed, bool skipDeleted,
                    MessageKeys& keys) {
  for (const auto& m : listed) {
    if (m.messageId.empty() || (skipDeleted && m.hasFlag("\\Deleted"))) continue;
    keys.insert({m.messageId, m.size});
  }
}

size_t dropMessagesWithKeys(const MessageKeys& keys, std::vector<access::MessageMeta>& listed) {
  return std::erase_if(listed, [&keys](const access::MessageMeta& m) {
    return !m.messageId.empty() && keys.count({m.messageId, m.size}) > 0;
  });
}

const access::Folder* earlierRunDestination(const FolderMapping& mapping,
                                            const std::string& recordedDestination,
                                            const std::vector<access::Folder>& destination) {
  if (recordedDestination == joinPath(mapping.destinationPath)) return nullptr;
  for (const auto& f : destination) {
    if (f.selectable && f.displayName() == recordedDestination) return &f;
  }
  return nullptr;
}

Result<MapRule> parseMapRule(const std::string& text) {
  size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size() ||
      text.find('=', eq + 1) != std::string::npos) {
    return Status(Errc::kUsage,
                  "bad --map rule '" + text + "': expected 'Source/Folder=Destination/Folder'");
  }
  return MapRule{text.substr(0, eq), text.substr(eq + 1)};
}

access::SpecialUse wellKnownSpecialUse(const std::string& name) {
  using access::SpecialUse;
  static const std::map<std::string, SpecialUse> kNames = {
      {"sent", SpecialUse::kSent},
      {"sent items", SpecialUse::kSent},
      {"sent messages", SpecialUse::kSent},
      {"sent mail", SpecialUse::kSent},
      {"sent-mail", SpecialUse::kSent},
      {"gesendet", SpecialUse::kSent},
      {"gesendete objekte", SpecialUse::kSent},
      {"gesendete elemente", SpecialUse::kSent},
      {"envoyés", SpecialUse::kSent},
      {"elementos enviados", SpecialUse::kSent},
      {"drafts", SpecialUse::kDrafts},
      {"draft", SpecialUse::kDrafts},
      {"entwürfe", SpecialUse::kDrafts},
      {"brouillons", SpecialUse::kDrafts},
      {"trash", SpecialUse::kTrash},
      {"deleted items", SpecialUse::kTrash},
      {"deleted messages", SpecialUse::kTrash},
      {"bin", SpecialUse::kTrash},
      {"papierkorb", SpecialUse::kTrash},
      {"gelöschte elemente", SpecialUse::kTrash},
      {"corbeille", SpecialUse::kTrash},
      {"junk", SpecialUse::kJunk},
      {"spam", SpecialUse::kJunk},
      {"junk e-mail", SpecialUse::kJunk},
      {"junk email", SpecialUse::kJunk},
      {"bulk mail", SpecialUse::kJunk},
      {"archive", SpecialUse::kArchive},
      {"archives", SpecialUse::kArchive},
  };
  auto it = kNames.find(toLowerAscii(name));
  return it == kNames.end() ? SpecialUse::kNone : it->second;
}

FolderPlan planFolders(const std::vector<access::Folder>& source,
                       const std::vector<access::Folder>& destination, char destinationSeparator,
                       const PlanOptions& options) {
  using access::SpecialUse;
  FolderPlan plan;

  // Destination special folders: attribute first, then well-known top-level names.
  std::map<SpecialUse, const access::Folder*> destSpecial;
  for (const auto& d : destination) {
    if (d.specialUse != SpecialUse::kNone && !destSpecial.count(d.specialUse)) {
      destSpecial[d.specialUse] = &d;
    }
  }
  for (const auto& d : destination) {
    if (d.path.size() != 1) continue;
    SpecialUse use = wellKnownSpecialUse(d.path[0]);
    if (use != SpecialUse::kNone && !destSpecial.count(use)) destSpecial[use] = &d;
  }

  // Source special folders: the one with the attribute wins over name matches.
  std::map<SpecialUse, const access::Folder*> sourceSpecial;
  for (const auto& s : source) {
    if (s.specialUse != SpecialUse::kNone && s.selectable && !sourceSpecial.count(s.specialUse)) {
      sourceSpecial[s.specialUse] = &s;
    }
  }
  for (const auto& s : source) {
    if (s.path.size() != 1 || !s.selectable) continue;
    SpecialUse use = wellKnownSpecialUse(s.path[0]);
    if (use != SpecialUse::kNone && !sourceSpecial.count(use)) sourceSpecial[use] = &s;
  }

  std::set<std::vector<std::string>> usedDestinations;
  for (const auto& s : source) {
    if (!s.selectable) continue;
    const std::string name = s.displayName();
    if ((!options.include.empty() && !matchesAny(options.include, name)) ||
        matchesAny(options.exclude, name)) {
      plan.excluded.push_back(name);
      continue;
    }
    FolderMapping m;
    m.source = s;
    bool ruled = false;
    for (const auto& rule : options.map) {
      if (name == rule.from) {
        m.destinationPath = splitPath(rule.to);
      } else if (name.size() > rule.from.size() &&
                 name.compare(0, rule.from.size(), rule.from) == 0 &&
                 name[rule.from.size()] == '/') {
        m.destinationPath = splitPath(rule.to + name.substr(rule.from.size()));
      } else {
        continue;
      }
      m.notes.push_back("renamed by --map to '" + joinPath(m.destinationPath) + "'");
      ruled = true;
      break;
    }
    if (showsAllMail(s, options)) m.onlyWhatNoOtherFolderHolds = true;
    if (!ruled && m.onlyWhatNoOtherFolderHolds) {
      // Rule 5: its own mail is archived mail.
      auto target = destSpecial.find(SpecialUse::kAll);
      if (target == destSpecial.end()) target = destSpecial.find(SpecialUse::kArchive);
      m.destinationPath =
          target != destSpecial.end() ? target->second->path : std::vector<std::string>{"Archive"};
      m.notes.push_back(
          "shows all mail: only what no other folder holds (archived mail) is "
          "copied, to '" +
          joinPath(m.destinationPath) + "'; the rest goes with its folders");
    } else if (!ruled) {
      m.destinationPath = s.path;
      for (const auto& [use, folder] : sourceSpecial) {
        if (folder != &s) continue;
        if (auto it = destSpecial.find(use); it != destSpecial.end()) {
          m.destinationPath = it->second->path;
        } else if (s.specialUse == SpecialUse::kNone) {
          m.destinationPath = s.path;  // no destination counterpart: keep the name
        }
        if (m.destinationPath != s.path) {
          m.notes.push_back(std::string("special folder ") +
                            std::string(access::specialUseName(use)) + " mapped to '" +
                            joinPath(m.destinationPath) + "'");
        }
      }
    }
    // A component that contains the destination separator stays one folder (SPEC.md 4).
    if (destinationSeparator) {
      for (auto& component : m.destinationPath) {
        if (component.find(destinationSeparator) == std::string::npos) continue;
        std::string original = component;
        for (char& c : component) {
          if (c == destinationSeparator) c = '_';
        }
        m.notes.push_back("'" + original + "' contains the destination's separator '" +
                          std::string(1, destinationSeparator) + "': created as '" + component +
                          "'");
      }
    }
    plan.folders.push_back(std::move(m));
  }

  // Two source folders on one destination folder would merge them: keep them apart. Folders
  // mapped by rule or as special folders keep their target; the others yield.
  std::vector<bool> reserved(plan.folders.size());
  for (size_t i = 0; i < plan.folders.size(); ++i) {
    const auto& m = plan.folders[i];
    if (m.destinationPath != m.source.path) {
      reserved[i] = usedDestinations.insert(m.destinationPath).second;
    }
  }
  for (size_t i = 0; i < plan.folders.size(); ++i) {
    auto& m = plan.folders[i];
    if (reserved[i]) continue;
    if (usedDestinations.insert(m.destinationPath).second) continue;
    const std::string name = m.source.displayName();
    std::vector<std::string> alt = m.destinationPath;
    alt.back() += " (" + name + ")";
    for (char& c : alt.back()) {
      if (c == '/' || (destinationSeparator && c == destinationSeparator)) c = '_';
    }
    m.notes.push_back("'" + joinPath(m.destinationPath) +
                      "' is already the target of another "
                      "folder: copied to '" +
                      joinPath(alt) + "' instead");
    m.destinationPath = alt;
    usedDestinations.insert(alt);
  }
  for (const auto& s : source) {
    if (!s.selectable || showsAllMail(s, options)) continue;
    const std::string name = s.displayName();
    if (contains(options.virtualFolders, name)) continue;
    plan.storedElsewhere.push_back(s);
  }
  for (auto& m : plan.folders) {
    m.existingDestination = nullptr;
    for (const auto& d : destination) {
      // A \Noselect name (a parent that exists only because a child was created in it, e.g.
      // by a run that was stopped before it came to the parent) cannot hold messages: it
      // still has to be created, which makes it selectable (Dovecot does so).
      if (d.path == m.destinationPath && d.selectable) m.existingDestination = &d;
    }
  }
  return plan;
}

}  // namespace mf::sync
