// Thread-safe decorators used when several workers copy folders of one mailbox in
// parallel: one mutex around every call of the wrapped Store / ProgressSink. SQLite
// serializes writes anyway, and progress calls are tiny, so one lock costs nothing that
// matters next to the network.
#pragma once

#include <mutex>

#include "store/state_store.h"
#include "sync/report.h"

namespace mf::sync {

class LockedStore : public store::Store {
 public:
  explicit LockedStore(store::Store& inner) : inner_(inner) {}
  Result<std::optional<store::FolderPairState>> loadFolder(const std::string& key,
                                                           const std::string& folder) override {
    std::lock_guard lock(mutex_);
    return inner_.loadFolder(key, folder);
  }
  Status saveFolder(const store::FolderPairState& state) override {
    std::lock_guard lock(mutex_);
    return inner_.saveFolder(state);
  }
  Result<std::vector<store::MessageRecord>> loadMessages(const std::string& key,
                                                         const std::string& folder) override {
    std::lock_guard lock(mutex_);
    return inner_.loadMessages(key, folder);
  }
  Result<std::vector<store::MessageRecord>> loadMessagesToResume(const std::string& key,
                                                                 const std::string& folder,
                                                                 uint32_t fromUid) override {
    std::lock_guard lock(mutex_);
    return inner_.loadMessagesToResume(key, folder, fromUid);
  }
  Status saveMessages(const std::string& key, const std::string& folder,
                      const std::vector<store::MessageRecord>& records) override {
    std::lock_guard lock(mutex_);
    return inner_.saveMessages(key, folder, records);
  }
  Status replaceAllMessages(const std::string& key, const std::string& folder,
                            const std::vector<store::MessageRecord>& records) override {
    std::lock_guard lock(mutex_);
    return inner_.replaceAllMessages(key, folder, records);
  }
  Status forEachMessage(const std::string& key, const std::string& folder,
                        const RecordVisitor& visit) override {
    std::lock_guard lock(mutex_);
    return inner_.forEachMessage(key, folder, visit);
  }
  Status replaceAllMessagesFrom(const std::string& key, const std::string& folder,
                                const RecordChunks& next) override {
    std::lock_guard lock(mutex_);
    return inner_.replaceAllMessagesFrom(key, folder, next);
  }
  Result<std::vector<uint32_t>> allocateSourceUids(
      const std::string& key, const std::string& folder,
      const std::vector<std::string>& sourceKeys) override {
    std::lock_guard lock(mutex_);
    return inner_.allocateSourceUids(key, folder, sourceKeys);
  }

 private:
  store::Store& inner_;
  std::mutex mutex_;
};

class LockedProgress : public ProgressSink {
 public:
  explicit LockedProgress(ProgressSink& inner) : inner_(inner) {}
  void onStart(uint64_t estimate) override {
    std::lock_guard lock(mutex_);
    inner_.onStart(estimate);
  }
  void onFolderStart(const std::string& source, const std::string& destination, uint64_t toCopy,
                     uint64_t bytes) override {
    std::lock_guard lock(mutex_);
    inner_.onFolderStart(source, destination, toCopy, bytes);
  }
  void onMessage(uint64_t bytes, bool ok) override {
    std::lock_guard lock(mutex_);
    inner_.onMessage(bytes, ok);
  }
  void onFolderDone(const FolderReport& report) override {
    std::lock_guard lock(mutex_);
    inner_.onFolderDone(report);
  }
  void onNotice(const std::string& text) override {
    std::lock_guard lock(mutex_);
    inner_.onNotice(text);
  }

 private:
  ProgressSink& inner_;
  std::mutex mutex_;
};

}  // namespace mf::sync
