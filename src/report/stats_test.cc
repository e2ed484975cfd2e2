#include "report/stats.h"

#include <gtest/gtest.h>

namespace tb::report {
namespace {

TEST(RepeatStats, MedianOfOddAndEvenCounts) {
  EXPECT_DOUBLE_EQ(Median({}), 0);
  EXPECT_DOUBLE_EQ(Median({7}), 7);
  EXPECT_DOUBLE_EQ(Median({3, 1}), 2);
  EXPECT_DOUBLE_EQ(Median({5, 1, 3}), 3);
  EXPECT_DOUBLE_EQ(Median({4, 1, 3, 2}), 2.5);
  EXPECT_DOUBLE_EQ(Median({9, 1, 8, 2, 7}), 7);
}

// The ranks and achieved confidence for n = 1..10 (binomial, p = 1/2):
// n <= 5 fall short of 95 % even with min..max: 1 - 2^(1-n).
TEST(RepeatStats, OrderStatisticIntervalForSmallCounts) {
  struct Case {
    size_t n, low_rank;
    double level;
  };
  const Case cases[] = {{1, 1, 0.0},     {2, 1, 0.5},      {3, 1, 0.75},      {4, 1, 0.875},     {5, 1, 0.9375},
                        {6, 1, 0.96875}, {7, 1, 0.984375}, {8, 1, 0.9921875}, {9, 2, 0.9609375}, {10, 2, 0.978515625}};
  for (const Case& c : cases) {
    SCOPED_TRACE("n = " + std::to_string(c.n));
    std::vector<double> values;
    for (size_t i = c.n; i >= 1; --i) values.push_back(static_cast<double>(i) * 10);  // descending: sorted inside
    MedianInterval ci = MedianCi(values);
    EXPECT_EQ(ci.low_rank, c.low_rank);
    EXPECT_EQ(ci.high_rank, c.n + 1 - c.low_rank);
    EXPECT_NEAR(ci.level, c.level, 1e-12);
    EXPECT_DOUBLE_EQ(ci.low, static_cast<double>(ci.low_rank) * 10);
    EXPECT_DOUBLE_EQ(ci.high, static_cast<double>(ci.high_rank) * 10);
    EXPECT_LE(ci.low, Median(values));
    EXPECT_GE(ci.high, Median(values));
  }
}

TEST(RepeatStats, LargerCountsNarrowTheInterval) {
  std::vector<double> values;
  for (int i = 1; i <= 100; ++i) values.push_back(i);
  MedianInterval ci = MedianCi(values);
  // n = 100: the usual table gives ranks 40 and 61 (coverage 0.9648).
  EXPECT_EQ(ci.low_rank, 40u);
  EXPECT_EQ(ci.high_rank, 61u);
  EXPECT_GE(ci.level, 0.95);
  EXPECT_EQ(MedianCi({}).level, 0);
}

TEST(RepeatStats, MakeRepeatStatsKeepsTheOrderAndFillsTheRest) {
  RepeatStats r = MakeRepeatStats({3.0, 1.0, 2.0, 5.0, 4.0});
  ASSERT_EQ(r.n(), 5u);
  EXPECT_EQ(r.seconds, (std::vector<double>{3.0, 1.0, 2.0, 5.0, 4.0}));
  EXPECT_DOUBLE_EQ(r.median, 3.0);
  EXPECT_DOUBLE_EQ(r.min, 1.0);
  EXPECT_DOUBLE_EQ(r.max, 5.0);
  EXPECT_DOUBLE_EQ(r.ci_low, 1.0);
  EXPECT_DOUBLE_EQ(r.ci_high, 5.0);
  EXPECT_DOUBLE_EQ(r.ci_level, 0.9375);
}

}  // namespace
}  // namespace tb::report
