#include "sync/rematch_index.h"

#include <algorithm>
#include <map>
#include <utility>

namespace mf::sync {
namespace {

// The Message-ID alone: hashed with a size no message has, so it never equals a
// pairingKeyOf(Message-ID, size) by construction of the input.
PairingKey idKeyOf(std::string_view messageId) {
  return pairingKeyOf(messageId, UINT64_MAX);
}

}  // namespace

void RematchIndex::addCopy(std::string_view messageId, uint64_t size, uint32_t destinationUid) {
  Copy c;
  c.key = pairingKeyOf(messageId, size);
  c.idKey = idKeyOf(messageId);
  c.destinationUid = destinationUid;
  c.order = static_cast<uint32_t>(copies_.size());
  copies_.push_back(c);
}

void RematchIndex::seal() {
  std::sort(copies_.begin(), copies_.end(), [](const Copy& a, const Copy& b) {
    return a.key != b.key ? a.key < b.key : a.order < b.order;
  });
}

std::optional<uint32_t> RematchIndex::takeExact(std::string_view messageId, uint64_t size) {
  const PairingKey key = pairingKeyOf(messageId, size);
  auto it = std::lower_bound(copies_.begin(), copies_.end(), key,
                             [](const Copy& c, const PairingKey& k) { return c.key < k; });
  for (; it != copies_.end() && it->key == key; ++it) {
    if (it->taken) continue;
    it->taken = true;
    return it->destinationUid;
  }
  return std::nullopt;
}

void RematchIndex::addUnpaired(const access::MessageMeta& message) {
  unpaired_.push_back({message.uid, message.size, message.messageId, message.internalDate});
}

std::vector<RematchIndex::Candidate> RematchIndex::uniquePairs() const {
  std::map<PairingKey, int> sources;
  for (const auto& u : unpaired_) ++sources[idKeyOf(u.messageId)];
  // Of the unused copies, only the Message-IDs some unpaired message carries matter.
  std::map<PairingKey, std::pair<int, uint32_t>> unused;
  for (const auto& c : copies_) {
    if (c.taken || !sources.count(c.idKey)) continue;
    auto& [count, uid] = unused[c.idKey];
    ++count;
    uid = c.destinationUid;
  }
  std::vector<Candidate> out;
  for (const auto& u : unpaired_) {
    const PairingKey id = idKeyOf(u.messageId);
    auto copy = unused.find(id);
    if (sources.at(id) != 1 || copy == unused.end() || copy->second.first != 1) continue;
    out.push_back({&u, copy->second.second});
  }
  return out;
}

}  // namespace mf::sync
