// The results document (schema "tierbench.run/1", see docs/results-format.md) and its renderings.
// Computed once by the pipeline, rendered many ways: JSON, stage table, comparison table,
// SVG chart, HTML page.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace tb::report {

inline constexpr const char* kSchema = "tierbench.run/1";
// The nine pipeline stages, in order (names are fixed: they appear in results and tables).
inline constexpr const char* kStageNames[] = {"download", "integrity", "extract", "verify", "pickled",
                                              "meta",     "upload",    "preview", "train"};

// One rank's part of a stage in merged results (several ranks).
struct RankStage {
  int rank = 0;
  std::string status = "skipped";
  double seconds = 0;
  uint64_t bytes = 0;
  uint64_t files = 0;
};

struct StageResult {
  std::string name;
  std::string status = "skipped";  // ok | skipped | failed | interrupted
  double seconds = 0;
  uint64_t bytes = 0;
  uint64_t files = 0;
  double mb_per_s = 0;             // bytes / 1e6 / seconds when both are non-zero
  std::string error;               // for failed stages
  std::string detail_json = "{}";  // a JSON object with stage-specific facts
  double started_unix = 0;         // wall clock (Unix seconds) when it started; 0 = unknown
  // Merged results of several ranks: seconds is the cluster span (first start to last end),
  // bytes and files the sums, mb_per_s the aggregate (bytes over the span); each rank's part
  // here, and the rank that took longest. Empty / -1 for one rank.
  std::vector<RankStage> ranks;
  int slowest_rank = -1;
};

struct HostInfo {
  std::string hostname;
  int cpus = 0;
  uint64_t memory_bytes = 0;
  std::string device = "cpu";
  std::string cpu_model;
  std::string kernel;
};

struct TrainResult {
  bool present = false;
  std::string device;
  int epochs = 0;
  int64_t steps = 0;
  double final_loss = 0;
  double test_accuracy = 0;
  double steps_per_second = 0;
};

// A rank of a merged run and the facts of its host.
struct RankInfo {
  int rank = 0;
  std::string status = "ok";
  HostInfo host;
};

struct RunResult {
  std::string schema = kSchema;
  std::string tool_version;
  std::string scenario;   // staged | inplace
  std::string label;
  std::string started_at;
  std::string status = "ok";  // ok | failed | interrupted
  HostInfo host;
  std::string config_json = "{}";  // effective config, secrets removed
  std::vector<StageResult> stages; // all nine, pipeline order
  double total_seconds = 0;
  double overlapped_seconds = 0;   // wall time saved by overlapped stages (0 if none)
  TrainResult train;
  // Several ranks (merged by rank 0): the world, its launcher and every rank's host. A single
  // rank: world_size 1, launcher "" and no ranks.
  int world_size = 1;
  std::string launcher;
  std::vector<RankInfo> ranks;
};

// Hostname, online CPUs, physical memory, CPU model, kernel ("Linux 6.1.0-…"); device "cpu".
// Never fails: facts that cannot be read are left empty / zero.
HostInfo CollectHostInfo();
// The schema "tierbench.run/1" document, pretty-printed. config_json and detail_json are
// embedded as JSON objects (text that is not a JSON object is kept as {"unparsed": "<text>"}).
// Non-finite numbers are written as 0.
std::string ToJson(const RunResult& run);  // pretty-printed
// Strict parse of a results document. Errors are InvalidArgument and name `name` (the file)
// and the missing/invalid field ("a.json: field 'stages[2].seconds' is missing"); a schema
// other than tierbench.run/1 is a clear "unsupported schema" error.
Result<RunResult> ParseRunResult(std::string_view json, const std::string& name);
// Reads and parses a results file; errors name the path.
Result<RunResult> LoadRunResult(const std::string& path);

// The reference architecture's stage table: stage, status, seconds, MB/s, files; plus Total Runtime.
std::string RenderStageTable(const RunResult& run);
// Side by side: a column per run, a row per stage plus "Total Runtime", speedup vs the first.
std::string RenderCompareTable(const std::vector<RunResult>& runs);
std::string RenderCompareJson(const std::vector<RunResult>& runs);
std::string RenderCompareSvg(const std::vector<RunResult>& runs);
std::string RenderCompareHtml(const std::vector<RunResult>& runs);

}  // namespace tb::report
