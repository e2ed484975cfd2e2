// The break-even view of a comparison (compare.h): cumulative seconds against epochs, and the
// epoch from which the run that paid more up front (staging) is the cheaper one.
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "report/compare.h"

namespace tb::report {
namespace {

constexpr double kTie = 1e-9;  // seconds: differences this small are equal

// detail.epoch_seconds of the train stage: every entry a finite number >= 0, else empty.
std::vector<double> EpochSeconds(const StageResult& train) {
  auto j = nlohmann::json::parse(train.detail_json, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("epoch_seconds") || !j["epoch_seconds"].is_array()) return {};
  std::vector<double> out;
  for (const auto& e : j["epoch_seconds"]) {
    if (!e.is_number()) return {};
    double s = e.get<double>();
    if (!std::isfinite(s) || s < 0) return {};
    out.push_back(s);
  }
  return out;
}

int Sign(double d) { return d > kTie ? 1 : d < -kTie ? -1 : 0; }

}  // namespace

double EpochCurve::Cumulative(int64_t n) const {
  const int64_t measured = static_cast<int64_t>(epoch_seconds.size());
  double sum = one_off;
  for (int64_t k = 0; k < std::min(n, measured); ++k) sum += epoch_seconds[static_cast<size_t>(k)];
  if (n > measured) sum += static_cast<double>(n - measured) * steady;
  return sum;
}

bool BreakEvenView::any() const {
  return std::any_of(curves.begin(), curves.end(), [](const auto& c) { return c.has_value(); });
}

std::optional<EpochCurve> CurveOf(const RunResult& run) {
  EpochCurve c;
  for (const StageResult& s : run.stages) {
    if (s.name != "train") {
      if (s.status != StageStatus::kSkipped) c.pre_train += s.seconds;
      continue;
    }
    if (s.status != StageStatus::kOk || !std::isfinite(s.seconds)) return std::nullopt;
    c.epoch_seconds = EpochSeconds(s);
    if (c.epoch_seconds.empty() || c.epoch_seconds.size() > kMaxBreakEvenMeasuredEpochs) return std::nullopt;
    double epochs = 0;
    for (double e : c.epoch_seconds) epochs += e;
    c.train_one_off = std::max(0.0, s.seconds - epochs);
    c.pre_train = std::max(0.0, c.pre_train - std::max(0.0, run.overlapped_seconds));
    if (!std::isfinite(c.pre_train)) return std::nullopt;
    c.one_off = c.pre_train + c.train_one_off;
    const size_t n = c.epoch_seconds.size();
    c.steady = n >= 2 ? (epochs - c.epoch_seconds[0]) / static_cast<double>(n - 1) : c.epoch_seconds[0];
    return c;
  }
  return std::nullopt;  // no train stage
}

BreakEven FindBreakEven(const EpochCurve& first, size_t first_index, const EpochCurve& other, size_t other_index) {
  // diff = other's cumulative seconds - first's, epoch by epoch (a running sum: linear in E).
  auto cost = [](const EpochCurve& c, int64_t n) {  // of epoch n >= 1
    return n <= static_cast<int64_t>(c.epoch_seconds.size()) ? c.epoch_seconds[static_cast<size_t>(n - 1)] : c.steady;
  };
  const int64_t linear_from = static_cast<int64_t>(std::max(first.epoch_seconds.size(), other.epoch_seconds.size()));
  double diff = other.one_off - first.one_off;
  const int s0 = Sign(diff);
  if (s0 == 0) {  // equal one-off costs: the first epoch that differs says which is cheaper
    for (int64_t n = 1; n <= linear_from + 1; ++n) {
      diff += cost(other, n) - cost(first, n);
      if (int s = Sign(diff)) return {BreakEvenKind::kFromStart, n, s < 0 ? other_index : first_index};
    }
    return {BreakEvenKind::kNever, 0, 0};
  }
  // `higher` paid more up front; ahead = s0 x diff stays > 0 while it is still the dearer one.
  const size_t higher = s0 > 0 ? other_index : first_index;
  for (int64_t n = 1; n <= linear_from; ++n) {
    diff += cost(other, n) - cost(first, n);
    if (s0 * diff < -kTie) return {BreakEvenKind::kAt, n, higher};
  }
  // Past every measured epoch both curves are straight lines.
  const double slope = s0 * (other.steady - first.steady), gap = s0 * diff;
  if (!(slope < 0)) return {BreakEvenKind::kNever, 0, 0};
  const double more = std::floor((gap + kTie) / -slope) + 1;  // epochs until ahead < 0
  if (!(more <= static_cast<double>(kMaxBreakEvenEpoch - linear_from))) return {BreakEvenKind::kNever, 0, 0};
  return {BreakEvenKind::kAt, linear_from + static_cast<int64_t>(more), higher};
}

BreakEvenView BreakEvens(const std::vector<RunResult>& runs) {
  BreakEvenView v;
  size_t measured = 0, first_count = 0;
  for (const RunResult& r : runs) {
    v.curves.push_back(CurveOf(r));
    if (!v.curves.back()) continue;
    const size_t e = v.curves.back()->epoch_seconds.size();
    if (first_count && e != first_count) v.epochs_differ = true;
    if (!first_count) first_count = e;
    measured = std::max(measured, e);
  }
  int64_t reach = static_cast<int64_t>(measured);
  for (size_t i = 0; i < runs.size(); ++i) {
    BreakEven b;
    if (i > 0 && v.curves[0] && v.curves[i]) b = FindBreakEven(*v.curves[0], 0, *v.curves[i], i);
    if (b.kind == BreakEvenKind::kAt) reach = std::max(reach, b.epoch + 2);
    v.against_first.push_back(b);
  }
  v.chart_epochs = static_cast<int>(std::clamp<int64_t>(reach, 1, kMaxBreakEvenChartEpochs));
  return v;
}

std::string FormatBreakEven(const BreakEven& b, const std::vector<RunResult>& runs) {
  switch (b.kind) {
    case BreakEvenKind::kNone: return "\u2014";
    case BreakEvenKind::kNever: return "never";
    case BreakEvenKind::kFromStart: return RunName(runs[b.cheaper], b.cheaper) + " from the start";
    case BreakEvenKind::kAt: break;
  }
  return RunName(runs[b.cheaper], b.cheaper) + " from epoch " + std::to_string(b.epoch);
}

}  // namespace tb::report
