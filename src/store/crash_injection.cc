#include "store/crash_injection.h"

#include <csignal>
#include <cstdlib>

#include "base/checked_number.h"

namespace mf::store {
namespace {

class CrashingStore : public Store {
 public:
  CrashingStore(std::unique_ptr<Store> inner, uint64_t writesBeforeCrash)
      : inner_(std::move(inner)), left_(writesBeforeCrash) {}

  Result<std::optional<FolderPairState>> loadFolder(const std::string& key,
                                                    const std::string& folder) override {
    return inner_->loadFolder(key, folder);
  }
  Status saveFolder(const FolderPairState& state) override {
    return afterWrite(inner_->saveFolder(state));
  }
  Result<std::vector<MessageRecord>> loadMessages(const std::string& key,
                                                  const std::string& folder) override {
    return inner_->loadMessages(key, folder);
  }
  Result<std::vector<MessageRecord>> loadMessagesToResume(const std::string& key,
                                                          const std::string& folder,
                                                          uint32_t fromUid) override {
    return inner_->loadMessagesToResume(key, folder, fromUid);
  }
  Status saveMessages(const std::string& key, const std::string& folder,
                      const std::vector<MessageRecord>& records) override {
    return afterWrite(inner_->saveMessages(key, folder, records));
  }
  Status replaceAllMessages(const std::string& key, const std::string& folder,
                            const std::vector<MessageRecord>& records) override {
    return afterWrite(inner_->replaceAllMessages(key, folder, records));
  }
  Status forEachMessage(const std::string& key, const std::string& folder,
                        const RecordVisitor& visit) override {
    return inner_->forEachMessage(key, folder, visit);
  }
  Status replaceAllMessagesFrom(const std::string& key, const std::string& folder,
                                const RecordChunks& next) override {
    return afterWrite(inner_->replaceAllMessagesFrom(key, folder, next));
  }
  Result<std::vector<uint32_t>> allocateSourceUids(
      const std::string& key, const std::string& folder,
      const std::vector<std::string>& sourceKeys) override {
    return inner_->allocateSourceUids(key, folder, sourceKeys);
  }

 private:
  Status afterWrite(Status s) {
    if (s.isOk() && --left_ == 0) std::raise(SIGKILL);
    return s;
  }
  std::unique_ptr<Store> inner_;
  uint64_t left_;
};

}  // namespace

std::unique_ptr<Store> withCrashInjectionFromEnvironment(std::unique_ptr<Store> inner) {
  const char* value = std::getenv("MAILFERRY_CRASH_AFTER_STATE_WRITES");
  if (!value) return inner;
  auto k = parseDecimal(value);
  if (!k || *k == 0) return inner;
  return std::make_unique<CrashingStore>(std::move(inner), *k);
}

}  // namespace mf::store
