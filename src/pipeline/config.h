// The job configuration of `tierbench run`: a TOML file and/or flags, flags winning.
// Unknown keys are errors (exit 2) that name the key, so typos never silently change a run.
//
// Example (every key optional except what the scenario needs):
//   label = "S3+NVMe"            scenario = "staged"        # or "inplace"
//   scratch = "/nvme/tierbench"  out = "runs/s3.json"       log = "runs/s3.log"
//   [origin]   url = "http://host/cifar-10-python.tar.gz"   # or s3://b/k or a local path
//              md5 = "c58f30108f718f92721af3b95e74349a"     # or md5_file = "...md5" (path/URL)
//              manifest = "http://host/cifar-10-batches-py.md5"
//   [inplace]  dir = "/mnt/weka/cifar"
//   [upload]   dest = "s3://bucket/prefix"  create_bucket = false  # true: create it if missing
//   [s3]       endpoint_url = "http://127.0.0.1:18000"  region = "us-east-1"  profile = "x"
//              concurrency = 16  part_size = "8MiB"
//   [train]    epochs = 2  batch_size = 4  lr = 0.001  momentum = 0.9  workers = 2
//              threads = 0  seed = 0  device = "auto"  max_steps = 0
//              input_mode = "file"  cache_bytes = 0  read_ahead = 4   # fastfile: files read ahead
//   [preview]  count = 4  scale = 4  out = "runs/preview.png"
//   [stages]   upload = false  ...                      # switch any stage off
//   [pipeline] stream = true   verify_threads = 0   # stream=false: the reference architecture's order
//              cache = "warm"  cache_drop = "files"  # cold: evict each read stage's inputs first
//              repeat = 1  warmup = 0               # measured runs (median + 95% CI), discarded runs first
//              distribution = "replicated"          # or "sharded": each rank trains on 1/N of the files
//   [verify]   unlisted = "warn"                    # or "fail": refuse files the manifest omits
//              keep_bytes = "1GiB"                  # streamed: batch bytes kept for pickled (0 = none)
//   [net]      connect_timeout = 10  read_timeout = 30  retries = 5     # seconds; per request
//   [limits]   max_download_bytes = "16GiB"  max_expansion_ratio = 200  min_free_bytes = "32MiB"
//   [cluster]  launcher = "auto"  rendezvous = "host:port"  interface = "eth0"  # several ranks
//              timeout = 300  heartbeat_timeout = 20                           # seconds
// Every numeric key has an allowed range (see ConfigKeys); a value outside it is an error
// that names the key, the value and the range, before any stage runs.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>

#include <vector>

#include "report/stage_id.h"
#include "util/status.h"

namespace tb::pipeline {

using report::StageId;

struct JobConfig {
  std::string label;
  std::string scenario = "staged";  // staged | inplace
  std::string scratch = "/tmp/tierbench-scratch";
  std::string out;                  // results JSON (default runs/<label>-<time>.json)
  std::string log;                  // log file (default beside out, .log)

  std::string origin_url;
  std::string origin_md5;           // literal hex
  std::string origin_md5_file;      // path or URL of "<md5>  <name>"
  std::string manifest;             // path or URL (md5sum format)

  std::string inplace_dir;
  std::string dataset_uri;          // streamed: s3://bucket/prefix/cifar-10-batches-py
  std::string upload_dest;          // s3://bucket/prefix
  bool upload_create_bucket = false;  // a missing bucket: create it (else the stage fails)

  std::string s3_endpoint_url, s3_region, s3_profile;
  int concurrency = 16;
  uint64_t part_size_bytes = 8ull << 20;

  int epochs = 2, batch_size = 4, workers = 2, threads = 0;
  double lr = 0.001, momentum = 0.9;
  uint64_t seed = 0;
  std::string device = "auto";
  int64_t max_steps = 0;
  std::string model_dir;            // default: <scratch>/model
  // Training input mode (train/train.h): file | fastfile | pipe; shuffle: samples | files
  // ("" = the mode's default: samples for file, files otherwise); FastFile's LRU cache.
  std::string input_mode;  // "" = fastfile in the streamed scenario, else file
  std::string shuffle;
  uint64_t cache_bytes = 0;
  int read_ahead = 4;  // file (with a source) and fastfile: files read ahead of the step

  int preview_count = 4, preview_scale = 4;
  std::string preview_out;          // default: beside out, -preview.png

  bool stream = true;               // one overlapped pass for download..verify (staged)
  int verify_threads = 0;
  // Repetitions (pipeline/repeat.h): warmup runs are discarded, then `repeat` measured runs.
  int repeat = 1, warmup = 0;
  std::string cache = "warm";            // warm | cold: evict each read stage's inputs from the page cache first
  std::string cache_drop = "files";      // cold: files (fadvise per input) | system (also drop_caches, root)
  // Several ranks: "replicated" (every host stages and trains on the whole dataset, as
  // SageMaker's FullyReplicated) or "sharded" (each rank trains on a deterministic 1/N of the
  // training files, as ShardedByS3Key; pipeline/train.cc). Either way verify, pickled and
  // upload split the files so each is read once.
  std::string distribution = "replicated";
  std::string verify_unlisted = "warn";  // files the manifest does not list: warn | fail
  // Streamed: bytes of batch files verify keeps in memory for pickled (one read for both).
  uint64_t verify_keep_bytes = 1ull << 30;

  double connect_timeout_s = 10;    // per connection attempt
  double read_timeout_s = 30;       // a request receiving nothing this long fails (retryable)
  int retries = 5;                  // retries per request after transient failures
  std::string streams = "auto";     // connections per transfer: "auto" or 1..1024 (checked on load)

  uint64_t max_download_bytes = 16ull << 30;  // the origin's body, also capped by free space
  double max_expansion_ratio = 200;  // extracted bytes per compressed byte (after an allowance)
  uint64_t min_free_bytes = 32ull << 20;      // download and extract leave this much free

  // Several ranks (launch/world.h): the launcher's variables, overridden by these.
  std::string cluster_launcher = "auto";    // auto | none | env | mpi | slurm | sagemaker
  std::string cluster_rendezvous;           // host:port of rank 0's store ("" = the launcher's)
  std::string cluster_interface;            // network interface of the collectives ("" = auto)
  double cluster_timeout_s = 300;           // the longest a rank waits for the others
  double cluster_heartbeat_timeout_s = 20;  // a rank silent this long counts as lost

  std::array<bool, report::kStageCount> enabled = MakeAllOn();  // stages.<name> (all on by default)
  bool StageEnabled(StageId stage) const { return enabled[static_cast<size_t>(stage)]; }
  static constexpr std::array<bool, report::kStageCount> MakeAllOn() {
    std::array<bool, report::kStageCount> a{};
    for (bool& b : a) b = true;
    return a;
  }
};

// Overrides by dotted key ("train.epochs" -> "1", "stages.upload" -> "false"), as the
// command line gives them; values are parsed with the key's type.
using Overrides = std::vector<std::pair<std::string, std::string>>;

// Every accepted dotted key with its type and meaning (for --help and docs).
struct KeyInfo {
  const char* key;
  const char* type;  // "string" | "int" | "float" | "bool" | "size"
  const char* help;
  const char* range = "";  // allowed values of a numeric key, e.g. "1..1024" ("" = any)
};
const std::vector<KeyInfo>& ConfigKeys();

// Loads the TOML file (if `path` non-empty), applies overrides, fills defaults that depend on
// other fields (out, log, model_dir, preview_out) and validates. Errors name the file and key.
Result<JobConfig> LoadConfig(const std::string& path, const Overrides& overrides);
Result<JobConfig> ParseConfigText(const std::string& toml_text, const std::string& name,
                                  const Overrides& overrides = {});

// The effective configuration as a JSON object (no secrets: there are none in JobConfig;
// credentials come only from the environment/profile and are never copied here).
std::string ConfigToJson(const JobConfig& cfg);

}  // namespace tb::pipeline
