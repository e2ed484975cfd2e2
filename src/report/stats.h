// Statistics of repeated runs (tierbench run --repeat N): the median of a stage's seconds and a
// distribution-free confidence interval for it from order statistics (docs/results-format.md).
#pragma once

#include <cstddef>
#include <vector>

#include "report/results.h"

namespace tb::report {

// The median of `values` (the mean of the two middle values when there is an even number);
// 0 when empty.
double Median(std::vector<double> values);

// The order-statistic interval for the median of n values: with x(1) <= ... <= x(n) sorted,
// [x(k), x(n+1-k)] covers the population median with probability
// 1 - 2 * P(B <= k-1), B ~ Binomial(n, 1/2). k is the largest rank whose coverage is at least
// 95 %; when even k = 1 (min..max) falls short (n <= 5), the interval is min..max and `level`
// is what it achieves (1 - 2^(1-n): 0.9375 for n = 5). n = 0: all zero.
struct MedianInterval {
  size_t low_rank = 0, high_rank = 0;  // 1-based ranks k and n+1-k
  double low = 0, high = 0;
  double level = 0;  // the achieved confidence, 0..1
};
MedianInterval MedianCi(std::vector<double> values);

// `seconds` in order, with their median, min, max and MedianCi.
RepeatStats MakeRepeatStats(std::vector<double> seconds);

}  // namespace tb::report
