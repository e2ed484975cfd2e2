// SVG building blocks shared by RenderCompareSvg and the HTML page (which inlines the chart).
#pragma once

#include <string>
#include <vector>

#include "report/results.h"

namespace tb::report {

// A y axis from 0 to `max` in steps of `step` (1, 2, 2.5 or 5 × 10^k), about target_ticks steps.
struct NiceAxis {
  double max;
  double step;
};
NiceAxis NiceScale(double max_value, int target_ticks);

// The colour of run `index` in charts and legends ("#4e79a7", …).
const char* RunColour(size_t index);

// The <svg> element alone (no XML declaration), for inlining into HTML.
std::string RenderCompareSvgElement(const std::vector<RunResult>& runs);

// The scaling view (compare.h: Scaling) as an <svg> element: two panels, seconds and MB/s per
// stage against ranks, one line per stage and its ideal as a dashed line. "" when the runs
// have fewer than two world sizes.
std::string RenderScalingSvgElement(const std::vector<RunResult>& runs);

// The break-even view (compare.h: BreakEvens) as an <svg> element: cumulative seconds against
// epochs, one line per run with epoch times (solid: measured, dashed: extrapolated), each
// break-even against the first run marked. "" when no run has epoch times.
std::string RenderBreakEvenSvgElement(const std::vector<RunResult>& runs);

}  // namespace tb::report
