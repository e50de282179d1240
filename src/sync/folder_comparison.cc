#include "sync/folder_comparison.h"

#include <openssl/evp.h>

#include <algorithm>
#include <set>

#include "base/ascii.h"
#include "message/imap_date.h"
#include "sync/flags.h"
#include "sync/verifier.h"

namespace mf::sync {
namespace {

PairingKey keyFromBytes(const unsigned char* bytes) {
  PairingKey key{0, 0};
  for (int i = 0; i < 8; ++i) {
    key[0] = key[0] << 8 | bytes[i];
    key[1] = key[1] << 8 | bytes[8 + i];
  }
  return key;
}

std::string describe(const access::MessageMeta& m) {
  std::string s = "UID " + std::to_string(m.uid);
  s += m.messageId.empty() ? " (no Message-ID)" : " " + m.messageId;
  s += ", " + std::to_string(m.size) + " bytes, " + m.internalDate;
  return s;
}

std::string gone(uint32_t uid) {
  return "UID " + std::to_string(uid) + " (gone from the folder since verify listed it)";
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 0;
}

// Calls `line(index)` for the entries of `uids` (ascending) equal to `uid`, and `goneLine` for
// those below it that no listing showed: `next` walks `uids` as the listings ascend.
template <typename UidOf, typename Line>
void advance(size_t& next, size_t count, uint32_t uid, UidOf uidOf, Line line,
             std::vector<std::string>* goneLines) {
  while (next < count && uidOf(next) < uid) {
    if (goneLines) goneLines->push_back(gone(uidOf(next)));
    ++next;
  }
  while (next < count && uidOf(next) == uid) line(next++);
}

}  // namespace

PairingKey pairingKeyOf(std::string_view messageId, uint64_t size) {
  std::string text(messageId);
  text += '\n';
  text += std::to_string(size);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), md, &len, EVP_sha256(), nullptr);
  return keyFromBytes(md);
}

PairingKey pairingKeyOfDigest(std::string_view sha256Hex) {
  unsigned char bytes[16] = {};
  for (size_t i = 0; i < 16 && 2 * i + 1 < sha256Hex.size(); ++i) {
    bytes[i] = static_cast<unsigned char>(hexValue(sha256Hex[2 * i]) << 4 |
                                          hexValue(sha256Hex[2 * i + 1]));
  }
  return keyFromBytes(bytes);
}

PairingKey unpairableKey(bool sourceSide, uint32_t uid) {
  // No SHA-256 starts with 64 zero bits in practice; the side keeps the two apart.
  return PairingKey{0, (sourceSide ? 1ULL << 32 : 2ULL << 32) | uid};
}

uint32_t VerifySide::internFlags(const access::MessageMeta& message) {
  std::set<std::string> normalized;
  for (const auto& f : message.flags) {
    std::string lower = toLowerAscii(f);
    if (lower == "\\recent") continue;
    if (isServerOwnFlag(f)) continue;  // no client can set it (flags.h): counted apart
    if (!includeDeleted_ && lower == "\\deleted") continue;
    normalized.insert(std::move(lower));
  }
  std::string joined = "(";
  for (const auto& f : normalized) {
    if (joined.size() > 1) joined += ' ';
    joined += f;
  }
  joined += ')';
  auto found = flagSetIndex_.find(joined);
  if (found != flagSetIndex_.end()) return found->second;
  auto index = static_cast<uint32_t>(flagSets_.size());
  flagSets_.push_back(joined);
  flagSetIndex_.emplace(std::move(joined), index);
  return index;
}

void VerifySide::add(const access::MessageMeta& message, const PairingKey& key) {
  Entry e;
  e.key = key;
  e.uid = message.uid;
  e.flagSet = internFlags(message);
  if (message.dateAssumed) {
    e.dateKind = kAssumed;
  } else if (auto instant = message::parseImapDateTime(message.internalDate)) {
    e.dateKind = kParsed;
    e.instant = *instant;
  }
  entries_.push_back(e);
}

Comparison Comparison::of(VerifySide& source, VerifySide& destination) {
  Comparison out;
  using Entry = VerifySide::Entry;
  std::vector<Entry>& pool = destination.entries_;
  // Sorted by key, then UID: of several copies with one key the lowest UID pairs first.
  std::sort(pool.begin(), pool.end(), [](const Entry& a, const Entry& b) {
    return a.key != b.key ? a.key < b.key : a.uid < b.uid;
  });
  std::vector<bool> taken(pool.size(), false);
  std::vector<Entry>& sources = source.entries_;
  std::sort(sources.begin(), sources.end(),
            [](const Entry& a, const Entry& b) { return a.uid < b.uid; });
  for (const Entry& s : sources) {
    auto it = std::lower_bound(pool.begin(), pool.end(), s.key,
                               [](const Entry& e, const PairingKey& k) { return e.key < k; });
    auto index = static_cast<size_t>(it - pool.begin());
    while (index < pool.size() && pool[index].key == s.key && taken[index]) ++index;
    if (index == pool.size() || pool[index].key != s.key) {
      out.missing.push_back(s.uid);
      continue;
    }
    taken[index] = true;
    const Entry& d = pool[index];
    const std::string& sourceFlags = source.flagSets_[s.flagSet];
    const std::string& destinationFlags = destination.flagSets_[d.flagSet];
    if (sourceFlags != destinationFlags) {
      out.flags.push_back({s.uid, d.uid, sourceFlags, destinationFlags});
    }
    if (s.dateKind == VerifySide::kAssumed) {
      // "Now" at this listing against "now" at the copy: nothing to compare.
      ++out.sourceUndated;
    } else if (s.dateKind != d.dateKind ||
               (s.dateKind == VerifySide::kParsed && s.instant != d.instant)) {
      out.dates.push_back({s.uid, d.uid});
    }
  }
  for (size_t i = 0; i < pool.size(); ++i) {
    if (!taken[i]) out.extra.push_back(pool[i].uid);
  }
  std::sort(out.extra.begin(), out.extra.end());
  source.entries_ = {};
  destination.entries_ = {};
  return out;
}

std::vector<uint32_t> Comparison::sourceUidsToDescribe() const {
  std::vector<uint32_t> uids = missing;
  for (const auto& f : flags) uids.push_back(f.sourceUid);
  for (const auto& d : dates) uids.push_back(d.sourceUid);
  std::sort(uids.begin(), uids.end());
  uids.erase(std::unique(uids.begin(), uids.end()), uids.end());
  return uids;
}

std::vector<uint32_t> Comparison::destinationUidsToDescribe() const {
  std::vector<uint32_t> uids = extra;
  for (const auto& d : dates) uids.push_back(d.destinationUid);
  std::sort(uids.begin(), uids.end());
  uids.erase(std::unique(uids.begin(), uids.end()), uids.end());
  return uids;
}

DifferenceWriter::DifferenceWriter(const Comparison& comparison, FolderVerification& out)
    : comparison_(comparison), out_(out) {
  for (const auto& d : comparison.dates) destinationDates_[d.destinationUid];
}

void DifferenceWriter::destinationListed(const std::vector<access::MessageMeta>& window) {
  const auto& extra = comparison_.extra;
  for (const auto& m : window) {
    advance(
        nextExtra_, extra.size(), m.uid, [&](size_t i) { return extra[i]; },
        [&](size_t) { out_.extra.push_back(describe(m)); }, &out_.extra);
    auto date = destinationDates_.find(m.uid);
    if (date != destinationDates_.end()) date->second = m.internalDate;
  }
}

void DifferenceWriter::sourceListed(const std::vector<access::MessageMeta>& window) {
  const Comparison& c = comparison_;
  for (const auto& m : window) {
    advance(
        nextMissing_, c.missing.size(), m.uid, [&](size_t i) { return c.missing[i]; },
        [&](size_t) { out_.missing.push_back(describe(m)); }, &out_.missing);
    advance(
        nextFlags_, c.flags.size(), m.uid, [&](size_t i) { return c.flags[i].sourceUid; },
        [&](size_t i) {
          const FlagDifference& f = c.flags[i];
          out_.flagDifferences.push_back(describe(m) + ": source flags " + f.sourceFlags +
                                         ", destination UID " + std::to_string(f.destinationUid) +
                                         " has " + f.destinationFlags);
        },
        &out_.flagDifferences);
    advance(
        nextDates_, c.dates.size(), m.uid, [&](size_t i) { return c.dates[i].sourceUid; },
        [&](size_t i) {
          const DateDifference& d = c.dates[i];
          auto date = destinationDates_.find(d.destinationUid);
          std::string copyDate = date == destinationDates_.end() || date->second.empty()
                                     ? std::string("(gone since verify listed it)")
                                     : date->second;
          out_.dateDifferences.push_back(describe(m) + ": destination UID " +
                                         std::to_string(d.destinationUid) + " has internal date " +
                                         copyDate);
        },
        &out_.dateDifferences);
  }
}

void DifferenceWriter::finish() {
  const Comparison& c = comparison_;
  auto rest = [](size_t& next, size_t count, auto uidOf, std::vector<std::string>& lines) {
    for (; next < count; ++next) lines.push_back(gone(uidOf(next)));
  };
  rest(
      nextExtra_, c.extra.size(), [&](size_t i) { return c.extra[i]; }, out_.extra);
  rest(
      nextMissing_, c.missing.size(), [&](size_t i) { return c.missing[i]; }, out_.missing);
  rest(
      nextFlags_, c.flags.size(), [&](size_t i) { return c.flags[i].sourceUid; },
      out_.flagDifferences);
  rest(
      nextDates_, c.dates.size(), [&](size_t i) { return c.dates[i].sourceUid; },
      out_.dateDifferences);
}

}  // namespace mf::sync
