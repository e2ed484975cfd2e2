// Realistic runs for the report tests (the reference architecture's two scenarios, all nine stages). Test-only.
#pragma once

#include <string>
#include <vector>

#include "report/results.h"

namespace tb::report::testing {

inline StageResult Stage(const std::string& name, StageStatus status, double seconds, uint64_t bytes = 0,
                         uint64_t files = 0) {
  StageResult s;
  s.name = name;
  s.status = status;
  s.seconds = seconds;
  s.bytes = bytes;
  s.files = files;
  s.mb_per_s = seconds > 0 && bytes > 0 ? static_cast<double>(bytes) / 1e6 / seconds : 0;
  return s;
}

inline HostInfo Host(const std::string& hostname) {
  HostInfo h;
  h.hostname = hostname;
  h.cpus = 16;
  h.memory_bytes = 134217728000ull;
  h.device = "cuda:0";
  h.cpu_model = "AMD EPYC 7543 32-Core Processor";
  h.kernel = "Linux 6.1.0-18-amd64";
  return h;
}

// "S3+NVMe": every stage runs.
inline RunResult StagedRun() {
  RunResult r;
  r.tool_version = "0.1.0";
  r.scenario = "staged";
  r.label = "S3+NVMe";
  r.started_at = "2026-11-25T19:00:00.000Z";
  r.host = Host("node-a");
  r.config_json = R"({"scenario":"staged","origin":"http://127.0.0.1:8080/cifar-10-python.tar.gz",)"
                  R"("s3":{"bucket":"tierbench","prefix":"cifar"},"train":{"epochs":2,"batch_size":4}})";
  const uint64_t tar = 178000000, data = 186000000;
  r.stages = {
      Stage("download", StageStatus::kOk, 275.55, tar, 1),   Stage("integrity", StageStatus::kOk, 82.93, tar, 1),
      Stage("extract", StageStatus::kOk, 14.20, data, 1283), Stage("verify", StageStatus::kOk, 872.40, data, 1283),
      Stage("pickled", StageStatus::kOk, 77.93, data, 6),    Stage("meta", StageStatus::kOk, 0.004, 158, 1),
      Stage("upload", StageStatus::kOk, 5.33, data, 1283),   Stage("preview", StageStatus::kOk, 6.82, 0, 1),
      Stage("train", StageStatus::kOk, 123.50, 0, 0)};
  r.stages[2].detail_json = R"({"format":"tar.gz","entries":1283})";
  r.total_seconds = 1458.66;
  r.train.present = true;
  r.train.device = "cuda:0";
  r.train.epochs = 2;
  r.train.steps = 25000;
  r.train.final_loss = 1.2345;
  r.train.test_accuracy = 0.5512;
  r.train.steps_per_second = 202.4;
  return r;
}

// "WEKA": data already resident, download/integrity/extract skipped.
inline RunResult InplaceRun() {
  RunResult r = StagedRun();
  r.scenario = "inplace";
  r.label = "WEKA";
  r.host = Host("node-b");
  r.config_json = R"({"scenario":"inplace","dataset_dir":"/mnt/weka/cifar-10-batches-py"})";
  const uint64_t data = 186000000;
  r.stages = {
      Stage("download", StageStatus::kSkipped, 0),         Stage("integrity", StageStatus::kSkipped, 0),
      Stage("extract", StageStatus::kSkipped, 0),          Stage("verify", StageStatus::kOk, 214.04, data, 1283),
      Stage("pickled", StageStatus::kOk, 28.08, data, 6),  Stage("meta", StageStatus::kOk, 0.01, 158, 1),
      Stage("upload", StageStatus::kOk, 5.12, data, 1283), Stage("preview", StageStatus::kOk, 4.59, 0, 1),
      Stage("train", StageStatus::kOk, 120.47, 0, 0)};
  r.total_seconds = 372.31;
  return r;
}

// `run` with its train stage taking `train_seconds`, of which `epochs` are the epoch times
// (detail.epoch_seconds, as the train stage writes them).
inline RunResult WithEpochs(RunResult run, double train_seconds, const std::vector<double>& epochs) {
  std::string list;
  for (double e : epochs) list += (list.empty() ? "" : ",") + std::to_string(e);
  for (StageResult& s : run.stages)
    if (s.name == "train") {
      s.seconds = train_seconds;
      s.detail_json = "{\"epochs\":" + std::to_string(epochs.size()) + ",\"epoch_seconds\":[" + list + "]}";
    }
  return run;
}

// Both scenarios with epoch times. S3+NVMe: 1378.664 s up front (1335.164 s of stages before
// train + 43.5 s of its train stage outside the epochs), epochs 50 + 30 s; WEKA: 257.31 s
// (251.84 + 5.47), epochs 55 + 60 s. The difference, 1086.354 s after two epochs, shrinks by
// 30 s an epoch: S3+NVMe is the cheaper from epoch 39.
inline std::vector<RunResult> EpochRuns() {
  return {WithEpochs(StagedRun(), 123.5, {50, 30}), WithEpochs(InplaceRun(), 120.47, {55, 60})};
}

// The in-place run merged from `ranks` ranks: verify and pickled take `1 / speedup` of the
// one-rank time (speedup = ranks × efficiency), the same bytes; every rank on its own host.
inline RunResult RanksRun(int ranks, double efficiency = 1.0) {
  RunResult r = InplaceRun();
  r.label = std::to_string(ranks) + " ranks";
  r.world_size = ranks;
  r.launcher = ranks > 1 ? "mpi" : "";
  for (StageResult& s : r.stages) {
    if (s.name != "verify" && s.name != "pickled") continue;
    s.seconds = s.seconds / (ranks * efficiency);
    s.mb_per_s = static_cast<double>(s.bytes) / 1e6 / s.seconds;
  }
  if (ranks > 1)
    for (int k = 0; k < ranks; ++k) r.ranks.push_back(RankInfo{k, StageStatus::kOk, Host("node-" + std::to_string(k))});
  return r;
}

}  // namespace tb::report::testing
