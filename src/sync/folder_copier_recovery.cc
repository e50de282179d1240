// FolderCopier's recovery paths (see folder_copier.h and docs/architecture.md "Exactly
// once"): resolving intents left pending by a crash or a lost connection, and re-matching
// the records after the source changed its UIDVALIDITY or the destination folder was
// replaced.
#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <thread>

#include "message/imap_date.h"
#include "sync/content_hash.h"
#include "sync/folder_copier.h"
#include "sync/rematch_index.h"

namespace mf::sync {

using store::MessageRecord;
using store::MessageState;

namespace {

// A source message without a Message-ID: paired by content.
struct UnnamedMessage {
  uint32_t uid = 0;
  uint64_t size = 0;
};

// Pairs `sources` (of the folder open on `source`) with the copies `copyUids` of the folder
// open on `destination` by the SHA-256 of their content; each copy stands for one message at
// most. Calls pair(message, copy UID) for each pair; returns how many.
template <typename PairFn>
Result<size_t> pairByContent(access::MailSource& source, access::MailSource& destination,
                             const std::vector<UnnamedMessage>& sources,
                             const std::vector<uint32_t>& copyUids, PairFn pair) {
  if (sources.empty() || copyUids.empty()) return size_t{0};
  MF_ASSIGN_OR_RETURN(auto copyDigests, digestBodies(destination, copyUids));
  std::vector<uint32_t> sourceUids;
  for (const auto& m : sources) sourceUids.push_back(m.uid);
  MF_ASSIGN_OR_RETURN(auto sourceDigests, digestBodies(source, sourceUids));
  std::multimap<std::string, uint32_t> copiesByHash;
  for (const auto& [uid, d] : copyDigests) copiesByHash.emplace(d.sha256Hex, uid);
  size_t paired = 0;
  for (const auto& m : sources) {
    auto s = sourceDigests.find(m.uid);
    if (s == sourceDigests.end()) continue;
    auto d = copiesByHash.find(s->second.sha256Hex);
    if (d == copiesByHash.end()) continue;
    pair(m, d->second);
    copiesByHash.erase(d);
    ++paired;
  }
  return paired;
}

// Two IMAP internal dates that name the same instant; false if either cannot be read.
bool sameInstant(std::string_view a, std::string_view b) {
  auto x = message::parseImapDateTime(a);
  auto y = message::parseImapDateTime(b);
  return x && y && *x == *y;
}

}  // namespace

Status FolderCopier::recoverPendingIntents(FolderReport& report) {
  // A session we lost (kill -9, dropped connection) may still be being processed by the
  // server: APPENDs it had already sent keep landing for a moment. Wait for quiet first.
  {
    const auto deadline = std::chrono::steady_clock::now() + options_.recoveryMaxWait;
    auto lastChange = std::chrono::steady_clock::now();
    uint32_t lastUidNext = 0;
    bool first = true;
    for (;;) {
      MF_ASSIGN_OR_RETURN(auto st, destinationReader_.folderStatus(destinationFolder_));
      auto now = std::chrono::steady_clock::now();
      if (first || st.uidNext != lastUidNext) {
        lastUidNext = st.uidNext;
        lastChange = now;
        first = false;
      } else if (now - lastChange >= options_.recoveryQuietPeriod || now >= deadline) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  }
  // For kPending records, destinationUid holds the destination UIDNEXT seen when the
  // intent was written: anything the interrupted batch appended has a UID at or above it.
  uint32_t floor = UINT32_MAX;
  std::set<uint32_t> claimed;
  for (const auto& [uid, rec] : records_) {
    if (rec.state == MessageState::kPending)
      floor = std::min(floor, std::max<uint32_t>(rec.destinationUid, 1));
    if (rec.state == MessageState::kCopied && rec.destinationUid)
      claimed.insert(rec.destinationUid);
  }
  // Intents are written before the body is read, so they carry no Message-ID (the listing
  // leaves it out; see FolderCopier::prepare): ask the source for those of the pending ones.
  uint32_t firstPending = UINT32_MAX;
  uint32_t lastPending = 0;
  for (const auto& [uid, rec] : records_) {
    if (rec.state != MessageState::kPending) continue;
    if (rec.messageId.empty()) firstPending = std::min(firstPending, uid);
    lastPending = std::max(lastPending, uid);
  }
  std::set<uint32_t> goneFromSource;  // pending, unidentified, and no longer on the source
  std::map<uint32_t, access::MessageMeta> pendingOnSource;  // as listed, for their flags
  if (firstPending != UINT32_MAX) {
    // Only the range the intents span (a batch or two), not the rest of a big folder.
    MF_ASSIGN_OR_RETURN(auto sourceMetas,
                        source_.listMessagesBetween(firstPending, lastPending, true));
    std::set<uint32_t> present;
    for (auto& meta : sourceMetas) {
      present.insert(meta.uid);
      auto it = records_.find(meta.uid);
      if (it != records_.end() && it->second.state == MessageState::kPending) {
        it->second.messageId = meta.messageId;
      }
      pendingOnSource[meta.uid] = std::move(meta);
    }
    // Such a record cannot be identified: it must not claim a copy that belongs to another.
    for (const auto& [uid, rec] : records_) {
      if (rec.state == MessageState::kPending && uid >= firstPending && !present.count(uid)) {
        goneFromSource.insert(uid);
      }
    }
  }
  MF_ASSIGN_OR_RETURN(auto landed, destinationReader_.listMessages(floor));
  // destinationReader_ is the destination connection: listing does not change the selected
  // folder, so appends can go on afterwards.
  // Which landed copy belongs to which pending intent. Appends of one connection land in
  // the order sent, but a big folder may have been copied over several connections at once
  // (folder_shares.h), whose appends interleave: so each pending record takes the lowest
  // unclaimed match at or above its own UID floor, not the next one after the previous
  // record's. Identity, in three passes (QUIRKS.md: RFC822.SIZE is no identity, a server may
  // claim another size than the bytes it sends, and a copy has the real one):
  //  1. size and Message-ID both equal (an honest server: nearly always all of them);
  //  2. the SHA-256 of the content, source against copy, for the rest (wrong sizes, and
  //     messages without a Message-ID, which nothing else identifies);
  //  3. a Message-ID that one remaining record and one remaining copy alone carry (a
  //     destination that altered the copy, and its size, as it saved it).
  // Copies that match several records the same way are interchangeable; each is claimed once.
  std::map<uint32_t, const access::MessageMeta*> unclaimed;  // by destination UID
  for (const auto& d : landed) {
    if (!claimed.count(d.uid)) unclaimed[d.uid] = &d;
  }
  size_t recovered = 0;
  std::map<uint32_t, uint32_t> copyOf;  // recovered source UID -> destination UID
  auto claim = [&](uint32_t sourceUid, MessageRecord& rec, uint32_t destinationUid) {
    copyOf[sourceUid] = destinationUid;
    rec.state = MessageState::kCopied;
    rec.destinationUid = destinationUid;
    unclaimed.erase(destinationUid);
    ++recovered;
    recovered_.insert(sourceUid);
  };
  // The lowest unclaimed copy at or above `rec`'s floor that `same` accepts.
  auto lowest = [&](const MessageRecord& rec, auto same) -> uint32_t {
    for (auto it = unclaimed.lower_bound(std::max<uint32_t>(rec.destinationUid, 1));
         it != unclaimed.end(); ++it) {
      if (same(*it->second)) return it->first;
    }
    return 0;
  };
  std::vector<uint32_t> unmatched;  // pending source UIDs, ascending
  for (auto& [uid, rec] : records_) {
    if (rec.state != MessageState::kPending || goneFromSource.count(uid)) continue;
    uint32_t match = 0;
    if (!rec.messageId.empty()) {
      match = lowest(rec, [&](const access::MessageMeta& d) {
        return d.size == rec.size && d.messageId == rec.messageId;
      });
    }
    if (match)
      claim(uid, rec, match);
    else
      unmatched.push_back(uid);
  }
  if (!unmatched.empty() && !unclaimed.empty()) {
    std::vector<uint32_t> copies;
    for (const auto& [destinationUid, meta] : unclaimed) copies.push_back(destinationUid);
    MF_ASSIGN_OR_RETURN(auto sourceDigests, digestBodies(source_, unmatched));
    MF_ASSIGN_OR_RETURN(auto copyDigests, digestBodies(destinationReader_, copies));
    std::vector<uint32_t> stillUnmatched;
    for (uint32_t uid : unmatched) {
      MessageRecord& rec = records_[uid];
      auto digest = sourceDigests.find(uid);
      uint32_t match = 0;
      if (digest != sourceDigests.end()) {
        match = lowest(rec, [&](const access::MessageMeta& d) {
          auto copy = copyDigests.find(d.uid);
          return copy != copyDigests.end() && copy->second.sha256Hex == digest->second.sha256Hex;
        });
      }
      if (match)
        claim(uid, rec, match);
      else
        stillUnmatched.push_back(uid);
    }
    unmatched.swap(stillUnmatched);
  }
  std::map<std::string, size_t> pendingWithId;
  for (uint32_t uid : unmatched) {
    if (!records_[uid].messageId.empty()) ++pendingWithId[records_[uid].messageId];
  }
  for (uint32_t uid : unmatched) {
    MessageRecord& rec = records_[uid];
    if (rec.messageId.empty() || pendingWithId[rec.messageId] != 1) continue;
    size_t copies = 0;
    uint32_t match = 0;
    for (const auto& [destinationUid, meta] : unclaimed) {
      if (meta->messageId != rec.messageId) continue;
      ++copies;
      if (destinationUid >= rec.destinationUid) match = destinationUid;
    }
    if (copies == 1 && match) claim(uid, rec, match);
  }
  const size_t requeued = std::count_if(records_.begin(), records_.end(), [&](const auto& kv) {
    return kv.second.state == MessageState::kPending && !goneFromSource.count(kv.first);
  });
  // Before the records say "copied": a copy may lack a system flag its source has, when the
  // destination sets some after the APPEND (Exchange's \Flagged, imap/client/quirks.h) and
  // the run stopped between the two. Keywords are left as they are (a destination may have
  // refused them, and the copy went without on purpose).
  std::map<uint32_t, const access::MessageMeta*> copyMeta;
  for (const auto& d : landed) copyMeta[d.uid] = &d;
  std::map<std::vector<std::string>, std::vector<uint32_t>> owed;  // missing flags -> copies
  for (const auto& [sourceUid, destinationUid] : copyOf) {
    auto original = pendingOnSource.find(sourceUid);
    auto copy = copyMeta.find(destinationUid);
    if (original == pendingOnSource.end() || copy == copyMeta.end()) continue;
    std::vector<std::string> missing;
    for (const char* f : {"\\Seen", "\\Answered", "\\Flagged", "\\Draft"}) {
      if (original->second.hasFlag(f) && !copy->second->hasFlag(f)) missing.push_back(f);
    }
    if (!missing.empty()) owed[missing].push_back(destinationUid);
  }
  size_t flagged = 0;
  for (const auto& [flags, uids] : owed) {
    Status added = destination_.addFlags(uids, flags);
    if (added.code() == Errc::kServerNo || added.code() == Errc::kServerBad) {
      report.notes.push_back("could not add the flags its source has to " +
                             std::to_string(uids.size()) + " copy(ies) found after the " +
                             "interruption: " + added.message());
      continue;
    }
    MF_RETURN_IF_ERROR(added);
    flagged += uids.size();
  }
  // Records that did not land are forgotten so they are copied again.
  std::vector<MessageRecord> keep;
  for (auto it = records_.begin(); it != records_.end();) {
    if (it->second.state == MessageState::kPending) {
      it = records_.erase(it);
    } else {
      keep.push_back(it->second);
      ++it;
    }
  }
  MF_RETURN_IF_ERROR(store_.replaceAllMessages(options_.mailboxKey, sourceName_, keep));
  report.notes.push_back("resumed an interrupted run: " + std::to_string(recovered) +
                         " message(s) had reached the destination" +
                         (flagged ? " (" + std::to_string(flagged) + " of them got flags " +
                                        "set after the APPEND only now)"
                                  : std::string()) +
                         ", " + std::to_string(requeued) + " will be copied again");
  return Status::ok();
}

// What rematchSource found: the pairs (the records to keep), and how many messages it listed.
struct FolderCopier::Rematched {
  size_t matched = 0;
  size_t byContent = 0;
  uint64_t sourceMessages = 0;
};

namespace {

// The pairs a re-match found, as compact as their records allow: each becomes a kCopied
// record (its Message-ID from the source) when they are written.
class PairList {
 public:
  // Room for `pairs` pairs at most (Message-IDs of ~48 bytes): not copied as the list grows.
  void reserve(size_t pairs) {
    pairs_.reserve(pairs);
    ids_.reserve(pairs * 48);
  }
  void add(uint32_t sourceUid, uint32_t destinationUid, uint64_t size, std::string_view messageId) {
    pairs_.push_back({sourceUid, destinationUid, size, static_cast<uint32_t>(ids_.size()),
                      static_cast<uint32_t>(messageId.size())});
    ids_ += messageId;
  }
  size_t size() const { return pairs_.size(); }
  std::vector<uint32_t> sourceUids() const {
    std::vector<uint32_t> uids;
    uids.reserve(pairs_.size());
    for (const auto& p : pairs_) uids.push_back(p.sourceUid);
    std::sort(uids.begin(), uids.end());
    return uids;
  }
  // store::Store::RecordChunks over the pairs, 1,000 records at a time.
  bool nextChunk(std::vector<MessageRecord>& chunk) {
    if (next_ >= pairs_.size()) return false;
    const size_t end = std::min(pairs_.size(), next_ + 1000);
    for (; next_ < end; ++next_) {
      const Pair& p = pairs_[next_];
      MessageRecord r;
      r.sourceUid = p.sourceUid;
      r.state = MessageState::kCopied;
      r.destinationUid = p.destinationUid;
      r.size = p.size;
      r.messageId = ids_.substr(p.idOffset, p.idLength);
      chunk.push_back(std::move(r));
    }
    return true;
  }

 private:
  struct Pair {
    uint32_t sourceUid;
    uint32_t destinationUid;
    uint64_t size;
    uint32_t idOffset;
    uint32_t idLength;
  };
  std::vector<Pair> pairs_;
  std::string ids_;
  size_t next_ = 0;
};

}  // namespace

Result<FolderCopier::Rematched> FolderCopier::rematchSource(
    RematchIndex& copies, const std::vector<uint32_t>& copiesWithoutId) {
  const size_t window = options_.listingWindow;
  Rematched out;
  PairList pairs;
  // No more pairs than source messages, nor than copies (an emptied folder has none).
  pairs.reserve(std::min<size_t>(sourceStatus_.messages, copies.copies() + copiesWithoutId.size()));
  std::vector<UnnamedMessage> unnamed;
  // Listed whole, the listing is kept for the copy that follows.
  std::vector<access::MessageMeta> whole;
  MF_ASSIGN_OR_RETURN(
      auto windows,
      access::listFolder(source_, sourceStatus_.messages, window, true,
                         [&](std::vector<access::MessageMeta>& metas) -> Status {
                           out.sourceMessages += metas.size();
                           for (const auto& m : metas) {
                             if (m.messageId.empty()) {
                               unnamed.push_back({m.uid, m.size});
                             } else if (auto copy = copies.takeExact(m.messageId, m.size)) {
                               pairs.add(m.uid, *copy, m.size, m.messageId);
                             } else {
                               copies.addUnpaired(m);
                             }
                           }
                           if (access::listedWhole(sourceStatus_.messages, window)) {
                             whole = std::move(metas);
                           }
                           return Status::ok();
                         }));

  // A message whose size changed is compared with its copy's internal date (which the copy
  // took from the source), read from the destination only for such pairs.
  auto candidates = copies.uniquePairs();
  if (!candidates.empty()) {
    std::vector<uint32_t> copyUids;
    for (const auto& c : candidates) copyUids.push_back(c.destinationUid);
    std::sort(copyUids.begin(), copyUids.end());
    std::map<uint32_t, std::string> copyDates;
    MF_RETURN_IF_ERROR(destinationReader_.openForRead(destinationFolder_).status());
    MF_RETURN_IF_ERROR(
        access::listMessagesAgain(destinationReader_, copyUids, window, false,
                                  [&copyDates](const std::vector<access::MessageMeta>& listed) {
                                    for (const auto& copy : listed)
                                      copyDates[copy.uid] = copy.internalDate;
                                  }));
    for (const auto& c : candidates) {
      auto date = copyDates.find(c.destinationUid);
      if (date == copyDates.end() || !sameInstant(c.message->internalDate, date->second)) continue;
      pairs.add(c.message->sourceUid, c.destinationUid, c.message->size, c.message->messageId);
    }
  }
  if (!unnamed.empty() && !copiesWithoutId.empty()) {
    MF_RETURN_IF_ERROR(destinationReader_.openForRead(destinationFolder_).status());
    MF_ASSIGN_OR_RETURN(out.byContent,
                        pairByContent(source_, destinationReader_, unnamed, copiesWithoutId,
                                      [&pairs](const UnnamedMessage& m, uint32_t copyUid) {
                                        pairs.add(m.uid, copyUid, m.size, {});
                                      }));
  }
  MF_RETURN_IF_ERROR(store_.replaceAllMessagesFrom(
      options_.mailboxKey, sourceName_,
      [&pairs](std::vector<MessageRecord>& chunk) { return pairs.nextChunk(chunk); }));
  out.matched = pairs.size();
  records_.clear();
  rematched_ = pairs.sourceUids();
  // The copy goes through the folder from its first UID: what the re-match paired is counted
  // as copied, the rest is copied.
  metas_ = std::move(whole);
  windowStarts_ = std::move(windows.firstUids);
  nextWindow_ = 0;
  if (windowStarts_.empty()) {
    windowedEstimate_.reset();
  } else {
    windowedEstimate_.emplace(windows.messages, windows.bytes);
  }
  return out;
}

Status FolderCopier::rematchAfterUidValidityChange(uint32_t oldValidity, uint32_t newValidity,
                                                   FolderReport& report) {
  // Every UID we stored is void. Re-identify the messages by Message-ID (rematch_index.h),
  // and the ones without a Message-ID by the SHA-256 of their content against the copies.
  RematchIndex copies;
  copies.reserve(sourceStatus_.messages);  // about as many records as messages
  std::vector<uint32_t> copiesWithoutId;
  MF_RETURN_IF_ERROR(
      store_.forEachMessage(options_.mailboxKey, sourceName_, [&](const MessageRecord& r) {
        if (r.state != MessageState::kCopied) return;
        if (!r.messageId.empty()) {
          copies.addCopy(r.messageId, r.size, r.destinationUid);
        } else if (r.destinationUid) {
          copiesWithoutId.push_back(r.destinationUid);
        }
      }));
  copies.seal();
  MF_ASSIGN_OR_RETURN(auto rematched, rematchSource(copies, copiesWithoutId));
  report.notes.push_back("source UIDVALIDITY changed (" + std::to_string(oldValidity) + " -> " +
                         std::to_string(newValidity) + "): " + std::to_string(rematched.matched) +
                         " earlier copies re-identified (" + std::to_string(rematched.byContent) +
                         " by content), the rest will be copied");
  return Status::ok();
}

Status FolderCopier::rematchAfterDestinationChange(uint32_t oldValidity, uint32_t newValidity,
                                                   FolderReport& report) {
  // The records say which source messages were copied and under which destination UIDs, but
  // the folder they point into is gone (deleted and created again, a mailbox reset, a server
  // that renumbered). Trusting them would leave what it lost missing for good; copying all
  // again would duplicate what it kept. So the records are rebuilt from what the folder holds
  // now: a source message whose copy is there (Message-ID + size, else a Message-ID only it
  // and one copy carry; without a Message-ID, the SHA-256 of the content) counts as copied,
  // every other one is copied again. Each copy on the destination stands for one source
  // message at most (a folder may hold the same message twice, and then it needs two copies).
  RematchIndex copies;
  std::vector<uint32_t> copiesWithoutId;
  MF_ASSIGN_OR_RETURN(auto destinationStatus, destinationReader_.openForRead(destinationFolder_));
  copies.reserve(destinationStatus.messages);
  auto index = [&](const std::vector<access::MessageMeta>& listed) {
    for (const auto& d : listed) {
      if (!d.messageId.empty()) {
        copies.addCopy(d.messageId, d.size, d.uid);
      } else {
        copiesWithoutId.push_back(d.uid);
      }
    }
  };
  MF_RETURN_IF_ERROR(access::listFolder(destinationReader_, destinationStatus.messages,
                                        options_.listingWindow, true,
                                        [&](std::vector<access::MessageMeta>& listed) {
                                          index(listed);
                                          return Status::ok();
                                        })
                         .status());
  copies.seal();
  MF_ASSIGN_OR_RETURN(auto rematched, rematchSource(copies, copiesWithoutId));
  report.notes.push_back("the destination folder is not the one earlier runs filled (UIDVALIDITY " +
                         std::to_string(oldValidity) + " -> " + std::to_string(newValidity) +
                         ": deleted and created again, or the mailbox was reset): " +
                         std::to_string(rematched.matched) + " of the source's " +
                         std::to_string(rematched.sourceMessages) + " message(s) found there (" +
                         std::to_string(rematched.byContent) + " by content); the rest are copied");
  return Status::ok();
}

}  // namespace mf::sync
