// FolderComparison: verify's pairing and its lines, from compact entries and a second listing.
#include "sync/folder_comparison.h"

#include <gtest/gtest.h>

#include "sync/verifier.h"

namespace mf::sync {
namespace {

access::MessageMeta meta(uint32_t uid, std::string messageId, uint64_t size,
                         std::vector<std::string> flags = {},
                         std::string date = "01-Jan-2024 10:00:00 +0000") {
  access::MessageMeta m;
  m.uid = uid;
  m.messageId = std::move(messageId);
  m.size = size;
  m.flags = std::move(flags);
  m.internalDate = std::move(date);
  return m;
}

void addAll(VerifySide& side, const std::vector<access::MessageMeta>& metas) {
  for (const auto& m : metas) side.add(m, pairingKeyOf(m.messageId, m.size));
}

TEST(FolderComparison, KeysTellMessageIdAndSizeApart) {
  EXPECT_EQ(pairingKeyOf("<a@x>", 10), pairingKeyOf("<a@x>", 10));
  EXPECT_NE(pairingKeyOf("<a@x>", 10), pairingKeyOf("<a@x>", 11));
  EXPECT_NE(pairingKeyOf("<a@x>", 10), pairingKeyOf("<b@x>", 10));
  // "<a@x>\n1" + "0" is not "<a@x>" + "\n10": the size is the key's last field.
  EXPECT_NE(pairingKeyOf("<a@x>\n1", 0), pairingKeyOf("<a@x>", 10));
  const std::string hex = "00112233445566778899aabbccddeeff0011223344556677";
  PairingKey k = pairingKeyOfDigest(hex);
  EXPECT_EQ(k[0], 0x0011223344556677ULL);
  EXPECT_EQ(k[1], 0x8899aabbccddeeffULL);
  EXPECT_NE(unpairableKey(true, 5), unpairableKey(false, 5));
}

TEST(FolderComparison, IdenticalFoldersHaveNoLines) {
  VerifySide src(false), dst(false);
  addAll(src, {meta(1, "<a@x>", 10, {"\\Seen"}), meta(2, "<b@x>", 20)});
  // Other UIDs, other order of flags and case, \Recent: the same.
  addAll(dst, {meta(7, "<b@x>", 20, {"\\Recent"}), meta(6, "<a@x>", 10, {"\\SEEN"})});
  EXPECT_EQ(src.size(), 2u);
  Comparison c = Comparison::of(src, dst);
  EXPECT_TRUE(c.identical());
  EXPECT_TRUE(c.sourceUidsToDescribe().empty());
}

TEST(FolderComparison, DuplicatesPairOneCopyEach) {
  VerifySide src(false), dst(false);
  // The same message twice in the source needs two copies; the destination has one.
  addAll(src, {meta(1, "<a@x>", 10), meta(2, "<a@x>", 10), meta(3, "", 5)});
  addAll(dst, {meta(9, "<a@x>", 10), meta(4, "", 5), meta(5, "", 5)});
  Comparison c = Comparison::of(src, dst);
  EXPECT_EQ(c.missing, std::vector<uint32_t>({2}));
  // Of the two copies without a Message-ID the lowest UID pairs; the other is extra.
  EXPECT_EQ(c.extra, std::vector<uint32_t>({5}));
}

TEST(FolderComparison, FlagsAndDatesDiffer) {
  VerifySide src(false), dst(false);
  addAll(src, {meta(1, "<a@x>", 10, {"\\Seen", "$Work"}),
               meta(2, "<b@x>", 10, {}, "01-Jan-2024 10:00:00 +0100"),
               meta(3, "<c@x>", 10, {"\\Deleted"})});
  addAll(dst, {meta(11, "<a@x>", 10, {"\\Seen"}),
               meta(12, "<b@x>", 10, {}, "01-Jan-2024 10:00:00 +0000"),
               // The same instant in another zone is the same date; \Deleted is not compared.
               meta(13, "<c@x>", 10, {}, "01-Jan-2024 11:00:00 +0100")});
  Comparison c = Comparison::of(src, dst);
  ASSERT_EQ(c.flags.size(), 1u);
  EXPECT_EQ(c.flags[0].sourceUid, 1u);
  EXPECT_EQ(c.flags[0].destinationUid, 11u);
  EXPECT_EQ(c.flags[0].sourceFlags, "($work \\seen)");
  EXPECT_EQ(c.flags[0].destinationFlags, "(\\seen)");
  ASSERT_EQ(c.dates.size(), 1u);
  EXPECT_EQ(c.dates[0].sourceUid, 2u);
  EXPECT_EQ(c.dates[0].destinationUid, 12u);
  EXPECT_EQ(c.sourceUidsToDescribe(), std::vector<uint32_t>({1, 2}));
  EXPECT_EQ(c.destinationUidsToDescribe(), std::vector<uint32_t>({12}));
}

TEST(FolderComparison, IncludeDeletedComparesTheDeletedFlag) {
  VerifySide src(true), dst(true);
  addAll(src, {meta(1, "<a@x>", 10, {"\\Deleted"})});
  addAll(dst, {meta(1, "<a@x>", 10)});
  EXPECT_EQ(Comparison::of(src, dst).flags.size(), 1u);
}

TEST(FolderComparison, AnAssumedSourceDateIsCountedNotCompared) {
  VerifySide src(false), dst(false);
  access::MessageMeta undated = meta(1, "<a@x>", 10, {}, "02-Feb-2025 00:00:00 +0000");
  undated.dateAssumed = true;
  addAll(src, {undated});
  addAll(dst, {meta(3, "<a@x>", 10)});
  Comparison c = Comparison::of(src, dst);
  EXPECT_TRUE(c.identical());
  EXPECT_EQ(c.sourceUndated, 1u);
}

TEST(FolderComparison, TheLinesComeFromTheSecondListingInWindows) {
  VerifySide src(false), dst(false);
  addAll(src, {meta(1, "<a@x>", 10, {"\\Seen"}), meta(2, "<b@x>", 20), meta(3, "<c@x>", 30),
               meta(4, "<d@x>", 40, {}, "03-Mar-2023 03:03:03 +0000")});
  addAll(dst,
         {meta(5, "<a@x>", 10), meta(6, "<d@x>", 40), meta(7, "<z@x>", 70), meta(8, "<y@x>", 80)});
  Comparison c = Comparison::of(src, dst);
  FolderVerification fv;
  DifferenceWriter writer(c, fv);
  // The destination in two windows; UID 8 is gone by the second listing.
  writer.destinationListed({meta(6, "<d@x>", 40)});
  writer.destinationListed({meta(7, "<z@x>", 70)});
  // The source in two windows; UID 3 is gone.
  writer.sourceListed({meta(1, "<a@x>", 10, {"\\Seen"}), meta(2, "<b@x>", 20)});
  writer.sourceListed({meta(4, "<d@x>", 40, {}, "03-Mar-2023 03:03:03 +0000")});
  writer.finish();
  EXPECT_EQ(fv.missing,
            std::vector<std::string>({"UID 2 <b@x>, 20 bytes, 01-Jan-2024 10:00:00 +0000",
                                      "UID 3 (gone from the folder since verify listed it)"}));
  EXPECT_EQ(fv.extra,
            std::vector<std::string>({"UID 7 <z@x>, 70 bytes, 01-Jan-2024 10:00:00 +0000",
                                      "UID 8 (gone from the folder since verify listed it)"}));
  EXPECT_EQ(fv.flagDifferences,
            std::vector<std::string>({"UID 1 <a@x>, 10 bytes, 01-Jan-2024 10:00:00 +0000: "
                                      "source flags (\\seen), destination UID 5 has ()"}));
  EXPECT_EQ(fv.dateDifferences,
            std::vector<std::string>({"UID 4 <d@x>, 40 bytes, 03-Mar-2023 03:03:03 +0000: "
                                      "destination UID 6 has internal date "
                                      "01-Jan-2024 10:00:00 +0000"}));
}

}  // namespace
}  // namespace mf::sync
