// StoreUidAllocator: the persistent access::UidAllocator, backed by the state store's
// source_uids table (store::Store::allocateSourceUids; docs/formats/state-sqlite.md).
//
// One object serves one (mailbox key, source folder): pass the same mailbox key as
// MigrateOptions::mailboxKey and the source folder's display name ("INBOX" for POP3), so the
// UIDs a POP3 source reports match the engine's UID map and watermark of that folder pair.
// Threading: one thread at a time, like a Store. The POP3 source calls the allocator on the
// engine's worker thread; when the engine uses its Store from other threads meanwhile, give
// the allocator a Store of its own on the same file (the owning constructor): SQLite state
// files are made for several connections. Otherwise the store must outlive the allocator.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "access/uid_allocator.h"
#include "store/state_store.h"

namespace mf::sync {

class StoreUidAllocator : public access::UidAllocator {
 public:
  StoreUidAllocator(store::Store& store, std::string mailboxKey, std::string sourceFolder);
  // Owns its store, e.g. store::openSqliteStore(statePath) opened for the allocator alone.
  StoreUidAllocator(std::unique_ptr<store::Store> store, std::string mailboxKey,
                    std::string sourceFolder);

  Result<uint32_t> uidFor(const std::string& sourceKey) override;
  // One store call (one transaction when there are new keys) for the whole listing.
  Result<std::vector<uint32_t>> uidsFor(const std::vector<std::string>& sourceKeys) override;

 private:
  std::unique_ptr<store::Store> owned_;
  store::Store& store_;
  std::string mailboxKey_;
  std::string sourceFolder_;
};

}  // namespace mf::sync
