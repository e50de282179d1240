#include "access/mail_access.h"

#include <algorithm>

#include "base/ascii.h"

namespace mf::access {

std::string_view specialUseName(SpecialUse use) {
  switch (use) {
    case SpecialUse::kNone:
      return "";
    case SpecialUse::kSent:
      return "\\Sent";
    case SpecialUse::kDrafts:
      return "\\Drafts";
    case SpecialUse::kTrash:
      return "\\Trash";
    case SpecialUse::kJunk:
      return "\\Junk";
    case SpecialUse::kArchive:
      return "\\Archive";
    case SpecialUse::kAll:
      return "\\All";
    case SpecialUse::kFlagged:
      return "\\Flagged";
  }
  return "";
}

std::string Folder::displayName() const {
  std::string out;
  for (size_t i = 0; i < path.size(); ++i) {
    if (i) out += '/';
    out += path[i];
  }
  return out;
}

std::vector<Result<FolderStatus>> MailSource::folderStatuses(const std::vector<Folder>& folders) {
  std::vector<Result<FolderStatus>> out;
  out.reserve(folders.size());
  for (const Folder& folder : folders) out.push_back(folderStatus(folder));
  return out;
}

Result<MailSource::ReadView> MailSource::openForReadAndList(const Folder& folder, uint32_t minUid,
                                                            bool withMessageId) {
  ReadView view;
  MF_ASSIGN_OR_RETURN(view.status, openForRead(folder));
  if (view.status.messages > 0) {
    MF_ASSIGN_OR_RETURN(
        view.metas, withMessageId ? listMessages(minUid) : listMessagesWithoutMessageId(minUid));
  }
  return view;
}

Result<std::vector<MessageMeta>> MailSource::listMessagesBetween(uint32_t minUid, uint32_t maxUid,
                                                                 bool withMessageId) {
  MF_ASSIGN_OR_RETURN(auto metas,
                      withMessageId ? listMessages(minUid) : listMessagesWithoutMessageId(minUid));
  std::erase_if(metas, [maxUid](const MessageMeta& m) { return m.uid > maxUid; });
  return metas;
}

Result<MailSource::ListingWindows> MailSource::planListingWindows(uint32_t minUid, size_t window) {
  MF_ASSIGN_OR_RETURN(auto metas, listMessagesWithoutMessageId(minUid));
  std::vector<uint32_t> uids;
  uint64_t bytes = 0;
  for (const auto& m : metas) {
    uids.push_back(m.uid);
    bytes += m.size;
  }
  return listingWindowsOf(std::move(uids), bytes, window);
}

MailSource::ListingWindows listingWindowsOf(std::vector<uint32_t> uids, uint64_t bytes,
                                            size_t window) {
  std::sort(uids.begin(), uids.end());
  uids.erase(std::unique(uids.begin(), uids.end()), uids.end());
  MailSource::ListingWindows out;
  out.messages = uids.size();
  out.bytes = bytes;
  if (window == 0) window = 1;
  for (size_t i = 0; i < uids.size(); i += window) out.firstUids.push_back(uids[i]);
  return out;
}

Result<MailSource::ListingWindows> listFolder(MailSource& source, uint64_t messages, size_t window,
                                              bool withMessageId, const ListingFn& onWindow) {
  MailSource::ListingWindows windows;
  if (messages == 0) return windows;
  if (listedWhole(messages, window)) {
    MF_ASSIGN_OR_RETURN(auto metas, withMessageId ? source.listMessages(1)
                                                  : source.listMessagesWithoutMessageId(1));
    MF_RETURN_IF_ERROR(onWindow(metas));
    return windows;
  }
  MF_ASSIGN_OR_RETURN(windows, source.planListingWindows(1, window));
  for (size_t k = 0; k < windows.firstUids.size(); ++k) {
    MF_ASSIGN_OR_RETURN(auto metas, source.listMessagesBetween(
                                        windows.firstUids[k], lastUidOfWindow(windows.firstUids, k),
                                        withMessageId));
    MF_RETURN_IF_ERROR(onWindow(metas));
  }
  return windows;
}

Status listMessagesAgain(MailSource& source, const std::vector<uint32_t>& uids, size_t window,
                         bool withMessageId,
                         const std::function<void(const std::vector<MessageMeta>&)>& onWindow) {
  constexpr uint32_t kGap = 1024;
  if (window == 0) window = SIZE_MAX;  // no window: ranges split at gaps only
  size_t i = 0;
  while (i < uids.size()) {
    size_t j = i + 1;
    while (j < uids.size() && uids[j] - uids[i] < window && uids[j] - uids[j - 1] <= kGap) ++j;
    MF_ASSIGN_OR_RETURN(auto metas,
                        source.listMessagesBetween(uids[i], uids[j - 1], withMessageId));
    onWindow(metas);
    i = j;
  }
  return Status::ok();
}

Result<DestinationFolderInfo> MailDestination::subscribeAndOpenForAppend(const Folder& folder,
                                                                         Status& subscribed) {
  subscribed = subscribe(folder);
  return openForAppend(folder);
}

bool MessageMeta::hasFlag(std::string_view flag) const {
  for (const auto& f : flags) {
    if (equalsIgnoreCase(f, flag)) return true;
  }
  return false;
}

}  // namespace mf::access
