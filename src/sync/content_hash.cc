#include "sync/content_hash.h"

#include <openssl/evp.h>

#include <memory>

namespace mf::sync {
namespace {

class DigestConsumer : public access::BodyConsumer {
 public:
  DigestConsumer() : ctx_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {}
  Status begin(uint32_t uid, uint64_t) override {
    uid_ = uid;
    size_ = 0;
    if (EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1)
      return Status(Errc::kInternal, "SHA-256 init failed");
    return Status::ok();
  }
  Status data(std::string_view chunk) override {
    size_ += chunk.size();
    EVP_DigestUpdate(ctx_.get(), chunk.data(), chunk.size());
    return Status::ok();
  }
  Status end() override {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_.get(), md, &len);
    static const char* kHex = "0123456789abcdef";
    std::string hex;
    for (unsigned i = 0; i < len; ++i) {
      hex += kHex[md[i] >> 4];
      hex += kHex[md[i] & 15];
    }
    digests[uid_] = BodyDigest{hex, size_};
    return Status::ok();
  }
  std::map<uint32_t, BodyDigest> digests;

 private:
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx_;
  uint32_t uid_ = 0;
  uint64_t size_ = 0;
};

}  // namespace

Result<std::map<uint32_t, BodyDigest>> digestBodies(access::MailSource& source,
                                                    const std::vector<uint32_t>& uids) {
  DigestConsumer consumer;
  constexpr size_t kChunk = 1000;  // keeps each UID FETCH command line short
  for (size_t i = 0; i < uids.size(); i += kChunk) {
    std::vector<uint32_t> part(uids.begin() + i, uids.begin() + std::min(uids.size(), i + kChunk));
    MF_RETURN_IF_ERROR(source.fetchBodies(part, consumer));
  }
  return std::move(consumer.digests);
}

}  // namespace mf::sync
