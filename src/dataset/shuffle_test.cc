#include "dataset/shuffle.h"

#include <gtest/gtest.h>

#include <set>

namespace tb::dataset {
namespace {

TEST(ShuffledOrder, IsAPermutationDeterministicPerSeedAndEpoch) {
  auto a = ShuffledOrder(1000, 7, 0);
  std::set<uint32_t> seen(a.begin(), a.end());
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_EQ(*seen.rbegin(), 999u);
  EXPECT_EQ(a, ShuffledOrder(1000, 7, 0));
  EXPECT_NE(a, ShuffledOrder(1000, 7, 1));
  EXPECT_NE(a, ShuffledOrder(1000, 8, 0));
}

}  // namespace
}  // namespace tb::dataset
