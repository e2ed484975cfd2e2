// The results document (schema "tierbench.run/2", see docs/results-format.md) and its renderings.
// Computed once by the pipeline, rendered many ways: JSON, stage table, comparison table,
// SVG chart, HTML page.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "report/stage_id.h"
#include "util/status.h"

namespace tb::report {

inline constexpr const char* kSchema = "tierbench.run/2";
inline constexpr const char* kSchemaV1 = "tierbench.run/1";  // still read: no clocks, no offsets

// Where a stage's bytes came from and what it cost: deltas of the process's counters around
// the stage (util/io_stats.h), and what the cache control did before it. Optional: absent
// (present = false) in documents that predate it.
struct StageIo {
  bool present = false;
  std::string scope = "stage";  // stage | streamed (one span shared by the overlapped stages)
  std::string filesystem;       // of the stage's input files ("" = none, e.g. network input)
  uint64_t input_files = 0;     // local files the stage reads, and their size
  uint64_t input_bytes = 0;
  bool device_counted = false;      // the kernel counts this filesystem's device reads
  uint64_t read_bytes = 0;          // returned by read calls (rchar; mmap reads are not in it)
  uint64_t device_read_bytes = 0;   // read from block devices (read_bytes)
  uint64_t cache_read_bytes = 0;    // max(read_bytes, input_bytes) - device_read_bytes, at least 0
  uint64_t write_bytes = 0;         // accepted by write calls (wchar)
  uint64_t device_write_bytes = 0;  // sent to block devices (write_bytes)
  uint64_t net_rx_bytes = 0, net_tx_bytes = 0, net_requests = 0;  // counted by the HTTP/S3 transport
  double user_cpu_seconds = 0, system_cpu_seconds = 0;
  bool potential_caching = false;  // most input bytes did not come from a device
  // Cache control before the stage.
  std::string cache_mode = "warm";    // warm | cold
  std::string evict_method = "none";  // none | fadvise | fadvise+drop_caches
  uint64_t evicted_files = 0, evicted_bytes = 0;
  uint64_t resident_bytes_after = 0;  // input bytes still cached after eviction (mincore)
  bool cold_honoured = false;         // cold requested and every input verifiably evicted
  std::vector<std::string> notes;     // what could not be done or counted, and why
};

// A time measured in every repetition of a repeated run (tierbench run --repeat N, N >= 2):
// each repetition's seconds in order, their median, min, max and the 95 % order-statistic
// interval for the median (report/stats.h; level = the confidence it achieves).
struct RepeatStats {
  std::vector<double> seconds;
  double median = 0, min = 0, max = 0;
  double ci_low = 0, ci_high = 0, ci_level = 0;
  size_t n() const { return seconds.size(); }
};
// MakeRepeatStats (report/stats.h) fills the rest from `seconds`.

// One rank's part of a stage in merged results (several ranks).
struct RankStage {
  int rank = 0;
  StageStatus status = StageStatus::kSkipped;
  double seconds = 0;
  uint64_t bytes = 0;
  uint64_t files = 0;
};

struct StageResult {
  std::string name;
  StageStatus status = StageStatus::kSkipped;
  double seconds = 0;             // wall span: first start to last end (steady clock)
  double busy_seconds = 0;        // time the stage's own threads worked (<= seconds x threads)
  double start_s = 0, end_s = 0;  // the span as offsets from the run start (0, 0: did not run)
  uint64_t bytes = 0;
  uint64_t files = 0;
  double mb_per_s = 0;             // bytes / 1e6 / seconds when both are non-zero
  std::string error;               // for failed stages
  std::string detail_json = "{}";  // a JSON object with stage-specific facts
  StageIo io;                      // written as "io" when present
  double started_unix = 0;         // wall clock (Unix seconds) when it started; 0 = unknown
  // Merged results of several ranks: seconds is the cluster span (first start to last end),
  // bytes and files the sums, mb_per_s the aggregate (bytes over the span); each rank's part
  // here, and the rank that took longest. Empty / -1 for one rank.
  std::vector<RankStage> ranks;
  int slowest_rank = -1;
  // Repeated runs: this stage's seconds in each repetition (written as "repeat"; absent for
  // one repetition and for stages that did not run in every repetition).
  std::optional<RepeatStats> repeat;
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
  // Where training waited for data (train::TrainSummary); absent in older documents and when
  // no step counted. au = compute_seconds / (compute_seconds + data_wait_seconds), 0..1.
  std::optional<double> samples_per_second, first_batch_seconds, data_wait_seconds, compute_seconds, au;
  // Data parallelism (optional when reading: absent means one rank, batch unknown (0)).
  int world_size = 1;
  int batch_size = 0;             // per rank
  int64_t global_batch_size = 0;  // batch_size x world_size
};
// Those optional fields by their JSON names (the same in the train stage's detail).
inline constexpr std::pair<const char*, std::optional<double> TrainResult::*> kTrainDataFields[] = {
    {"samples_per_second", &TrainResult::samples_per_second},
    {"first_batch_seconds", &TrainResult::first_batch_seconds},
    {"data_wait_seconds", &TrainResult::data_wait_seconds},
    {"compute_seconds", &TrainResult::compute_seconds},
    {"au", &TrainResult::au}};

// A rank of a merged run and the facts of its host.
struct RankInfo {
  int rank = 0;
  StageStatus status = StageStatus::kOk;
  HostInfo host;
};

// Repeated runs: the measured repetitions asked for, the warmup runs before them, and each
// repetition's total. When every repetition was ok, total_seconds is the median total and each
// stage's seconds its median. A repetition that was not ok ends the run: the document is that
// repetition's, totals lists every one run.
struct RunRepeat {
  int requested = 0;
  int warmup = 0;
  RepeatStats totals;
};

struct RunResult {
  std::string schema = kSchema;
  std::string tool_version;
  std::string scenario;   // staged | inplace
  std::string label;
  std::string started_at;
  StageStatus status = StageStatus::kOk;  // ok | failed | interrupted
  HostInfo host;
  std::string config_json = "{}";  // effective config, secrets removed
  std::vector<StageResult> stages; // all nine, pipeline order
  double total_seconds = 0;
  double overlapped_seconds = 0;  // sum of the stage spans less their union (0 if none overlap)
  TrainResult train;
  // Several ranks (merged by rank 0): the world, its launcher and every rank's host. A single
  // rank: world_size 1, launcher "" and no ranks.
  int world_size = 1;
  std::string launcher;
  std::vector<RankInfo> ranks;
  // Repeated runs (written as "repeat" when present, see RunRepeat).
  std::optional<RunRepeat> repeat;
};

// Hostname, online CPUs, physical memory, CPU model, kernel ("Linux 6.1.0-…"); device "cpu".
// Never fails: facts that cannot be read are left empty / zero.
HostInfo CollectHostInfo();
// The schema "tierbench.run/2" document, pretty-printed. config_json and detail_json are
// embedded as JSON objects (text that is not a JSON object is kept as {"unparsed": "<text>"}).
// Non-finite numbers are written as 0.
std::string ToJson(const RunResult& run);  // pretty-printed
// Strict parse of a results document. Errors are InvalidArgument and name `name` (the file)
// and the missing/invalid field ("a.json: field 'stages[2].seconds' is missing"); a schema
// other than tierbench.run/2 or /1 is a clear "unsupported schema" error.
Result<RunResult> ParseRunResult(std::string_view json, const std::string& name);
// Reads and parses a results file; errors name the path.
Result<RunResult> LoadRunResult(const std::string& path);

// Optional provenance columns of the terminal tables (from each stage's io): device = MB read
// from block devices, cache = MB read from the page cache (* = potential caching), net = MB
// on the network (received + sent) and requests, cpu = user + system CPU seconds.
struct IoColumns {
  bool device = false, cache = false, net = false, cpu = false;
  bool any() const { return device || cache || net || cpu; }
};
// "device,cache,net,cpu" in any order and subset, or "all"; an unknown name is an error naming it.
Result<IoColumns> ParseIoColumns(std::string_view list);

// The reference architecture's stage table: stage, status, seconds, MB/s, files; plus Total
// Runtime; then the selected provenance columns. Cold reads that were not honoured and stages
// flagged as potential caching are listed under the table whatever the columns.
std::string RenderStageTable(const RunResult& run, const IoColumns& columns = {});
// The stage table's header line and one stage's line, in fixed-width columns: the table
// printed a row at a time as stages end (the run's live view).
std::string RenderStageTableHeader();
std::string RenderStageRow(const StageResult& stage);
// Side by side: a column per run, a row per stage plus "Total Runtime", speedup vs the first;
// with columns, a second table of the selected provenance columns per run.
std::string RenderCompareTable(const std::vector<RunResult>& runs, const IoColumns& columns = {});
std::string RenderCompareJson(const std::vector<RunResult>& runs);
std::string RenderCompareSvg(const std::vector<RunResult>& runs);
std::string RenderCompareHtml(const std::vector<RunResult>& runs);

}  // namespace tb::report
