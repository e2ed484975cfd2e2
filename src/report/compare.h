// The facts every comparison rendering shows (table, JSON, SVG, HTML), computed once.
//
// Speedup of a run against the first (baseline) run = baseline seconds / this run's seconds,
// so 2.00× means "this run took half the time". It is n/a (nullopt) when either side is not
// "ok" (skipped, failed, interrupted, absent) or either time is zero.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "report/results.h"

namespace tb::report {

struct CompareCell {
  bool present = false;    // the run has this stage at all
  StageStatus status = StageStatus::kSkipped;  // meaningless when absent
  double seconds = 0;
  std::optional<double> speedup;  // vs the first run; the first run's own is 1.0 when ok
  // Repeated runs (both this run and the first with repeat n >= 2, both ok): this cell's 95 %
  // interval for the median seconds, the speedup's interval from the two intervals
  // (low = first's ci_low / this ci_high, high = first's ci_high / this ci_low), and whether
  // the difference is significant (the two intervals do not overlap). Unset otherwise.
  std::optional<std::pair<double, double>> ci;
  std::optional<double> speedup_low, speedup_high;
  std::optional<bool> significant;
};

struct CompareRow {
  std::string stage;               // stage name, or "Total Runtime" for the total row
  std::vector<CompareCell> cells;  // one per run
};

struct Comparison {
  std::vector<CompareRow> stages;  // pipeline order: the nine known stages, then any others
  CompareRow total;
};

Comparison Compare(const std::vector<RunResult>& runs);
// Whether any speedup cell past the first run's has an interval (repeated runs).
bool HasIntervals(const Comparison& cmp);

// The scaling view, when the runs have two or more world sizes: per stage, each run's seconds
// and MB/s against its number of ranks, with the ideal (linear) line from the run with the
// fewest ranks where that stage is ok: ideal seconds = its seconds × its ranks / ranks, ideal
// MB/s = its MB/s × ranks / its ranks. Efficiency = ideal seconds / seconds.
struct ScalingPoint {
  size_t run = 0;  // index into the runs
  int ranks = 1;
  std::optional<StageStatus> status;  // the stage's status in that run (unset when absent)
  double seconds = 0, mb_per_s = 0;
  std::optional<double> ideal_seconds, ideal_mb_per_s;  // unset without an ok baseline
};
struct ScalingRow {
  std::string stage;
  std::vector<ScalingPoint> points;  // by ranks, then run order
};
// Empty when the runs have fewer than two world sizes. Stages skipped in every run are left out.
std::vector<ScalingRow> Scaling(const std::vector<RunResult>& runs);
std::vector<int> WorldSizes(const std::vector<RunResult>& runs);  // distinct, ascending
std::optional<double> Speedup(double baseline_seconds, StageStatus baseline_status, double seconds, StageStatus status);
// The interval facts of `cell` against `baseline` (both with `ci` set, both ok); see CompareCell.
void FillSpeedupInterval(const CompareCell& baseline, CompareCell& cell);

// The break-even view: when staging pays off. Per run, cumulative wall seconds against epochs:
//   cumulative(n) = one-off + the first min(n, E) measured epoch seconds + max(0, n - E) x steady
// one-off = pre-train + train one-off, where pre-train = the seconds (wall spans) of the stages
// before train that ran, less the run's overlapped_seconds (concurrent time counted once), and
// train one-off = the train stage's seconds less the sum of its epoch_seconds (the staged
// fetch, reading the data and set-up before the first epoch, evaluation after the last); both
// at least 0. E = the measured epochs (detail.epoch_seconds), steady = the mean of the measured
// epochs after the first when E >= 2, else the one epoch.
struct EpochCurve {
  double pre_train = 0, train_one_off = 0, one_off = 0;
  std::vector<double> epoch_seconds;  // measured, E >= 1
  double steady = 0;
  double Cumulative(int64_t n) const;
};
// How a run's cumulative time stands against the first run's. kAt: from `epoch` on (the first
// n >= 1 where it is lower after being >= before) run `cheaper` (the one with the higher
// one-off cost) is cheaper; kNever: the run with the higher one-off cost is never cheaper
// (within kMaxBreakEvenEpoch), or the two curves are equal; kFromStart: equal one-off costs,
// run `cheaper` is cheaper from the first epoch that differs; kNone: a side has no curve.
enum class BreakEvenKind { kNone, kNever, kFromStart, kAt };
struct BreakEven {
  BreakEvenKind kind = BreakEvenKind::kNone;
  int64_t epoch = 0;
  size_t cheaper = 0;  // index into the runs
};
inline constexpr int64_t kMaxBreakEvenEpoch = 1000000;
inline constexpr size_t kMaxBreakEvenMeasuredEpochs = 100000;  // train.epochs' limit; more: no curve
inline constexpr int kMaxBreakEvenChartEpochs = 100;  // the chart's x axis stops here
struct BreakEvenView {
  std::vector<std::optional<EpochCurve>> curves;  // per run; unset without an ok train stage with epoch_seconds
  std::vector<BreakEven> against_first;           // per run vs run 0 (run 0's own: kNone)
  int chart_epochs = 0;        // max(measured epochs, break-even + 2), at most kMaxBreakEvenChartEpochs
  bool epochs_differ = false;  // runs with curves measured different epoch counts
  bool any() const;
};
// The run's curve from its train stage (unset when absent, not ok, or without epoch_seconds, or
// with an entry that is not a finite number >= 0, or more than kMaxBreakEvenMeasuredEpochs).
std::optional<EpochCurve> CurveOf(const RunResult& run);
// `other` (run other_index) against `first` (run first_index).
BreakEven FindBreakEven(const EpochCurve& first, size_t first_index, const EpochCurve& other, size_t other_index);
BreakEvenView BreakEvens(const std::vector<RunResult>& runs);
// "S3+NVMe from epoch 39", "WEKA from the start", "never", "—".
std::string FormatBreakEven(const BreakEven& b, const std::vector<RunResult>& runs);
// The formula and the outcomes, as the renderings say them.
inline constexpr const char* kBreakEvenFormula =
    "cumulative seconds after n epochs = one-off (the stages before train, overlap counted once, + the train "
    "stage's time outside its epochs: fetch, set-up, evaluation) + the epoch seconds (measured; beyond them the "
    "steady epoch = mean of the measured epochs after the first)";
inline constexpr const char* kBreakEvenOutcomes =
    "\"X from epoch N\" = run X, the one with the higher one-off cost, is the cheaper of the two (this run and "
    "the first) from epoch N on; never = it never is; \"X from the start\" = equal one-off costs, X the cheaper";

// "label" or "run N" when the label is empty; the header of a run's column.
std::string RunName(const RunResult& run, size_t index);

// Number formatting shared by the renderers.
std::string FormatSeconds(double seconds);  // "275.55", "<0.01" for tiny non-zero, "0.00"
std::string FormatSpeedup(double speedup);  // "2.41×"
// "2.41× (2.30–2.52)" with the interval when known, then " ~" when not significant.
std::string FormatSpeedupInterval(const CompareCell& cell);
inline constexpr const char* kNotSignificantLegend = "~ = not significant: the 95 % intervals overlap";
std::string FormatMbPerS(double mb_per_s);  // "123.4", "—" for 0
std::string FormatBytesIec(uint64_t bytes); // "125.0 GiB"

// Escapes & < > " ' for XML/HTML text and attribute values.
std::string EscapeXml(std::string_view text);

}  // namespace tb::report
