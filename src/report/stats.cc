#include "report/stats.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace tb::report {
namespace {

// P(B <= k) for B ~ Binomial(n, 1/2), summed in log space so large n does not overflow.
double BinomialCdfHalf(size_t n, size_t k) {
  double sum = 0;
  for (size_t i = 0; i <= k && i <= n; ++i) {
    double log_choose = std::lgamma(n + 1.0) - std::lgamma(i + 1.0) - std::lgamma(n - i + 1.0);
    sum += std::exp(log_choose - static_cast<double>(n) * std::log(2.0));
  }
  return std::min(sum, 1.0);
}

// Coverage of [x(k), x(n+1-k)].
double Coverage(size_t n, size_t k) { return k == 0 ? 1.0 : 1.0 - 2.0 * BinomialCdfHalf(n, k - 1); }

}  // namespace

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

MedianInterval MedianCi(std::vector<double> values) {
  MedianInterval ci;
  const size_t n = values.size();
  if (n == 0) return ci;
  std::sort(values.begin(), values.end());
  size_t k = 1;
  while (k + 1 <= (n + 1) / 2 && Coverage(n, k + 1) >= 0.95) ++k;
  ci.low_rank = k;
  ci.high_rank = n + 1 - k;
  ci.low = values[ci.low_rank - 1];
  ci.high = values[ci.high_rank - 1];
  ci.level = Coverage(n, k);
  return ci;
}

RepeatStats MakeRepeatStats(std::vector<double> seconds) {
  RepeatStats r;
  r.seconds = std::move(seconds);
  if (r.seconds.empty()) return r;
  auto [lo, hi] = std::minmax_element(r.seconds.begin(), r.seconds.end());
  r.min = *lo;
  r.max = *hi;
  r.median = Median(r.seconds);
  MedianInterval ci = MedianCi(r.seconds);
  r.ci_low = ci.low;
  r.ci_high = ci.high;
  r.ci_level = ci.level;
  return r;
}

}  // namespace tb::report
