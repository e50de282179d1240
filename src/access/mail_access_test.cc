// listingWindowsOf: where a big folder's listing is cut (MailSource::planListingWindows).
#include "access/mail_access.h"

#include <gtest/gtest.h>

namespace mf::access {
namespace {

TEST(ListingWindows, CutEveryWindowMessagesWhateverTheGapsBetweenUids) {
  auto w = listingWindowsOf({3, 4, 9, 10, 11, 500, 501}, 7000, 3);
  EXPECT_EQ(w.firstUids, (std::vector<uint32_t>{3, 10, 501}));
  EXPECT_EQ(w.messages, 7u);
  EXPECT_EQ(w.bytes, 7000u);
}

TEST(ListingWindows, RepeatedAndUnorderedUidsCountOnce) {
  // A server's own FETCH responses (a flag change) may name a message twice, out of order.
  auto w = listingWindowsOf({9, 3, 4, 9, 3, 10}, 0, 2);
  EXPECT_EQ(w.firstUids, (std::vector<uint32_t>{3, 9}));
  EXPECT_EQ(w.messages, 4u);
}

TEST(ListingWindows, OneWindowWhenAllFitAndNoneWhenEmpty) {
  EXPECT_EQ(listingWindowsOf({5, 6}, 0, 20000).firstUids, (std::vector<uint32_t>{5}));
  EXPECT_TRUE(listingWindowsOf({}, 0, 10).firstUids.empty());
  // A window of 0 would never end: taken as 1.
  EXPECT_EQ(listingWindowsOf({1, 2}, 0, 0).firstUids, (std::vector<uint32_t>{1, 2}));
}

}  // namespace
}  // namespace mf::access
