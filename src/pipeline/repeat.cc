#include "pipeline/repeat.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <numeric>

#include "report/stats.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/terminal_text.h"

namespace tb::pipeline {
namespace {

const report::StageResult* FindStage(const report::RunResult& run, const std::string& name) {
  for (const auto& s : run.stages)
    if (s.name == name) return &s;
  return nullptr;
}

// Each stage that was ok in every run: its repeat statistics, median seconds and MB/s.
void CombineStage(const std::vector<report::RunResult>& runs, report::StageResult& stage) {
  std::vector<double> seconds;
  for (const auto& run : runs) {
    const report::StageResult* s = FindStage(run, stage.name);
    if (!s || s->status != report::StageStatus::kOk) return;
    seconds.push_back(s->seconds);
  }
  stage.repeat = report::MakeRepeatStats(std::move(seconds));
  stage.seconds = stage.repeat->median;
  stage.mb_per_s = stage.bytes > 0 && stage.seconds > 0 ? static_cast<double>(stage.bytes) / 1e6 / stage.seconds : 0;
}

}  // namespace

report::RunResult CombineRepetitions(std::vector<report::RunResult> runs, int requested, int warmup) {
  if (runs.empty()) return {};
  if (runs.size() == 1 && requested <= 1) return std::move(runs.front());
  std::vector<double> totals;
  for (const auto& run : runs) totals.push_back(run.total_seconds);
  report::RunRepeat repeat{requested, warmup, report::MakeRepeatStats(totals)};
  if (runs.back().status != report::StageStatus::kOk || runs.size() == 1) {
    report::RunResult last = std::move(runs.back());
    last.repeat = std::move(repeat);
    return last;
  }
  std::vector<size_t> order(runs.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return totals[a] < totals[b]; });
  report::RunResult out = runs[order[(order.size() - 1) / 2]];
  for (auto& stage : out.stages) CombineStage(runs, stage);
  out.total_seconds = repeat.totals.median;
  out.repeat = std::move(repeat);
  return out;
}

report::RunResult RunRepeatedWith(int repeat, int warmup, const std::function<report::RunResult()>& run_once,
                                  const RepeatNote& note, const std::atomic<bool>* cancel) {
  repeat = std::max(repeat, 1);
  warmup = std::max(warmup, 0);
  auto say = [&](const std::string& line) {
    if (note) note(line);
  };
  auto cancelled = [&] { return cancel && cancel->load(); };
  for (int i = 1; i <= warmup; ++i) {
    say("warmup " + std::to_string(i) + "/" + std::to_string(warmup) + " start (results discarded)");
    report::RunResult run = run_once();
    say("warmup " + std::to_string(i) + "/" + std::to_string(warmup) + " end status=" + report::StatusName(run.status));
    if (run.status != report::StageStatus::kOk || cancelled()) return run;  // nothing measured
  }
  std::vector<report::RunResult> runs;
  bool stopped = false;
  for (int i = 1; i <= repeat; ++i) {
    if (repeat > 1) say("repetition " + std::to_string(i) + "/" + std::to_string(repeat) + " start");
    runs.push_back(run_once());
    const report::StageStatus status = runs.back().status;
    if (repeat > 1) {
      char secs[32];
      std::snprintf(secs, sizeof secs, "%.3f", runs.back().total_seconds);
      say("repetition " + std::to_string(i) + "/" + std::to_string(repeat) +
          " end status=" + report::StatusName(status) + " total_seconds=" + secs);
    }
    if (status != report::StageStatus::kOk) break;
    if (i < repeat && cancelled()) {  // between runs: the runs so far, as an interrupted run
      stopped = true;
      break;
    }
  }
  report::RunResult out = CombineRepetitions(std::move(runs), repeat, warmup);
  if (stopped) out.status = report::StageStatus::kInterrupted;
  return out;
}

report::RunResult RunRepeated(const JobConfig& cfg, const RunOptions& options, const RepeatNote& note) {
  if (std::string dir = std::filesystem::path(cfg.log).parent_path().string(); !dir.empty()) (void)MakeDirs(dir);
  auto logged = [&](const std::string& line) {
    if (std::FILE* f = std::fopen(cfg.log.c_str(), "a")) {
      std::fprintf(f, "%s %s\n", UtcTimestamp().c_str(), TerminalSafe(line).c_str());
      std::fclose(f);
    }
    if (note) note(line);
  };
  return RunRepeatedWith(
      cfg.repeat, cfg.warmup, [&] { return RunPipeline(cfg, options); }, logged, options.cancel);
}

}  // namespace tb::pipeline
