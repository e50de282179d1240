#include "access/mail_access.h"

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
