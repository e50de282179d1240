// RematchIndex: the re-matches' pairing by (Message-ID, size), then by a Message-ID only one
// unpaired message and one unused copy carry.
#include "sync/rematch_index.h"

#include <gtest/gtest.h>

namespace mf::sync {
namespace {

access::MessageMeta meta(uint32_t uid, std::string messageId, uint64_t size) {
  access::MessageMeta m;
  m.uid = uid;
  m.messageId = std::move(messageId);
  m.size = size;
  m.internalDate = "01-Jan-2024 10:00:00 +0000";
  return m;
}

TEST(RematchIndex, ExactPairsTakeEachCopyOnceInTheOrderAdded) {
  RematchIndex index;
  index.addCopy("<a@x>", 10, 7);
  index.addCopy("<b@x>", 20, 3);
  index.addCopy("<a@x>", 10, 5);  // the same message twice on the destination
  index.seal();
  EXPECT_EQ(index.takeExact("<a@x>", 10), 7u);  // added first
  EXPECT_EQ(index.takeExact("<a@x>", 10), 5u);
  EXPECT_EQ(index.takeExact("<a@x>", 10), std::nullopt);  // a third needs a third copy
  EXPECT_EQ(index.takeExact("<b@x>", 21), std::nullopt);  // another size
  EXPECT_EQ(index.takeExact("<b@x>", 20), 3u);
}

TEST(RematchIndex, AMessageIdOnlyOneMessageAndOneCopyCarryPairsWhateverTheSize) {
  RematchIndex index;
  index.addCopy("<rebuilt@x>", 100, 1);
  index.addCopy("<twice@x>", 100, 2);
  index.addCopy("<twice@x>", 100, 3);
  index.addCopy("<two-sources@x>", 100, 4);
  index.addCopy("<taken@x>", 100, 5);
  index.seal();
  ASSERT_EQ(index.takeExact("<taken@x>", 100), 5u);
  index.addUnpaired(meta(10, "<rebuilt@x>", 120));      // one message, one copy: a candidate
  index.addUnpaired(meta(11, "<twice@x>", 120));        // two unused copies: not
  index.addUnpaired(meta(12, "<two-sources@x>", 120));  // two messages: neither
  index.addUnpaired(meta(13, "<two-sources@x>", 130));
  index.addUnpaired(meta(14, "<taken@x>", 120));  // its only copy already paired: not
  index.addUnpaired(meta(15, "<new@x>", 120));    // no copy at all
  auto pairs = index.uniquePairs();
  ASSERT_EQ(pairs.size(), 1u);
  EXPECT_EQ(pairs[0].message->sourceUid, 10u);
  EXPECT_EQ(pairs[0].message->size, 120u);
  EXPECT_EQ(pairs[0].message->messageId, "<rebuilt@x>");
  EXPECT_EQ(pairs[0].destinationUid, 1u);
}

TEST(RematchIndex, AnEmptyIndexPairsNothing) {
  RematchIndex index;
  index.seal();
  EXPECT_EQ(index.takeExact("<a@x>", 1), std::nullopt);
  index.addUnpaired(meta(1, "<a@x>", 1));
  EXPECT_TRUE(index.uniquePairs().empty());
}

}  // namespace
}  // namespace mf::sync
