// The scaling view of a comparison (compare.h): stage times and throughput against ranks.
#include <algorithm>

#include "report/compare.h"

namespace tb::report {

std::vector<int> WorldSizes(const std::vector<RunResult>& runs) {
  std::vector<int> sizes;
  for (const RunResult& r : runs) sizes.push_back(std::max(1, r.world_size));
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  return sizes;
}

std::vector<ScalingRow> Scaling(const std::vector<RunResult>& runs) {
  if (WorldSizes(runs).size() < 2) return {};
  std::vector<size_t> order(runs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return std::max(1, runs[a].world_size) < std::max(1, runs[b].world_size);
  });
  std::vector<ScalingRow> rows;
  for (const CompareRow& row : Compare(runs).stages) {
    ScalingRow out{row.stage, {}};
    bool any_ran = false;
    for (size_t i : order) {
      ScalingPoint p;
      p.run = i;
      p.ranks = std::max(1, runs[i].world_size);
      for (const StageResult& s : runs[i].stages)
        if (s.name == row.stage) {
          p.status = s.status;
          p.seconds = s.seconds;
          p.mb_per_s = s.mb_per_s;
          break;
        }
      if (p.status && *p.status != StageStatus::kSkipped) any_ran = true;
      out.points.push_back(p);
    }
    if (!any_ran) continue;
    const ScalingPoint* base = nullptr;
    for (const ScalingPoint& p : out.points)
      if (p.status == StageStatus::kOk && p.seconds > 0) {
        base = &p;
        break;
      }
    if (base) {
      const double n0 = base->ranks, s0 = base->seconds, m0 = base->mb_per_s;
      for (ScalingPoint& p : out.points) {
        p.ideal_seconds = s0 * n0 / p.ranks;
        if (m0 > 0) p.ideal_mb_per_s = m0 * p.ranks / n0;
      }
    }
    rows.push_back(std::move(out));
  }
  return rows;
}

}  // namespace tb::report
