// The comparison at the heart of `mailferry verify` (verifier.h states the rules), held
// compactly so that a folder of any size is compared with a few dozen bytes per message.
//
// Each side of a folder is fed window by window as its listing arrives (VerifySide::add), and
// each message is reduced to a 128-bit pairing key (pairingKeyOf: SHA-256 of Message-ID and
// size, or pairingKeyOfDigest: of the content with --deep), its UID, its normalized flag set
// (interned: a folder has few distinct sets) and its internal date as an instant: 40 bytes
// instead of the ~500 a listed MessageMeta with its strings takes. compareSides() pairs them
// and says which UIDs differ and how. The report's lines need the texts the entries left out
// (the Message-ID, the dates as the servers wrote them), so the caller lists just those
// messages again and renders the lines with DifferenceWriter, in ascending UID order.
//
// No I/O here. The two sides are filled by different threads; each owns its own tables.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "access/mail_access.h"

namespace mf::sync {

struct FolderVerification;

using PairingKey = std::array<uint64_t, 2>;

// The default pairing: (Message-ID, size), hashed. An empty Message-ID pairs with empty ones
// of the same size, as before hashing.
PairingKey pairingKeyOf(std::string_view messageId, uint64_t size);
// The --deep pairing: the first 128 bits of the content's SHA-256 (hex, as content_hash.h
// gives it).
PairingKey pairingKeyOfDigest(std::string_view sha256Hex);
// For a message whose body could not be read (gone meanwhile): pairs with nothing.
PairingKey unpairableKey(bool sourceSide, uint32_t uid);

class VerifySide {
 public:
  explicit VerifySide(bool includeDeleted) : includeDeleted_(includeDeleted) {}
  void add(const access::MessageMeta& message, const PairingKey& key);
  size_t size() const { return entries_.size(); }

 private:
  friend struct Comparison;
  struct Entry {
    PairingKey key;
    uint32_t uid = 0;
    uint32_t flagSet = 0;  // index into flagSets_
    int64_t instant = 0;   // the internal date, when dateKind == kParsed
    uint8_t dateKind = 0;  // DateKind
  };
  enum DateKind : uint8_t { kUnreadable = 0, kParsed = 1, kAssumed = 2 };
  uint32_t internFlags(const access::MessageMeta& message);

  bool includeDeleted_;
  std::vector<Entry> entries_;
  std::vector<std::string> flagSets_;  // "(\seen $label1)": normalized, sorted, joined
  std::map<std::string, uint32_t, std::less<>> flagSetIndex_;
};

struct FlagDifference {
  uint32_t sourceUid = 0;
  uint32_t destinationUid = 0;
  std::string sourceFlags;  // joined as in the report: "(\seen foo)"
  std::string destinationFlags;
};

struct DateDifference {
  uint32_t sourceUid = 0;
  uint32_t destinationUid = 0;
};

struct Comparison {
  std::vector<uint32_t> missing;      // source UIDs without a copy, ascending
  std::vector<uint32_t> extra;        // destination UIDs no source message claimed, ascending
  std::vector<FlagDifference> flags;  // by source UID
  std::vector<DateDifference> dates;  // by source UID
  uint64_t sourceUndated = 0;         // paired, source date assumed: not compared

  // The UIDs whose listing the report lines need, ascending and unique.
  std::vector<uint32_t> sourceUidsToDescribe() const;
  std::vector<uint32_t> destinationUidsToDescribe() const;
  bool identical() const {
    return missing.empty() && extra.empty() && flags.empty() && dates.empty();
  }

  // Pairs the two sides (each destination message stands for one source message at most; of
  // several with one key, the lowest UIDs pair first) and empties them.
  static Comparison of(VerifySide& source, VerifySide& destination);
};

// Writes a Comparison's lines into a FolderVerification from the listings of the messages it
// names: the destination's first (its extras, and the dates that differing lines quote), then
// the source's, each in ascending UID order, any number of windows each.
class DifferenceWriter {
 public:
  DifferenceWriter(const Comparison& comparison, FolderVerification& out);
  void destinationListed(const std::vector<access::MessageMeta>& window);
  void sourceListed(const std::vector<access::MessageMeta>& window);
  // Lines for the UIDs no listing showed any more (expunged since the comparison's listing).
  void finish();

 private:
  const Comparison& comparison_;
  FolderVerification& out_;
  std::map<uint32_t, std::string> destinationDates_;  // of date differences' copies
  size_t nextExtra_ = 0, nextMissing_ = 0, nextFlags_ = 0, nextDates_ = 0;
};

}  // namespace mf::sync
