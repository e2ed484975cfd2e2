// Runs the nine stages of one scenario in order through the same frame: skip (scenario or
// switch) → log start → time (steady clock) → run → log end. A failed stage leaves later
// stages "skipped"; cancellation marks the running stage "interrupted". The result is
// computed once here and rendered elsewhere (report/results.h).
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "pipeline/config.h"
#include "report/results.h"
#include "util/progress.h"

namespace tb::launch {
class Cluster;
}

namespace tb::pipeline {

struct RunOptions {
  std::string tool_version;
  ProgressMode progress = ProgressMode::kAuto;
  const std::atomic<bool>* cancel = nullptr;
  // Each log line is also passed here (e.g. to stderr); the log file always gets it.
  std::function<void(const std::string&)> echo;
  // Warnings (e.g. dataset files the manifest does not list) are also passed here, whether or
  // not `echo` is set; they are in the log file as "warning: ..." lines too.
  std::function<void(const std::string&)> warn;
  // The ranks of the run (launch/cluster.h); nullptr = a single rank. With several, the data
  // stages split their files (pipeline/shard.h) and rank 0 returns the merged results of all
  // ranks (pipeline/merge.h); the other ranks return their own.
  launch::Cluster* cluster = nullptr;
};

// Runs the job; writes the log file (cfg.log). Never throws. Does not write the results JSON
// (see WriteResults), so callers may add to it first.
report::RunResult RunPipeline(const JobConfig& cfg, const RunOptions& options);

// Writes the results JSON atomically to cfg.out (creating its folder).
Status WriteResults(const report::RunResult& run, const std::string& path);

}  // namespace tb::pipeline
