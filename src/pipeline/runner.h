// Runs the nine stages of one scenario in the order of the stage table (stage.h) through the
// same frame (StageFrame in runner.cc): skip (scenario or switch) → log start → span on the
// steady clock → status → rate → log end. A failed stage leaves later stages skipped;
// cancellation marks the running stage interrupted. When the job streams (stream.h), the
// leading stages that can take part run as one pass of their stream parts and are framed the
// same way, each with its own span and busy time. The result is computed once here and
// rendered elsewhere (report/results.h).
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "launch/cluster.h"
#include "pipeline/config.h"
#include "report/results.h"
#include "storage/storage.h"
#include "util/progress.h"

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
  // Opens the origin for the streamed pass (Context::open_stream); empty: storage::OpenStream.
  std::function<Result<std::unique_ptr<storage::Reader>>(const std::string& uri, const storage::Options&)> open_stream;
  // The live view's hooks (each may be empty), called on the runner's thread except
  // on_progress: a stage starts ("ingest" for download, integrity, extract and verify run
  // overlapped); a stage's row is final (every stage in order, skipped ones too; errors
  // scrubbed); a progress sample of the running stage, from the stage's threads, a few times
  // a second.
  std::function<void(const std::string& stage)> on_stage_start;
  std::function<void(const report::StageResult&)> on_stage_end;
  std::function<void(const std::string& stage, const ProgressSample&)> on_progress;
  // Several ranks (null or size 1: one): every stage starts with a barrier and ends with an
  // exchange of each rank's outcome, so a stage's seconds are the cluster-wide span and a stage
  // that failed on one rank (or lost a rank) fails on all of them. The data stages split their
  // files (pipeline/shard.h) and rank 0 returns the merged results of all ranks
  // (pipeline/merge.h); the other ranks return their own.
  launch::Cluster* cluster = nullptr;
};

// Runs the job; writes the log file (cfg.log). Never throws. Does not write the results JSON
// (see WriteResults), so callers may add to it first.
report::RunResult RunPipeline(const JobConfig& cfg, const RunOptions& options);

// Writes the results JSON atomically to cfg.out (creating its folder).
Status WriteResults(const report::RunResult& run, const std::string& path);

}  // namespace tb::pipeline
