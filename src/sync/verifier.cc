#include "sync/verifier.h"

#include <algorithm>
#include <functional>
#include <future>
#include <optional>

#include "sync/content_hash.h"
#include "sync/flags.h"
#include "sync/folder_comparison.h"
#include "sync/folder_naming.h"

namespace mf::sync {
namespace {

// The keys of every message of `folders` (folder_plan.h rule 5), read on `reader`, which is
// left with the last of them open: the caller opens the folder it lists next.
Result<MessageKeys> readMessageKeys(access::MailSource& reader,
                                    const std::vector<access::Folder>& folders, bool skipDeleted) {
  MessageKeys keys;
  for (const access::Folder& folder : folders) {
    MF_ASSIGN_OR_RETURN(auto view, reader.openForReadAndList(folder, 1, /*withMessageId=*/true));
    addMessageKeys(view.metas, skipDeleted, keys);
  }
  return keys;
}

// Opens `folder` on `reader` and gives its listing to `onWindow`: in one piece (open and list
// in one round trip) when STATUS said it holds no more than `window` messages, else a window
// at a time (access::listFolder), so that no more than one window's listing is held at once.
Status listInWindows(access::MailSource& reader, const access::Folder& folder,
                     uint32_t expectedMessages, size_t window, const access::ListingFn& onWindow) {
  if (access::listedWhole(expectedMessages, window)) {
    MF_ASSIGN_OR_RETURN(auto view, reader.openForReadAndList(folder, 1, /*withMessageId=*/true));
    return onWindow(view.metas);
  }
  MF_ASSIGN_OR_RETURN(auto opened, reader.openForRead(folder));
  return access::listFolder(reader, opened.messages, window, true, onWindow).status();
}

// Adds a listed window to `side`, keyed by Message-ID and size, or with `deep` by the SHA-256
// of each body, read from `reader` (the folder is open there).
Status addWindow(access::MailSource& reader, const std::vector<access::MessageMeta>& metas,
                 bool deep, bool sourceSide, VerifySide& side) {
  if (!deep) {
    for (const auto& m : metas) side.add(m, pairingKeyOf(m.messageId, m.size));
    return Status::ok();
  }
  std::vector<uint32_t> uids;
  uids.reserve(metas.size());
  for (const auto& m : metas) uids.push_back(m.uid);
  MF_ASSIGN_OR_RETURN(auto digests, digestBodies(reader, uids));
  for (const auto& m : metas) {
    auto found = digests.find(m.uid);
    side.add(m, found == digests.end() ? unpairableKey(sourceSide, m.uid)
                                       : pairingKeyOfDigest(found->second.sha256Hex));
  }
  return Status::ok();
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

  // Which destination folder each source folder is compared with (the header's rules).
  std::vector<const access::Folder*> targets;
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
    targets.push_back(target);
    report.folders.push_back(std::move(fv));
  }
  // Every folder's size, both sides at once, each side's STATUS pipelined: a folder bigger
  // than a listing window is listed a window at a time. A failed STATUS counts as small: the
  // listing then says what is wrong.
  std::vector<access::Folder> sourceList, destinationList;
  for (size_t i = 0; i < plan.folders.size(); ++i) {
    sourceList.push_back(plan.folders[i].source);
    if (targets[i]) destinationList.push_back(*targets[i]);
  }
  auto destinationCounts = std::async(
      std::launch::async, [&] { return destinationReader.folderStatuses(destinationList); });
  auto sourceCounts = source.folderStatuses(sourceList);
  auto destinationCountsGot = destinationCounts.get();
  auto messagesOf = [](const std::vector<Result<access::FolderStatus>>& statuses, size_t i) {
    return i < statuses.size() && statuses[i].isOk() ? statuses[i]->messages : 0u;
  };

  const size_t window = std::max<size_t>(1, options.listingWindow);
  std::optional<MessageKeys> storedElsewhere;       // read when a folder first needs it
  std::optional<MessageKeys> destinationElsewhere;  // the same on a destination like Gmail
  size_t destinationIndex = 0;
  for (size_t i = 0; i < plan.folders.size(); ++i) {
    const FolderMapping& m = plan.folders[i];
    const access::Folder* target = targets[i];
    FolderVerification& fv = report.folders[i];
    const uint32_t sourceExpected = messagesOf(sourceCounts, i);
    const uint32_t destinationExpected =
        target ? messagesOf(destinationCountsGot, destinationIndex++) : 0;
    auto run = [&]() -> Status {
      VerifySide sourceSide(options.includeDeleted), destinationSide(options.includeDeleted);
      // The destination side on its own connection while the source side is read: over a
      // long link a small folder costs one round trip here, not two.
      std::future<Status> destinationListed;
      if (target) {
        destinationListed = std::async(std::launch::async, [&]() -> Status {
          // The destination's folder shows all mail too (Gmail): what its other folders hold
          // is compared there.
          const bool dropOthers =
              m.onlyWhatNoOtherFolderHolds && target->specialUse == access::SpecialUse::kAll;
          if (dropOthers && !destinationElsewhere) {
            std::vector<access::Folder> others;
            for (const access::Folder& other : destinationFolders) {
              if (other.selectable && other.specialUse != access::SpecialUse::kAll) {
                others.push_back(other);
              }
            }
            MF_ASSIGN_OR_RETURN(destinationElsewhere,
                                readMessageKeys(destinationReader, others, false));
          }
          return listInWindows(destinationReader, *target, destinationExpected, window,
                               [&](std::vector<access::MessageMeta>& metas) -> Status {
                                 if (dropOthers) dropMessagesWithKeys(*destinationElsewhere, metas);
                                 return addWindow(destinationReader, metas, options.deep,
                                                  /*sourceSide=*/false, destinationSide);
                               });
        });
      }
      size_t inOtherFolders = 0;
      ServerOwnFlagTally serverOwnFlags;
      Status sourceListed = [&]() -> Status {
        if (m.onlyWhatNoOtherFolderHolds && !storedElsewhere) {
          // folder_plan.h rule 5: what other folders hold is compared there, as migrate
          // copied it there.
          MF_ASSIGN_OR_RETURN(storedElsewhere, readMessageKeys(source, plan.storedElsewhere,
                                                               !options.includeDeleted));
        }
        return listInWindows(source, m.source, sourceExpected, window,
                             [&](std::vector<access::MessageMeta>& metas) -> Status {
                               if (!options.includeDeleted) {
                                 std::erase_if(metas, [](const access::MessageMeta& x) {
                                   return x.hasFlag("\\Deleted");
                                 });
                               }
                               if (m.onlyWhatNoOtherFolderHolds) {
                                 inOtherFolders += dropMessagesWithKeys(*storedElsewhere, metas);
                               }
                               for (const auto& x : metas) serverOwnFlags.add(x.flags);
                               return addWindow(source, metas, options.deep,
                                                /*sourceSide=*/true, sourceSide);
                             });
      }();
      Status destinationStatus = destinationListed.valid() ? destinationListed.get() : Status::ok();
      MF_RETURN_IF_ERROR(sourceListed);
      if (inOtherFolders) {
        fv.notes.push_back(std::to_string(inOtherFolders) +
                           " message(s) here are in other folders too: compared there");
      }
      // The source server's own flags (flags.h) are left out of the comparison: said here.
      std::string ownFlagsNote = serverOwnFlags.note("not compared");
      if (!ownFlagsNote.empty()) fv.notes.push_back(std::move(ownFlagsNote));
      fv.sourceMessages = sourceSide.size();
      MF_RETURN_IF_ERROR(destinationStatus);
      if (!target && sourceSide.size() > 0) {
        fv.error = "destination folder '" + fv.destination + "' does not exist";
      }
      fv.destinationMessages = destinationSide.size();
      Comparison comparison = Comparison::of(sourceSide, destinationSide);
      fv.sourceUndated = comparison.sourceUndated;
      if (comparison.identical()) return Status::ok();
      // The lines quote what the compact entries left out: the messages that differ are
      // listed again (each side's folder is still open on its connection).
      DifferenceWriter writer(comparison, fv);
      if (target) {
        MF_RETURN_IF_ERROR(access::listMessagesAgain(
            destinationReader, comparison.destinationUidsToDescribe(), window, true,
            [&](const std::vector<access::MessageMeta>& w) { writer.destinationListed(w); }));
      }
      MF_RETURN_IF_ERROR(access::listMessagesAgain(
          source, comparison.sourceUidsToDescribe(), window, true,
          [&](const std::vector<access::MessageMeta>& w) { writer.sourceListed(w); }));
      writer.finish();
      return Status::ok();
    };
    Status s = run();
    if (!s) fv.error = s.message();
  }
  return report;
}

}  // namespace mf::sync
