#include "imap/wire/response.h"

#include <gtest/gtest.h>

namespace mf::imap {
namespace {

Value atom(std::string text) {
  Value v;
  v.kind = Value::Kind::kAtom;
  v.text = std::move(text);
  return v;
}

Value number(uint64_t n) {
  Value v;
  v.kind = Value::Kind::kNumber;
  v.number = n;
  v.text = std::to_string(n);
  return v;
}

Value list(std::vector<Value> items) {
  Value v;
  v.kind = Value::Kind::kList;
  v.items = std::move(items);
  return v;
}

TEST(Value, IsAtomIsCaseInsensitiveAndOnlyForAtoms) {
  EXPECT_TRUE(atom("Uid").isAtom("UID"));
  EXPECT_TRUE(atom("\\Seen").isAtom("\\SEEN"));
  EXPECT_FALSE(atom("UIDS").isAtom("UID"));
  Value s;
  s.kind = Value::Kind::kString;
  s.text = "UID";
  EXPECT_FALSE(s.isAtom("UID"));
  EXPECT_TRUE(s.isString());
  EXPECT_FALSE(number(5).isAtom("5"));
  EXPECT_EQ(number(5).asText(), "5");
}

TEST(FetchItem, FindsValuesByItemName) {
  Value l = list(
      {atom("UID"), number(9), atom("FLAGS"), list({atom("\\Seen")}), atom("BODY[]"), number(3)});
  ASSERT_NE(fetchItem(l, "uid"), nullptr);
  EXPECT_EQ(fetchItem(l, "uid")->number, 9u);
  EXPECT_EQ(fetchItem(l, "FLAGS")->items.size(), 1u);
  EXPECT_EQ(fetchItem(l, "body[]")->number, 3u);
  EXPECT_EQ(fetchItem(l, "MODSEQ"), nullptr);
}

TEST(FetchItem, WalksInPairsAndHandlesOddLists) {
  // "X" is a value here, not an item name.
  Value l = list({atom("A"), atom("X"), atom("X"), number(1)});
  EXPECT_EQ(fetchItem(l, "X")->number, 1u);
  EXPECT_EQ(fetchItem(list({atom("UID")}), "UID"), nullptr);
  EXPECT_EQ(fetchItem(atom("UID"), "UID"), nullptr);
  EXPECT_EQ(fetchItem(list({}), "UID"), nullptr);
}

}  // namespace
}  // namespace mf::imap
