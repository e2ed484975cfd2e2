// The facts every comparison rendering shows (table, JSON, SVG, HTML), computed once.
//
// Speedup of a run against the first (baseline) run = baseline seconds / this run's seconds,
// so 2.00× means "this run took half the time". It is n/a (nullopt) when either side is not
// "ok" (skipped, failed, interrupted, absent) or either time is zero.
#pragma once

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
