#include "sync/verifier.h"

#include <algorithm>
#include <functional>
#include <future>
#include <map>
#include <optional>
#include <set>

#include "base/ascii.h"
#include "message/imap_date.h"
#include "sync/content_hash.h"
#include "sync/flags.h"
#include "sync/folder_naming.h"

namespace mf::sync {
namespace {

std::set<std::string> normalizedFlags(const access::MessageMeta& m, bool includeDeleted) {
  std::set<std::string> out;
  for (const auto& f : m.flags) {
    std::string l = toLowerAscii(f);
    if (l == "\\recent") continue;
    if (isServerOwnFlag(f)) continue;  // no client can set it (flags.h): counted apart
    if (!includeDeleted && l == "\\deleted") continue;
    out.insert(l);
  }
  return out;
}

std::string joinFlags(const std::set<std::string>& flags) {
  std::string out = "(";
  for (const auto& f : flags) {
    if (out.size() > 1) out += ' ';
    out += f;
  }
  return out + ")";
}

std::string describe(const access::MessageMeta& m) {
  std::string s = "UID " + std::to_string(m.uid);
  s += m.messageId.empty() ? " (no Message-ID)" : " " + m.messageId;
  s += ", " + std::to_string(m.size) + " bytes, " + m.internalDate;
  return s;
}

// Identity key for pairing: content hash (deep) or Message-ID + size.
using KeyFn = std::function<std::string(const access::MessageMeta&)>;

void compareFolder(const std::vector<access::MessageMeta>& src,
                   const std::vector<access::MessageMeta>& dst, const KeyFn& srcKey,
                   const KeyFn& dstKey, bool includeDeleted, FolderVerification& out) {
  std::multimap<std::string, const access::MessageMeta*> pool;
  for (const auto& d : dst) pool.emplace(dstKey(d), &d);
  for (const auto& s : src) {
    auto it = pool.find(srcKey(s));
    if (it == pool.end()) {
      out.missing.push_back(describe(s));
      continue;
    }
    const access::MessageMeta& d = *it->second;
    auto sf = normalizedFlags(s, includeDeleted);
    auto df = normalizedFlags(d, includeDeleted);
    if (sf != df) {
      out.flagDifferences.push_back(describe(s) + ": source flags " + joinFlags(sf) +
                                    ", destination UID " + std::to_string(d.uid) + " has " +
                                    joinFlags(df));
    }
    if (s.dateAssumed) {
      // "Now" at this listing against "now" at the copy: nothing to compare.
      ++out.sourceUndated;
    } else if (message::parseImapDateTime(s.internalDate) !=
               message::parseImapDateTime(d.internalDate)) {
      out.dateDifferences.push_back(describe(s) + ": destination UID " + std::to_string(d.uid) +
                                    " has internal date " + d.internalDate);
    }
    pool.erase(it);
  }
  for (const auto& [key, d] : pool) out.extra.push_back(describe(*d));
}

// The source server's own flags (flags.h) are left out of the comparison: said in a note.
void noteServerOwnFlags(const std::vector<access::MessageMeta>& src, FolderVerification& out) {
  ServerOwnFlagTally tally;
  for (const auto& m : src) tally.add(m.flags);
  std::string note = tally.note("not compared");
  if (!note.empty()) out.notes.push_back(std::move(note));
}

// The keys of every message of `folders` (folder_plan.h rule 5), read on `reader`, which is
// then left with `reopen` open for reading again.
Result<MessageKeys> readMessageKeys(access::MailSource& reader,
                                    const std::vector<access::Folder>& folders, bool skipDeleted,
                                    const access::Folder& reopen) {
  MessageKeys keys;
  for (const access::Folder& folder : folders) {
    MF_ASSIGN_OR_RETURN(auto view, reader.openForReadAndList(folder, 1, /*withMessageId=*/true));
    addMessageKeys(view.metas, skipDeleted, keys);
  }
  MF_RETURN_IF_ERROR(reader.openForRead(reopen).status());
  return keys;
}

// Rule 1 of the header: the folder migrate's records name for this mapping, if it is another
// than the planned one and still exists; what was decided goes into `notes`.
const access::Folder* recordedDestination(const FolderMapping& m,
                                          const std::vector<access::Folder>& destinationFolders,
                                          const VerifyOptions& options,
                                          std::vector<std::string>& notes) {
  if (!options.records) return nullptr;
  auto saved = options.records->loadFolder(options.mailboxKey, m.source.displayName());
  const std::string planned = joinPath(m.destinationPath);
  if (!saved) {
    notes.push_back("the state file could not be read for this folder (" +
                    saved.status().message() + "): compared with '" + planned +
                    "' by the folder rules");
    return nullptr;
  }
  if (!*saved || (*saved)->destinationFolder == planned) return nullptr;
  const std::string& recorded = (*saved)->destinationFolder;
  const access::Folder* found = earlierRunDestination(m, recorded, destinationFolders);
  if (!found) {
    notes.push_back("earlier migrate runs copied this folder to '" + recorded +
                    "', which the destination no longer has: compared by the folder rules "
                    "instead");
    return nullptr;
  }
  if (isRenamingOf(found->path, m.destinationPath)) {
    notes.push_back("compared with '" + recorded + "', where migrate copied this folder " +
                    "because the destination did not take '" + planned + "' (state file)");
  } else {
    notes.push_back("compared with '" + recorded + "', where earlier migrate runs copied " +
                    "this folder (state file); the folder rules now give '" + planned + "'");
  }
  return found;
}

}  // namespace

bool VerifyReport::identical() const {
  return std::all_of(folders.begin(), folders.end(),
                     [](const FolderVerification& f) { return f.identical(); });
}

Result<VerifyReport> verifyMailbox(access::MailSource& source, access::MailDestination& destination,
                                   access::MailSource& destinationReader,
                                   const VerifyOptions& options) {
  VerifyReport report;
  report.deep = options.deep;
  MF_ASSIGN_OR_RETURN(auto sourceFolders, source.listFolders());
  MF_ASSIGN_OR_RETURN(auto destinationFolders, destination.listFolders());
  FolderPlan plan =
      planFolders(sourceFolders, destinationFolders, destination.separator(), options.plan);

  std::optional<MessageKeys> storedElsewhere;       // read when a folder first needs it
  std::optional<MessageKeys> destinationElsewhere;  // the same on a destination like Gmail
  for (const auto& m : plan.folders) {
    FolderVerification fv;
    fv.source = m.source.displayName();
    const access::Folder* target = recordedDestination(m, destinationFolders, options, fv.notes);
    if (!target) target = m.existingDestination;
    if (!target) {
      // Not under the planned name: where migrate puts a folder whose name the destination
      // would not take (its stated rule), if one of those exists.
      for (const auto& path : renamedDestinations(m.destinationPath)) {
        for (const auto& f : destinationFolders) {
          if (f.selectable && f.path == path) target = &f;
        }
        if (target) break;
      }
    }
    fv.destination = joinPath(target ? target->path : m.destinationPath);
    auto run = [&]() -> Status {
      // Both sides at once, each on its own connection, each opening and listing its folder
      // in one round trip: over a long link a folder costs one round trip here, not four.
      std::future<Result<access::MailSource::ReadView>> dstView;
      if (target) {
        dstView = std::async(std::launch::async, [&] {
          return destinationReader.openForReadAndList(*target, 1, /*withMessageId=*/true);
        });
      }
      auto srcView = source.openForReadAndList(m.source, 1, /*withMessageId=*/true);
      std::optional<Result<access::MailSource::ReadView>> dstListed;
      if (dstView.valid()) dstListed = dstView.get();
      MF_RETURN_IF_ERROR(srcView.status());
      std::vector<access::MessageMeta> src = std::move(srcView->metas);
      if (!options.includeDeleted) {
        std::erase_if(src, [](const access::MessageMeta& x) { return x.hasFlag("\\Deleted"); });
      }
      if (m.onlyWhatNoOtherFolderHolds) {
        // folder_plan.h rule 5: what other folders hold is compared there, as migrate
        // copied it there.
        if (!storedElsewhere) {
          MF_ASSIGN_OR_RETURN(storedElsewhere, readMessageKeys(source, plan.storedElsewhere,
                                                               !options.includeDeleted, m.source));
        }
        if (size_t dropped = dropMessagesWithKeys(*storedElsewhere, src)) {
          fv.notes.push_back(std::to_string(dropped) +
                             " message(s) here are in other folders too: compared there");
        }
      }
      fv.sourceMessages = src.size();
      noteServerOwnFlags(src, fv);
      std::vector<access::MessageMeta> dst;
      if (dstListed) {
        MF_RETURN_IF_ERROR(dstListed->status());
        dst = std::move((*dstListed)->metas);
        if (m.onlyWhatNoOtherFolderHolds && target->specialUse == access::SpecialUse::kAll) {
          // The destination's folder shows all mail too (Gmail): what its other folders
          // hold is compared there.
          if (!destinationElsewhere) {
            std::vector<access::Folder> others;
            for (const access::Folder& other : destinationFolders) {
              if (other.selectable && other.specialUse != access::SpecialUse::kAll) {
                others.push_back(other);
              }
            }
            MF_ASSIGN_OR_RETURN(destinationElsewhere,
                                readMessageKeys(destinationReader, others, false, *target));
          }
          dropMessagesWithKeys(*destinationElsewhere, dst);
        }
      } else if (!src.empty()) {
        fv.error = "destination folder '" + fv.destination + "' does not exist";
      }
      fv.destinationMessages = dst.size();
      if (options.deep) {
        std::vector<uint32_t> su, du;
        for (const auto& x : src) su.push_back(x.uid);
        for (const auto& x : dst) du.push_back(x.uid);
        // The two sides' bodies are read at the same time too.
        std::future<Result<std::map<uint32_t, BodyDigest>>> dstDigests;
        if (!du.empty()) {
          dstDigests =
              std::async(std::launch::async, [&] { return digestBodies(destinationReader, du); });
        }
        auto srcDigests = digestBodies(source, su);
        std::map<uint32_t, BodyDigest> dh;
        if (dstDigests.valid()) {
          MF_ASSIGN_OR_RETURN(dh, dstDigests.get());
        }
        MF_ASSIGN_OR_RETURN(auto sh, std::move(srcDigests));
        compareFolder(
            src, dst, [&](const access::MessageMeta& x) { return "sha256:" + sh[x.uid].sha256Hex; },
            [&](const access::MessageMeta& x) { return "sha256:" + dh[x.uid].sha256Hex; },
            options.includeDeleted, fv);
      } else {
        auto key = [](const access::MessageMeta& x) {
          return x.messageId + "\n" + std::to_string(x.size);
        };
        compareFolder(src, dst, key, key, options.includeDeleted, fv);
      }
      return Status::ok();
    };
    Status s = run();
    if (!s) fv.error = s.message();
    report.folders.push_back(std::move(fv));
  }
  return report;
}

}  // namespace mf::sync
