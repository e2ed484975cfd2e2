#include "pipeline/config.h"

#include <toml++/toml.h>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <nlohmann/json.hpp>

#include "train/limits.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/parallel.h"
#include "util/range.h"
#include "util/redact.h"
#include "util/units.h"

namespace tb::pipeline {
namespace {

// A typed config value, from TOML or from a command-line string.
struct Value {
  std::string text;  // canonical text form (for strings and messages)
  int64_t i = 0;
  double f = 0;
  bool b = false;
};

using Setter = std::function<void(JobConfig&, const Value&)>;

// The allowed range of every numeric key. It is checked on the value as read, before the
// value is narrowed to its field, so nothing out of range (a count that would exhaust memory
// or threads, a negative step count, a part size S3 refuses) ever reaches a stage.
using Range = NamedRange;

constexpr double kMiB = 1 << 20, kGiB = 1ull << 30, kTiB = 1ull << 40;
const Range kRanges[] = {
    {"s3.concurrency", 1, kMaxThreads, "1..1024"},
    {"s3.part_size", 5 * kMiB, 5 * kGiB, "5MiB..5GiB (S3's part limits)"},
    {"train.epochs", 1, train::kMaxEpochs, "1..100000"},
    {"train.batch_size", 1, train::kMaxBatchSize, "1..65536"},
    {"train.lr", 0, 1000, "greater than 0, at most 1000", true},
    {"train.momentum", 0, 1, "0 or more, less than 1", false, true},
    {"train.workers", 0, kMaxThreads, "0..1024"},
    {"train.threads", 0, kMaxThreads, "0..1024"},
    {"train.seed", 0, 9223372036854775807.0, "0 or more"},
    {"train.max_steps", 0, 1e15, "0 (no limit) or more"},
    {"train.cache_bytes", 0, kTiB, "0..1TiB"},
    {"train.read_ahead", 1, train::kMaxReadAhead, "1..64"},
    {"preview.count", 1, 4096, "1..4096"},
    {"preview.scale", 1, 64, "1..64"},
    {"pipeline.verify_threads", 0, kMaxThreads, "0..1024"},
    {"verify.keep_bytes", 0, kTiB, "0..1TiB"},
    {"pipeline.repeat", 1, 1000, "1..1000"},
    {"pipeline.warmup", 0, 100, "0..100"},
    {"net.connect_timeout", 0, 3600, "greater than 0, at most 3600 seconds", true},
    {"net.read_timeout", 1, 3600, "1..3600 seconds (curl counts whole seconds)"},
    {"net.retries", 0, 100, "0..100"},
    {"limits.max_download_bytes", kMiB, kTiB * 1024, "1MiB..1024TiB"},
    {"limits.max_expansion_ratio", 1, 1e6, "greater than 1, at most 1000000", true},
    {"limits.min_free_bytes", 0, kTiB * 1024, "0..1024TiB"},
    {"cluster.timeout", 1, 86400, "1..86400 seconds"},
    {"cluster.heartbeat_timeout", 2, 3600, "2..3600 seconds"},
};

const Range* FindRange(const std::string& key) {
  for (const auto& r : kRanges)
    if (key == r.name) return &r;
  return nullptr;
}

struct Key {
  KeyInfo info;
  Setter set;
};

// pipeline.repeat and pipeline.warmup (pipeline/repeat.h).
void AddRepeatKeys(std::vector<Key>& k) {
  k.push_back({{"pipeline.repeat", "int",
                "measured runs of the whole scenario; above 1 the results give each stage's median seconds "
                "and a 95% confidence interval"},
               [](JobConfig& c, const Value& v) { c.repeat = static_cast<int>(v.i); }});
  k.push_back({{"pipeline.warmup", "int", "runs of the whole scenario before the measured ones, results discarded"},
               [](JobConfig& c, const Value& v) { c.warmup = static_cast<int>(v.i); }});
}

constexpr const char* kScenarioHelp =
    "staged (download to scratch), inplace (data already on a mounted filesystem) or streamed (data "
    "already in S3, read there: no local copy, training in fastfile mode)";

// train.input_mode, train.shuffle, train.cache_bytes and the streamed scenario's dataset.
void AddInputModeKeys(std::vector<Key>& k) {
  auto str = [&](const char* key, const char* help, std::string JobConfig::*field) {
    k.push_back({{key, "string", help}, [field](JobConfig& c, const Value& v) { c.*field = v.text; }});
  };
  str("train.input_mode",
      "training input: file (the local copy, default; staged fetches the upload first), fastfile (each "
      "file read from S3 on demand, read ahead, no local copy; the streamed scenario's default) or pipe "
      "(one sequential pass an epoch)",
      &JobConfig::input_mode);
  str("train.shuffle",
      "samples (one shuffle of every image; file mode only, its default) or files (a seeded order of the "
      "training files, then of the images in each: fastfile and pipe; the same weights in every mode)",
      &JobConfig::shuffle);
  k.push_back({{"train.cache_bytes", "size", "fastfile: LRU cache of file bytes on the training host (0 = none)"},
               [](JobConfig& c, const Value& v) { c.cache_bytes = static_cast<uint64_t>(v.i); }});
  k.push_back({{"train.read_ahead", "int",
                "fastfile (and file mode read through a source): training files read ahead of the step, on as "
                "many threads (default 4); pipe reads one at a time"},
               [](JobConfig& c, const Value& v) { c.read_ahead = static_cast<int>(v.i); }});
  str("streamed.dataset_uri",
      "streamed: the dataset folder in S3 (s3://bucket/prefix/cifar-10-batches-py; any tier URI works); "
      "its manifest defaults to cifar-10-batches-py.md5 beside it",
      &JobConfig::dataset_uri);
}

// verify.unlisted and verify.keep_bytes.
void AddVerifyKeys(std::vector<Key>& k) {
  k.push_back({{"verify.unlisted", "string",
                "files in the dataset folder the manifest does not list (never read by later stages): warn "
                "(default) or fail"},
               [](JobConfig& c, const Value& v) { c.verify_unlisted = v.text; }});
  k.push_back({{"verify.keep_bytes", "size",
                "streamed: batch files' (and batches.meta's) bytes verify keeps in memory (md5 matched) so "
                "that pickled and meta decode them without a second GET; files past it are read again "
                "(default 1GiB, 0 = keep none)"},
               [](JobConfig& c, const Value& v) { c.verify_keep_bytes = static_cast<uint64_t>(v.i); }});
}

const std::vector<Key>& Keys() {
  static const std::vector<Key> keys = [] {
    std::vector<Key> k;
    auto str = [&](const char* key, const char* help, std::string JobConfig::*field) {
      k.push_back({{key, "string", help}, [field](JobConfig& c, const Value& v) { c.*field = v.text; }});
    };
    auto num = [&](const char* key, const char* help, auto JobConfig::*field) {
      using T = std::remove_reference_t<decltype(std::declval<JobConfig>().*field)>;
      const char* type = std::is_floating_point_v<T> ? "float" : "int";
      k.push_back({{key, type, help}, [field](JobConfig& c, const Value& v) {
                     if constexpr (std::is_floating_point_v<T>) c.*field = static_cast<T>(v.f);
                     else c.*field = static_cast<T>(v.i);
                   }});
    };
    str("label", "name of this configuration in tables (e.g. \"S3+NVMe\", \"WEKA\")", &JobConfig::label);
    str("scenario", kScenarioHelp, &JobConfig::scenario);
    str("scratch", "local scratch directory (the NVMe) for downloads, extraction, training input",
        &JobConfig::scratch);
    str("out", "results JSON path (default runs/<label>-<time>.json)", &JobConfig::out);
    str("log", "log file with a timestamped start/end line per stage (default beside out)", &JobConfig::log);
    str("origin.url", "dataset tarball: http(s)://, s3://bucket/key or a local path", &JobConfig::origin_url);
    str("origin.md5", "expected md5 of the tarball (hex)", &JobConfig::origin_md5);
    str("origin.md5_file", "path or URL of a '<md5>  <name>' file (default <origin.url>.md5)",
        &JobConfig::origin_md5_file);
    str("origin.manifest", "md5sum-format manifest of the dataset files, path or URL "
        "(default cifar-10-batches-py.md5 beside the tarball or the in-place dataset)", &JobConfig::manifest);
    str("inplace.dir", "dataset directory on the shared filesystem (cifar-10-batches-py or its parent)",
        &JobConfig::inplace_dir);
    str("upload.dest", "S3 destination of the upload stage: s3://bucket/prefix", &JobConfig::upload_dest);
    k.push_back({{"upload.create_bucket", "bool",
                  "create the upload bucket when it does not exist (default false: the upload stage fails)"},
                 [](JobConfig& c, const Value& v) { c.upload_create_bucket = v.b; }});
    str("s3.endpoint_url", "S3 endpoint (default AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL / AWS)",
        &JobConfig::s3_endpoint_url);
    str("s3.region", "S3 region (default AWS_REGION / profile / us-east-1)", &JobConfig::s3_region);
    str("s3.profile", "AWS profile in ~/.aws/credentials", &JobConfig::s3_profile);
    num("s3.concurrency", "parallel connections per transfer", &JobConfig::concurrency);
    k.push_back({{"s3.part_size", "size", "multipart / ranged part size (e.g. 8MiB)"},
                 [](JobConfig& c, const Value& v) { c.part_size_bytes = static_cast<uint64_t>(v.i); }});
    num("train.epochs", "training epochs", &JobConfig::epochs);
    num("train.batch_size", "mini-batch size", &JobConfig::batch_size);
    num("train.lr", "SGD learning rate", &JobConfig::lr);
    num("train.momentum", "SGD momentum", &JobConfig::momentum);
    num("train.workers", "loader worker threads", &JobConfig::workers);
    num("train.threads", "intra-op threads (0 = library default)", &JobConfig::threads);
    num("train.seed", "random seed (shuffle, init, preview)", &JobConfig::seed);
    str("train.device", "auto | cpu | cuda | cuda:N", &JobConfig::device);
    num("train.max_steps", "stop training after N steps (0 = no limit)", &JobConfig::max_steps);
    str("train.model_dir", "where model.pth is written (default <scratch>/model)", &JobConfig::model_dir);
    AddInputModeKeys(k);
    num("preview.count", "images in the preview grid", &JobConfig::preview_count);
    num("preview.scale", "preview upscaling factor", &JobConfig::preview_scale);
    str("preview.out", "preview PNG path (default beside out)", &JobConfig::preview_out);
    k.push_back({{"pipeline.stream", "bool",
                  "staged: download, integrity, extract and verify in one overlapped pass (default true; "
                  "false runs them one after another as the reference architecture does)"},
                 [](JobConfig& c, const Value& v) { c.stream = v.b; }});
    str("pipeline.distribution",
        "several ranks: replicated (default: every host stages the whole dataset) or "
        "sharded (each rank trains on a deterministic 1/N of the training files, not split again)",
        &JobConfig::distribution);
    num("pipeline.verify_threads", "threads hashing files in verify (0 = all cores)", &JobConfig::verify_threads);
    AddRepeatKeys(k);
    str("pipeline.cache",
        "warm (default: reads may come from the page cache) or cold (before each stage that "
        "reads local files, flush and evict them from the page cache; the results say what was done)",
        &JobConfig::cache);
    str("pipeline.cache_drop",
        "how cold evicts: files (posix_fadvise per input file, default) or system (also "
        "/proc/sys/vm/drop_caches, the whole machine's page cache; needs root)",
        &JobConfig::cache_drop);
    AddVerifyKeys(k);
    num("net.connect_timeout", "seconds to wait for a connection to the origin or S3", &JobConfig::connect_timeout_s);
    num("net.read_timeout", "seconds a request may receive nothing before it fails (and is retried)",
        &JobConfig::read_timeout_s);
    num("net.retries", "retries per request after transient failures", &JobConfig::retries);
    str("net.streams",
        "connections one transfer uses: auto (default: one, doubled while the aggregate "
        "rate grows, up to s3.concurrency) or a number 1..1024",
        &JobConfig::streams);
    auto size = [&](const char* key, const char* help, uint64_t JobConfig::*field) {
      k.push_back({{key, "size", help}, [field](JobConfig& c, const Value& v) { c.*field = static_cast<uint64_t>(v.i); }});
    };
    size("limits.max_download_bytes", "largest origin tarball downloaded (also capped by the scratch's free space)",
         &JobConfig::max_download_bytes);
    num("limits.max_expansion_ratio", "extract refuses an archive expanding more than this many bytes per "
        "compressed byte (past a 64 MiB allowance); CIFAR-10 expands 1.05x", &JobConfig::max_expansion_ratio);
    size("limits.min_free_bytes", "download and extract stop before leaving less free space on the scratch",
         &JobConfig::min_free_bytes);
    str("cluster.launcher",
        "where rank and world size come from: auto (Open MPI, torchrun-style, Slurm, "
        "SageMaker, else one rank), none (one rank), mpi, env, slurm or sagemaker",
        &JobConfig::cluster_launcher);
    str("cluster.rendezvous",
        "host:port of rank 0's rendezvous store (default MASTER_ADDR/MASTER_PORT or the "
        "launcher's first host)",
        &JobConfig::cluster_rendezvous);
    str("cluster.interface",
        "network interface the ranks' collectives use (default: the address that "
        "reaches the rendezvous host)",
        &JobConfig::cluster_interface);
    num("cluster.timeout", "seconds a rank waits for the others at a barrier or at the rendezvous",
        &JobConfig::cluster_timeout_s);
    num("cluster.heartbeat_timeout",
        "seconds without a heartbeat after which a rank counts as lost and the "
        "others stop",
        &JobConfig::cluster_heartbeat_timeout_s);
    for (StageId stage : report::kAllStages) {
      static std::deque<std::string> names;  // keys must outlive the table (stable addresses)
      names.push_back(std::string("stages.") + report::StageName(stage));
      k.push_back({{names.back().c_str(), "bool", "run this stage (default true)"},
                   [stage](JobConfig& c, const Value& v) { c.enabled[static_cast<size_t>(stage)] = v.b; }});
    }
    for (auto& key : k)
      if (const Range* r = FindRange(key.info.key)) key.info.range = r->text;
    return k;
  }();
  return keys;
}

const Key* FindKey(const std::string& dotted) {
  for (const auto& k : Keys())
    if (dotted == k.info.key) return &k;
  return nullptr;
}

// Converts command-line text to a Value of the key's type.
Result<Value> FromText(const KeyInfo& info, const std::string& text) {
  Value v;
  v.text = text;
  std::string type = info.type;
  if (type == "string") return v;
  if (type == "bool") {
    if (text == "true" || text == "1" || text == "yes" || text == "on") v.b = true;
    else if (text == "false" || text == "0" || text == "no" || text == "off") v.b = false;
    else return Status::InvalidArgument("expects true or false, got '" + text + "'");
    return v;
  }
  if (type == "size") {
    TB_ASSIGN_OR_RETURN(uint64_t n, ParseBytes(text));
    v.i = static_cast<int64_t>(n);
    return v;
  }
  char* end = nullptr;
  errno = 0;
  if (type == "int") {
    v.i = std::strtoll(text.c_str(), &end, 10);
    v.f = static_cast<double>(v.i);
  } else {
    v.f = std::strtod(text.c_str(), &end);
  }
  if (text.empty() || *end != '\0' || errno != 0)
    return Status::InvalidArgument(std::string("expects ") + (type == "int" ? "an integer" : "a number") +
                                   ", got '" + text + "'");
  return v;
}

Result<Value> FromToml(const KeyInfo& info, const toml::node& node) {
  std::string type = info.type;
  Value v;
  if (type == "string") {
    if (!node.is_string()) return Status::InvalidArgument("expects a string");
    v.text = **node.as_string();
  } else if (type == "bool") {
    if (!node.is_boolean()) return Status::InvalidArgument("expects true or false");
    v.b = **node.as_boolean();
  } else if (type == "int") {
    if (!node.is_integer()) return Status::InvalidArgument("expects an integer");
    v.i = **node.as_integer();
  } else if (type == "float") {
    if (node.is_integer()) v.f = static_cast<double>(**node.as_integer());
    else if (node.is_floating_point()) v.f = **node.as_floating_point();
    else return Status::InvalidArgument("expects a number");
  } else if (type == "size") {
    if (node.is_integer()) v.i = **node.as_integer();
    else if (node.is_string()) return FromText(info, **node.as_string());
    else return Status::InvalidArgument("expects a size like \"8MiB\" or a byte count");
  }
  return v;
}

// OK when a numeric value lies in its key's range (NaN and infinities never do).
Status CheckRange(const KeyInfo& info, const Value& v) {
  const Range* r = FindRange(info.key);
  if (!r) return Status::Ok();
  bool is_float = std::string(info.type) == "float";
  double x = is_float ? v.f : static_cast<double>(v.i);
  if (r->Contains(x)) return Status::Ok();
  std::string shown = v.text;
  if (shown.empty()) {
    char buf[64];
    if (is_float) std::snprintf(buf, sizeof buf, "%g", x);
    else std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v.i));
    shown = buf;
  }
  return Status::InvalidArgument("= " + shown + " is out of range: allowed " + r->text);
}

Status Apply(JobConfig& cfg, const std::string& key, const Result<Value>& value, const std::string& where) {
  if (!value.ok())
    return Status::InvalidArgument(where + ": key '" + key + "' " + value.status().message());
  if (Status in_range = CheckRange(FindKey(key)->info, *value); !in_range.ok())
    return Status::InvalidArgument(where + ": key '" + key + "' " + in_range.message());
  FindKey(key)->set(cfg, *value);
  return Status::Ok();
}

Status Walk(const toml::table& table, const std::string& prefix, const std::string& name, JobConfig& cfg) {
  for (const auto& [k, node] : table) {
    std::string dotted = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (node.is_table()) {
      TB_RETURN_IF_ERROR(Walk(*node.as_table(), dotted, name, cfg));
      continue;
    }
    const Key* key = FindKey(dotted);
    if (!key) return Status::InvalidArgument(name + ": unknown key '" + dotted + "'");
    TB_RETURN_IF_ERROR(Apply(cfg, dotted, FromToml(key->info, node), name));
  }
  return Status::Ok();
}

std::string Dir(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

std::string StripSuffix(const std::string& s, const std::string& suffix) {
  if (s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0)
    return s.substr(0, s.size() - suffix.size());
  return s;
}

Status Finalize(JobConfig& cfg, const std::string& name) {
  auto bad = [&](const std::string& key, const std::string& why) {
    return Status::InvalidArgument(name + ": key '" + key + "' " + why);
  };
  if (cfg.scenario != "staged" && cfg.scenario != "inplace" && cfg.scenario != "streamed")
    return bad("scenario", "must be \"staged\", \"inplace\" or \"streamed\", got '" + cfg.scenario + "'");
  if (cfg.input_mode.empty()) cfg.input_mode = cfg.scenario == "streamed" ? "fastfile" : "file";
  if (cfg.label.empty()) cfg.label = cfg.scenario;
  if (cfg.scratch.empty()) return bad("scratch", "must not be empty");
  if (cfg.scenario == "staged") {
    bool fetch = cfg.StageEnabled(StageId::kDownload) || cfg.StageEnabled(StageId::kIntegrity) ||
                 cfg.StageEnabled(StageId::kExtract);
    if (fetch && cfg.origin_url.empty()) return bad("origin.url", "is required for the staged scenario");
  } else if (cfg.scenario == "streamed") {
    if (cfg.dataset_uri.empty()) return bad("streamed.dataset_uri", "is required for the streamed scenario");
    if (cfg.input_mode == "file")
      return bad("train.input_mode",
                 "\"file\" trains from a local copy; the streamed scenario makes none "
                 "(use \"fastfile\" or \"pipe\")");
  } else if (cfg.inplace_dir.empty()) {
    return bad("inplace.dir", "is required for the inplace scenario");
  }
  if (cfg.input_mode != "file" && cfg.input_mode != "fastfile" && cfg.input_mode != "pipe")
    return bad("train.input_mode", "must be \"file\", \"fastfile\" or \"pipe\", got '" + cfg.input_mode + "'");
  if (!cfg.shuffle.empty() && cfg.shuffle != "samples" && cfg.shuffle != "files")
    return bad("train.shuffle", "must be \"samples\" or \"files\", got '" + cfg.shuffle + "'");
  if (cfg.input_mode != "file" && cfg.shuffle == "samples")
    return bad("train.shuffle", "\"samples\" needs every image in memory first (train.input_mode = \"file\"); " +
                                    cfg.input_mode + " reads the files in turn: use \"files\"");
  if (cfg.distribution != "replicated" && cfg.distribution != "sharded")
    return bad("pipeline.distribution", "must be \"replicated\" or \"sharded\", got '" + cfg.distribution + "'");
  if (cfg.verify_unlisted != "warn" && cfg.verify_unlisted != "fail")
    return bad("verify.unlisted", "must be \"warn\" or \"fail\", got '" + cfg.verify_unlisted + "'");
  if (auto streams = ParseCountOrAuto(cfg.streams); !streams.ok())
    return bad("net.streams", streams.status().message());
  if (cfg.cache != "warm" && cfg.cache != "cold")
    return bad("pipeline.cache", "must be \"warm\" or \"cold\", got '" + cfg.cache + "'");
  if (cfg.cache_drop != "files" && cfg.cache_drop != "system")
    return bad("pipeline.cache_drop", "must be \"files\" or \"system\", got '" + cfg.cache_drop + "'");
  if (cfg.cluster_launcher != "auto" && cfg.cluster_launcher != "none" && cfg.cluster_launcher != "env" &&
      cfg.cluster_launcher != "mpi" && cfg.cluster_launcher != "slurm" && cfg.cluster_launcher != "sagemaker")
    return bad("cluster.launcher",
               "must be auto, none, env, mpi, slurm or sagemaker, got '" + cfg.cluster_launcher + "'");
  if (!cfg.upload_dest.empty() && cfg.upload_dest.rfind("s3://", 0) != 0)
    return bad("upload.dest", "must be an s3://bucket/prefix URI, got '" + cfg.upload_dest + "'");
  if (cfg.StageEnabled(StageId::kUpload) && cfg.upload_dest.empty() && cfg.scenario == "staged" &&
      cfg.StageEnabled(StageId::kTrain))
    return bad("upload.dest", "is required: the staged scenario trains from the S3 upload "
               "(or switch off stages.upload)");
  if (cfg.out.empty()) {
    std::string stamp = UtcTimestamp();
    for (auto& ch : stamp)
      if (ch == ':' || ch == '.') ch = '-';
    std::string safe = cfg.label;
    for (auto& ch : safe)
      if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_') ch = '_';
    cfg.out = "runs/" + safe + "-" + stamp + ".json";
  }
  std::string base = StripSuffix(cfg.out, ".json");
  if (cfg.log.empty()) cfg.log = base + ".log";
  if (cfg.preview_out.empty()) cfg.preview_out = base + "-preview.png";
  if (cfg.model_dir.empty()) cfg.model_dir = cfg.scratch + "/model";
  if (cfg.origin_md5_file.empty() && cfg.origin_md5.empty() && !cfg.origin_url.empty())
    cfg.origin_md5_file = cfg.origin_url + ".md5";
  if (cfg.manifest.empty()) {
    if (cfg.scenario == "staged" && !cfg.origin_url.empty()) cfg.manifest = Dir(cfg.origin_url) + "/cifar-10-batches-py.md5";
    else if (cfg.scenario == "streamed")
      cfg.manifest =
          StripSuffix(StripSuffix(cfg.dataset_uri, "/"), "/cifar-10-batches-py") + "/cifar-10-batches-py.md5";
    else if (!cfg.inplace_dir.empty()) {
      std::string d = StripSuffix(StripSuffix(cfg.inplace_dir, "/"), "/cifar-10-batches-py");
      cfg.manifest = d + "/cifar-10-batches-py.md5";
    }
  }
  return Status::Ok();
}

}  // namespace

const std::vector<KeyInfo>& ConfigKeys() {
  static const std::vector<KeyInfo> infos = [] {
    std::vector<KeyInfo> v;
    for (const auto& k : Keys()) v.push_back(k.info);
    return v;
  }();
  return infos;
}

Result<JobConfig> ParseConfigText(const std::string& toml_text, const std::string& name,
                                  const Overrides& overrides) {
  JobConfig cfg;
  if (!toml_text.empty()) {
    toml::table parsed;
    try {
      parsed = toml::parse(toml_text, name);
    } catch (const toml::parse_error& err) {
      return Status::InvalidArgument(name + ":" + std::to_string(err.source().begin.line) + ": " +
                                     std::string(err.description()));
    }
    TB_RETURN_IF_ERROR(Walk(parsed, "", name, cfg));
  }
  for (const auto& [key, text] : overrides) {
    const Key* k = FindKey(key);
    if (!k) return Status::InvalidArgument("unknown setting '" + key + "'");
    TB_RETURN_IF_ERROR(Apply(cfg, key, FromText(k->info, text), "command line"));
  }
  TB_RETURN_IF_ERROR(Finalize(cfg, name.empty() ? "config" : name));
  return cfg;
}

Result<JobConfig> LoadConfig(const std::string& path, const Overrides& overrides) {
  std::string text;
  if (!path.empty()) {
    auto r = ReadFile(path);
    if (!r.ok()) return Status::InvalidArgument("config: " + r.status().message());
    text = std::move(r).value();
  }
  return ParseConfigText(text, path, overrides);
}

std::string ConfigToJson(const JobConfig& c) {
  nlohmann::ordered_json j;
  j["label"] = c.label;
  j["scenario"] = c.scenario;
  j["scratch"] = c.scratch;
  j["origin"] = {{"url", RedactUrlUserinfo(c.origin_url)}, {"md5", c.origin_md5},
                 {"md5_file", RedactUrlUserinfo(c.origin_md5_file)}, {"manifest", RedactUrlUserinfo(c.manifest)}};
  j["inplace"] = {{"dir", c.inplace_dir}};
  j["streamed"] = {{"dataset_uri", RedactUrlUserinfo(c.dataset_uri)}};
  j["upload"] = {{"dest", c.upload_dest}, {"create_bucket", c.upload_create_bucket}};
  j["s3"] = {{"endpoint_url", RedactUrlUserinfo(c.s3_endpoint_url)}, {"region", c.s3_region}, {"profile", c.s3_profile},
             {"concurrency", c.concurrency}, {"part_size_bytes", c.part_size_bytes}};
  j["train"] = {{"epochs", c.epochs},
                {"batch_size", c.batch_size},
                {"lr", c.lr},
                {"momentum", c.momentum},
                {"workers", c.workers},
                {"threads", c.threads},
                {"seed", c.seed},
                {"device", c.device},
                {"max_steps", c.max_steps},
                {"model_dir", c.model_dir},
                {"input_mode", c.input_mode},
                {"shuffle", c.shuffle},
                {"cache_bytes", c.cache_bytes},
                {"read_ahead", c.read_ahead}};
  j["preview"] = {{"count", c.preview_count}, {"scale", c.preview_scale}, {"out", c.preview_out}};
  j["pipeline"] = {{"stream", c.stream},
                   {"verify_threads", c.verify_threads},
                   {"repeat", c.repeat},
                   {"warmup", c.warmup},
                   {"cache", c.cache},
                   {"cache_drop", c.cache_drop},
                   {"distribution", c.distribution}};
  j["verify"] = {{"unlisted", c.verify_unlisted}, {"keep_bytes", c.verify_keep_bytes}};
  j["net"] = {{"connect_timeout", c.connect_timeout_s}, {"read_timeout", c.read_timeout_s}, {"retries", c.retries}};
  j["limits"] = {{"max_download_bytes", c.max_download_bytes}, {"max_expansion_ratio", c.max_expansion_ratio},
                 {"min_free_bytes", c.min_free_bytes}};
  j["cluster"] = {{"launcher", c.cluster_launcher},
                  {"rendezvous", c.cluster_rendezvous},
                  {"interface", c.cluster_interface},
                  {"timeout", c.cluster_timeout_s},
                  {"heartbeat_timeout", c.cluster_heartbeat_timeout_s}};
  nlohmann::ordered_json stages;
  for (StageId s : report::kAllStages) stages[report::StageName(s)] = c.StageEnabled(s);
  j["stages"] = stages;
  j["out"] = c.out;
  j["log"] = c.log;
  return JsonText(j);
}

}  // namespace tb::pipeline
