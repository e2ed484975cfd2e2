// Repeated runs (tierbench run --repeat N --warmup K, pipeline.repeat / pipeline.warmup): K
// warmup runs whose results are discarded, then N measured runs, each a whole RunPipeline call
// from the same state (download and extract replace what a previous run left in the scratch).
// Only the page cache carries over: with pipeline.cache = cold every run evicts each stage's
// inputs first; otherwise the runs after the first read warm. The first run that is not ok
// (failed, interrupted) ends it. The combined document: docs/results-format.md ("repeat").
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "pipeline/config.h"
#include "pipeline/runner.h"
#include "report/results.h"

namespace tb::pipeline {

// Announces each run ("warmup 1/2", "repetition 3/5") and its end; may be empty.
using RepeatNote = std::function<void(const std::string&)>;

// Runs cfg.warmup + cfg.repeat times through RunPipeline; each announcement is also appended to
// the log file. cfg.repeat = 1 and cfg.warmup = 0: exactly one RunPipeline call.
report::RunResult RunRepeated(const JobConfig& cfg, const RunOptions& options, const RepeatNote& note = {});

// The loop with the run injected (tests): stops at the first run that is not ok or when
// `cancel` is set between runs.
report::RunResult RunRepeatedWith(int repeat, int warmup, const std::function<report::RunResult()>& run_once,
                                  const RepeatNote& note = {}, const std::atomic<bool>* cancel = nullptr);

// Combines the measured runs (in order; all ok but perhaps the last). One ok run: returned as
// is. Several ok runs: the run whose total is the (lower) median, with each stage that was ok in
// every run given its repeat statistics, its median seconds and mb_per_s over that median, and
// total_seconds the median total. Last run not ok: that run, with the totals of all of them.
report::RunResult CombineRepetitions(std::vector<report::RunResult> runs, int requested, int warmup);

}  // namespace tb::pipeline
