#include "pipeline/merge.h"

#include <algorithm>

#include "launch/cluster.h"

namespace tb::pipeline {
namespace {

using report::StageStatus;

int Severity(StageStatus status) {
  switch (status) {
    case StageStatus::kFailed: return 3;
    case StageStatus::kInterrupted: return 2;
    case StageStatus::kOk: return 1;
    case StageStatus::kSkipped: return 0;
  }
  return 0;
}

const report::StageResult* FindStage(const report::RunResult& run, const std::string& name) {
  for (const auto& s : run.stages)
    if (s.name == name) return &s;
  return nullptr;
}

}  // namespace

report::RunResult MergeRankResults(const std::vector<report::RunResult>& ranks, const std::string& launcher) {
  if (ranks.empty()) return {};
  report::RunResult merged = ranks[0];
  merged.world_size = static_cast<int>(ranks.size());
  merged.launcher = launcher;
  merged.ranks.clear();
  for (size_t r = 0; r < ranks.size(); ++r) {
    merged.ranks.push_back(report::RankInfo{static_cast<int>(r), ranks[r].status, ranks[r].host});
    merged.total_seconds = std::max(merged.total_seconds, ranks[r].total_seconds);
    if (Severity(ranks[r].status) > Severity(merged.status)) merged.status = ranks[r].status;
  }
  for (report::StageResult& stage : merged.stages) {
    stage.ranks.clear();
    stage.bytes = stage.files = 0;
    double first_start = 0, last_end = 0, longest = 0;
    bool timed = false, all_have_starts = true;
    StageStatus worst = StageStatus::kSkipped;
    std::string error;
    stage.slowest_rank = -1;
    for (size_t r = 0; r < ranks.size(); ++r) {
      const report::StageResult* s = FindStage(ranks[r], stage.name);
      report::RankStage part;
      part.rank = static_cast<int>(r);
      if (s) {
        part.status = s->status;
        part.seconds = s->seconds;
        part.bytes = s->bytes;
        part.files = s->files;
      }
      stage.ranks.push_back(part);
      if (!s) continue;
      stage.bytes += s->bytes;
      stage.files += s->files;
      if (Severity(s->status) > Severity(worst)) {
        worst = s->status;
        if (!s->error.empty()) error = r == 0 ? s->error : "rank " + std::to_string(r) + ": " + s->error;
      }
      if (s->status == StageStatus::kSkipped) continue;
      if (stage.slowest_rank < 0 || s->seconds > longest) {
        longest = s->seconds;
        stage.slowest_rank = static_cast<int>(r);
      }
      if (s->started_unix <= 0) {
        all_have_starts = false;
        continue;
      }
      double end = s->started_unix + s->seconds;
      if (!timed || s->started_unix < first_start) first_start = s->started_unix;
      if (!timed || end > last_end) last_end = end;
      timed = true;
    }
    stage.status = worst;
    if (!error.empty()) stage.error = error;
    // Without every rank's start (a rank of an older version), the longest rank's time.
    stage.seconds = timed && all_have_starts ? std::max(longest, last_end - first_start) : longest;
    stage.started_unix = timed ? first_start : 0;
    stage.mb_per_s = stage.bytes > 0 && stage.seconds > 0 ? static_cast<double>(stage.bytes) / 1e6 / stage.seconds : 0;
  }
  return merged;
}

Result<report::RunResult> GatherAndMerge(launch::Cluster& cluster, const report::RunResult& mine) {
  const launch::World& world = cluster.world();
  if (world.size <= 1) return mine;
  TB_ASSIGN_OR_RETURN(std::vector<std::string> all, cluster.AllGather("results", report::ToJson(mine)));
  if (world.rank != 0) return mine;
  std::vector<report::RunResult> ranks;
  for (size_t r = 0; r < all.size(); ++r) {
    auto parsed = report::ParseRunResult(all[r], "results of rank " + std::to_string(r));
    if (!parsed.ok()) return parsed.status();
    ranks.push_back(std::move(parsed).value());
  }
  return MergeRankResults(ranks, world.launcher);
}

}  // namespace tb::pipeline
