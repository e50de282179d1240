#include "base/status.h"

#include <gtest/gtest.h>

#include <sstream>

#include "base/secret.h"

namespace mf {
namespace {
Result<int> half(int x) {
  if (x % 2) return Status(Errc::kUsage, "odd");
  return x / 2;
}
Result<int> quarter(int x) {
  MF_ASSIGN_OR_RETURN(int h, half(x));
  return half(h);
}
}  // namespace

TEST(Status, CarriesCodeClassAndContext) {
  Status s(Errc::kAuth, "wrong password");
  EXPECT_FALSE(s.isOk());
  EXPECT_EQ(s.errorClass(), ErrorClass::kConfiguration);
  EXPECT_EQ(s.withContext("source").message(), "source: wrong password");
  EXPECT_EQ(errcName(Errc::kRefused), "connection_refused");
}

TEST(Result, PropagatesErrors) {
  EXPECT_EQ(*quarter(8), 2);
  EXPECT_FALSE(quarter(6).isOk());
  EXPECT_EQ(quarter(6).status().message(), "odd");
}

TEST(Secret, NeverPrintsItsValue) {
  Secret s("hunter2");
  std::ostringstream out;
  out << s;
  EXPECT_EQ(out.str(), "***");
  EXPECT_EQ(s.reveal(), "hunter2");
}
}  // namespace mf
