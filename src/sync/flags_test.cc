#include "sync/flags.h"

#include <gtest/gtest.h>

namespace mf::sync {

TEST(Flags, TheFiveSystemFlagsAreSettableInAnyCase) {
  for (const char* f : {"\\Seen", "\\answered", "\\FLAGGED", "\\Deleted", "\\Draft"}) {
    EXPECT_TRUE(isSettableSystemFlag(f)) << f;
    EXPECT_FALSE(isServerOwnFlag(f)) << f;
  }
  EXPECT_FALSE(isSettableSystemFlag("\\Recent"));
  EXPECT_FALSE(isSettableSystemFlag("$Label1"));
}

TEST(Flags, ServerOwnFlagsAreOtherBackslashFlags) {
  for (const char* f : {"\\X-EON-HAS-ATTACHMENT", "\\Indexed", "\\FORWARDED", "\\ATTACHED"}) {
    EXPECT_TRUE(isServerOwnFlag(f)) << f;
  }
  // \Recent is the session's, keywords are settable, NonJunk is a keyword.
  for (const char* f : {"\\Recent", "\\recent", "NonJunk", "$MDNSent", "", "\\Seen"}) {
    EXPECT_FALSE(isServerOwnFlag(f)) << f;
  }
}

TEST(Flags, TallyCountsMessagesAndNamesTheFlagsOrSaysNothing) {
  ServerOwnFlagTally tally;
  tally.add({"\\Seen", "$Label1"});
  EXPECT_EQ(tally.note("x"), "");
  tally.add({"\\X-EON-HAS-ATTACHMENT", "\\Indexed"});
  tally.add({"\\Indexed"});
  EXPECT_EQ(tally.note("not compared"),
            "2 message(s) carry flags of the source server's own that no IMAP client can set "
            "(\\Indexed, \\X-EON-HAS-ATTACHMENT): not compared");
}

}  // namespace mf::sync
