#include "sync/store_uid_allocator.h"

#include <utility>

namespace mf::sync {

StoreUidAllocator::StoreUidAllocator(store::Store& store, std::string mailboxKey,
                                     std::string sourceFolder)
    : store_(store), mailboxKey_(std::move(mailboxKey)), sourceFolder_(std::move(sourceFolder)) {}

StoreUidAllocator::StoreUidAllocator(std::unique_ptr<store::Store> store, std::string mailboxKey,
                                     std::string sourceFolder)
    : owned_(std::move(store)),
      store_(*owned_),
      mailboxKey_(std::move(mailboxKey)),
      sourceFolder_(std::move(sourceFolder)) {}

Result<uint32_t> StoreUidAllocator::uidFor(const std::string& sourceKey) {
  return store_.allocateSourceUid(mailboxKey_, sourceFolder_, sourceKey);
}

Result<std::vector<uint32_t>> StoreUidAllocator::uidsFor(
    const std::vector<std::string>& sourceKeys) {
  return store_.allocateSourceUids(mailboxKey_, sourceFolder_, sourceKeys);
}

}  // namespace mf::sync
