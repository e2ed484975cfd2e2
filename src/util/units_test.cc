#include "util/units.h"

#include <gtest/gtest.h>

namespace tb {
namespace {

TEST(ParseBytes, UnitsAndErrors) {
  EXPECT_EQ(*ParseBytes("4096"), 4096u);
  EXPECT_EQ(*ParseBytes("8MiB"), 8u << 20);
  EXPECT_EQ(*ParseBytes("16m"), 16u << 20);
  EXPECT_EQ(*ParseBytes("1G"), 1u << 30);
  EXPECT_EQ(*ParseBytes("2TiB"), uint64_t{2} << 40);
  EXPECT_FALSE(ParseBytes("").ok());
  EXPECT_FALSE(ParseBytes("MiB").ok());
  EXPECT_FALSE(ParseBytes("8 parsecs").ok());
  EXPECT_FALSE(ParseBytes("99999999999999T").ok());
}

}  // namespace
}  // namespace tb
