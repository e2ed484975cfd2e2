#include "pipeline/runner.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <mutex>
#include <nlohmann/json.hpp>

#include "dataset/cifar.h"
#include "pipeline/cache_control.h"
#include "pipeline/merge.h"
#include "pipeline/stage.h"
#include "pipeline/stream.h"
#include "storage/transfer.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/parallel.h"
#include "util/redact.h"
#include "util/signals.h"
#include "util/terminal_text.h"
#include "util/utf8.h"

namespace tb::pipeline {
namespace {

// The "user:password" parts of the URLs in the config: scrubbed from everything the run writes
// (stage errors, details, log lines), whichever stage or library echoed the URL.
std::vector<std::string> UrlSecrets(const JobConfig& cfg) {
  std::vector<std::string> secrets;
  for (const std::string* url : {&cfg.origin_url, &cfg.origin_md5_file, &cfg.manifest, &cfg.inplace_dir}) {
    std::string redacted = RedactUrlUserinfo(*url);
    if (redacted == *url) continue;
    size_t start = url->find("://") + 3;
    size_t at = url->find('@', start);
    if (at != std::string::npos && at > start) secrets.push_back(url->substr(start, at - start));
  }
  return secrets;
}

std::string Scrub(std::string text, const std::vector<std::string>& secrets) {
  for (const auto& secret : secrets) {
    for (size_t pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos + 3))
      text.replace(pos, secret.size(), "***");
  }
  return text;
}

// Appends timestamped lines to the log file; thread-safe. Control characters in the text
// (from label names, member names, error messages) are escaped: one event, one line.
class LogFile {
 public:
  LogFile(const std::string& path, std::function<void(const std::string&)> echo, std::vector<std::string> secrets)
      : echo_(std::move(echo)), secrets_(std::move(secrets)) {
    std::string dir = std::filesystem::path(path).parent_path().string();
    if (!dir.empty()) (void)MakeDirs(dir);
    file_ = std::fopen(path.c_str(), "a");
  }
  ~LogFile() {
    if (file_) std::fclose(file_);
  }
  void Line(const std::string& text) {
    std::lock_guard<std::mutex> lock(mu_);
    std::string line = UtcTimestamp() + " " + TerminalSafe(Scrub(text, secrets_));
    if (file_) {
      std::fprintf(file_, "%s\n", line.c_str());
      std::fflush(file_);
    }
    if (echo_) echo_(line);
  }
  bool ok() const { return file_ != nullptr; }

 private:
  std::mutex mu_;
  std::FILE* file_ = nullptr;
  std::function<void(const std::string&)> echo_;
  std::vector<std::string> secrets_;
};

void FillTrainSummary(report::RunResult& run) {
  for (const auto& s : run.stages) {
    if (s.name != report::StageName(StageId::kTrain) || s.status != report::StageStatus::kOk) continue;
    auto j = nlohmann::json::parse(s.detail_json, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return;
    // Read without throwing: a fact of the wrong type (a non-finite number is written as
    // null) counts as absent.
    auto number = [&](const char* key) {
      auto it = j.find(key);
      return it != j.end() && it->is_number() ? it->get<double>() : 0.0;
    };
    auto it = j.find("device");
    run.train.present = true;
    run.train.device = it != j.end() && it->is_string() ? it->get<std::string>() : "";
    run.train.epochs = static_cast<int>(number("epochs"));
    run.train.steps = static_cast<int64_t>(number("steps"));
    run.train.final_loss = number("final_loss");
    run.train.test_accuracy = number("test_accuracy");
    run.train.steps_per_second = number("steps_per_second");
    for (auto [key, field] : report::kTrainDataFields)
      if (auto f = j.find(key); f != j.end() && f->is_number()) run.train.*field = f->get<double>();
    if (number("world_size") >= 1) run.train.world_size = static_cast<int>(number("world_size"));
    run.train.batch_size = static_cast<int>(number("batch_size"));
    run.train.global_batch_size = static_cast<int64_t>(number("global_batch_size"));
    run.host.device = run.train.device;
  }
}

// Stage::Run reports errors as a Status; an exception that escapes anyway (a library's)
// fails the stage with its message instead of ending the process with no results written.
template <typename Fn>
Status Guarded(Fn&& fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    return Status::Internal(std::string("unexpected error: ") + e.what());
  }
}

// Several ranks: a stage starts when every rank reached it...
Status ClusterStart(Context& ctx, const std::string& stage) {
  return ctx.cluster ? ctx.cluster->Barrier("start " + stage) : Status::Ok();
}

// ...and ends when every rank finished it; each rank's outcome is exchanged, so a failure on
// one rank (or a lost rank, which also cancels the stage) fails it everywhere, naming the rank.
// Sets *cluster_error when the error came from the cluster rather than this rank's stage.
Status ClusterEnd(Context& ctx, const std::string& stage, const Status& mine, bool* cluster_error) {
  *cluster_error = false;
  if (!ctx.cluster) return mine;
  auto all = ctx.cluster->AllGather("end " + stage, mine.ok() ? "" : mine.message());
  if (!all.ok()) {
    *cluster_error = mine.ok() || mine.IsCancelled();
    return *cluster_error ? all.status() : mine;
  }
  if (!mine.ok()) return mine;
  for (size_t r = 0; r < all->size(); ++r) {
    if ((*all)[r].empty()) continue;
    *cluster_error = true;
    return Status::Internal("rank " + std::to_string(r) + " failed: " + (*all)[r]);
  }
  return Status::Ok();
}

// What the frames of one run share.
struct RunState {
  const JobConfig& cfg;
  const RunOptions& options;
  Context& ctx;
  LogFile& log;
  const std::vector<std::string>& secrets;
  double start = 0;          // the run's start on the steady clock
  std::string failed_stage;  // the first stage that did not complete
  std::string live_stage;    // the stage whose progress samples options.on_progress gets

  // The live view learns that `stage` starts ("ingest": the streamed pass).
  void StageStarts(const std::string& stage) {
    live_stage = stage;
    if (options.on_stage_start) options.on_stage_start(stage);
  }
};

// The frame every stage runs in, sequential or streamed: whether it runs (switched off, not in
// the scenario, an earlier stage did not complete, interrupted before it started), its log
// lines, its span and busy time, its status from the Status its work returned, its rate, and
// secrets scrubbed from what it reports. Hooks that apply to every stage belong here.
class StageFrame {
 public:
  StageFrame(RunState& st, StageId id) : st_(st), id_(id) { r_.name = report::StageName(id); }

  // True when the stage is to do its work now. Otherwise its result is final. `ran`: its work
  // already ran in the streamed pass (no start line, no cancel check before it).
  bool Begin(bool ran = false) {
    const std::string name = r_.name;
    if (!st_.failed_stage.empty()) return Skip("stage " + st_.failed_stage + " did not complete");
    if (!st_.cfg.StageEnabled(id_)) return Skip("switched off (stages." + name + " = false)");
    if (!SpecOf(id_).applies(st_.cfg)) return Skip("not part of the " + st_.cfg.scenario + " scenario");
    if (ran) return true;
    if (st_.ctx.cancelled()) {
      st_.failed_stage = name;
      r_.status = report::StageStatus::kInterrupted;
      return false;
    }
    st_.log.Line("stage " + name + " start");
    st_.StageStarts(name);
    if (Status s = ClusterStart(st_.ctx, name); !s.ok()) {
      double now = NowSeconds();
      Span none;
      none.Add(now, now);
      End(s, none);
      return false;
    }
    return true;
  }

  // The work returned `s` after running over `span`; `how` marks streamed stages' lines. With
  // several ranks the outcomes are exchanged first, and a sequential stage's span ends when the
  // slowest rank finished it.
  void End(Status s, Span span, const char* how = "") {
    if (s.ok() && st_.ctx.cancelled()) s = Status::Cancelled("interrupted");
    bool cluster_error = false;
    if (st_.ctx.cluster) {
      s = ClusterEnd(st_.ctx, r_.name, s, &cluster_error);
      if (!*how) span.end = NowSeconds();
      // Cancelled with no signal: the cluster lost a rank (its error may reach this rank first
      // through a failed collective rather than the exchange). That fails the stage.
      if (st_.ctx.cancelled() && CancelSignal() == 0) cluster_error = true;
    }
    r_.seconds = std::max(0.0, span.end - span.start);
    r_.busy_seconds = std::max(0.0, span.busy);
    r_.start_s = span.start > 0 ? span.start - st_.start : 0;
    r_.end_s = span.start > 0 ? span.end - st_.start : 0;
    // The wall-clock start, comparable between ranks (pipeline/merge.h spans the cluster).
    r_.started_unix = span.start > 0 ? UnixSeconds() - (NowSeconds() - span.start) : 0;
    if (s.ok()) {
      r_.status = report::StageStatus::kOk;
      if (r_.bytes > 0 && r_.seconds > 0) r_.mb_per_s = static_cast<double>(r_.bytes) / 1e6 / r_.seconds;
    } else {
      r_.status = (s.IsCancelled() || st_.ctx.cancelled()) && !cluster_error ? report::StageStatus::kInterrupted
                                                                              : report::StageStatus::kFailed;
      r_.error = "stage " + r_.name + ": " + s.message();
      st_.failed_stage = r_.name;
    }
    char secs[64];
    std::snprintf(secs, sizeof secs, "%.3f", r_.seconds);
    std::string busy;
    if (*how) {
      char b[64];
      std::snprintf(b, sizeof b, " busy=%.3f", r_.busy_seconds);
      busy = b;
    }
    st_.log.Line("stage " + r_.name + " end status=" + report::StatusName(r_.status) + " seconds=" + secs + busy + how +
                 (r_.error.empty() ? "" : " error=" + r_.error));
  }

  report::StageResult& result() { return r_; }
  report::StageResult Take() {
    r_.error = Scrub(r_.error, st_.secrets);
    r_.detail_json = Scrub(r_.detail_json, st_.secrets);
    return std::move(r_);
  }

 private:
  bool Skip(const std::string& reason) {
    r_.detail_json = JsonText(nlohmann::json{{"reason", reason}});
    return false;
  }

  RunState& st_;
  StageId id_;
  report::StageResult r_;
};

// A sequential stage: its work is one call, its span that call.
Status RunSequential(Stage& stage, Context& ctx, report::StageResult& r, Span& span) {
  double t0 = NowSeconds();
  Status s = Guarded([&] { return stage.Run(ctx, r); });
  span.Add(t0, NowSeconds());
  return s;
}

// The streamed pass (stream.h) over the leading stages of the pipeline that can take part:
// their parts are wired and the pass runs before their frames end them one by one.
class StreamedStages {
 public:
  // Runs the pass when the job streams; false when it does not (or cannot: the stages then
  // run in order).
  bool Run(RunState& st) {
    if (!StreamingApplies(st.cfg) || st.ctx.cancelled()) return false;
    if (st.ctx.cluster) {  // the stages' sequential code shares the work out (pipeline/shard.h)
      st.log.Line("streaming ingest off: several ranks: download..verify run in order, once per host");
      return false;
    }
    if (Status s = ClusterStart(st.ctx, "streaming"); !s.ok()) {  // the frames then fail at their barrier
      st.log.Line("streaming ingest not started: " + s.message());
      return false;
    }
    std::string names;
    for (StageId id : report::kAllStages) {
      if (!st.cfg.StageEnabled(id)) continue;  // its frame says it is switched off
      auto part = SpecOf(id).make()->NewStreamPart();
      if (!part) break;
      if (!part->Wire(st.ctx, wiring_).ok()) {
        st.log.Line("streaming ingest not possible (md5 or manifest unreadable): running stages in order");
        return false;
      }
      names += std::string(names.empty() ? "" : ",") + report::StageName(id);
      parts_.emplace_back(id, std::move(part));
    }
    if (!wiring_.source.fn || !wiring_.consumer.fn) return false;
    st.log.Line("stage " + names + " start (streaming)");
    st.StageStarts("ingest");
    end_ = RunStreamPass(st.ctx, wiring_);
    return true;
  }

  StreamPart* PartOf(StageId id) {
    for (auto& [pid, part] : parts_)
      if (pid == id) return part.get();
    return nullptr;
  }
  const StreamEnd& end() const { return end_; }
  // After the last part's frame: a part that did not complete discards what the pass left.
  bool IsLast(StageId id) const { return !parts_.empty() && parts_.back().first == id; }
  void DiscardAll(Context& ctx) {
    for (auto it = parts_.rbegin(); it != parts_.rend(); ++it) it->second->Discard(ctx);
  }

 private:
  std::vector<std::pair<StageId, std::unique_ptr<StreamPart>>> parts_;
  StreamWiring wiring_;  // the parts' verdicts may use what they wired (e.g. the source's checks)
  StreamEnd end_;
};

// Sum of the stage spans less the time covered by at least one: what overlapping saved.
double OverlapSeconds(const std::vector<report::StageResult>& stages) {
  std::vector<std::pair<double, double>> spans;
  double sum = 0;
  for (const auto& s : stages)
    if (s.end_s > s.start_s) {
      spans.emplace_back(s.start_s, s.end_s);
      sum += s.end_s - s.start_s;
    }
  std::sort(spans.begin(), spans.end());
  double covered = 0, cur_start = 0, cur_end = -1;
  for (const auto& [a, b] : spans) {
    if (a > cur_end) {
      if (cur_end > cur_start) covered += cur_end - cur_start;
      cur_start = a;
      cur_end = b;
    } else {
      cur_end = std::max(cur_end, b);
    }
  }
  if (cur_end > cur_start) covered += cur_end - cur_start;
  return std::max(0.0, sum - covered);
}

void SetStorageOptions(const JobConfig& cfg, const RunOptions& options, storage::Options& o) {
  o.endpoint_url = cfg.s3_endpoint_url;
  o.region = cfg.s3_region;
  o.profile = cfg.s3_profile;
  o.concurrency = cfg.concurrency;
  o.part_size_bytes = cfg.part_size_bytes;
  o.max_retries = cfg.retries;
  if (auto streams = ParseCountOrAuto(cfg.streams); streams.ok()) o.streams = *streams;
  o.connect_timeout_s = cfg.connect_timeout_s;
  o.low_speed_timeout_s = cfg.read_timeout_s;
  o.cancel = options.cancel;
}

}  // namespace

report::RunResult RunPipeline(const JobConfig& cfg, const RunOptions& options) {
  report::RunResult run;
  run.tool_version = options.tool_version;
  run.scenario = cfg.scenario;
  run.label = cfg.label;
  run.started_at = UtcTimestamp();
  run.host = report::CollectHostInfo();
  run.config_json = ConfigToJson(cfg);

  const std::vector<std::string> secrets = UrlSecrets(cfg);
  LogFile log(cfg.log, options.echo, secrets);
  Context ctx(cfg);
  ctx.cluster = options.cluster && !options.cluster->world().single() ? options.cluster : nullptr;
  ctx.progress = options.progress;
  SetStorageOptions(cfg, options, ctx.storage_options);
  ctx.open_stream = options.open_stream;
  ctx.log = [&](const std::string& line) { log.Line(line); };
  ctx.warn = [&](const std::string& line) {
    log.Line("warning: " + line);
    if (options.warn && !options.echo) options.warn(Scrub(line, secrets));  // echo printed it
  };

  if (cfg.scenario == "streamed") ctx.dataset_uri = cfg.dataset_uri;
  if (cfg.scenario == "inplace") {
    auto dir = dataset::FindDatasetDir(cfg.inplace_dir);
    if (dir.ok()) {
      ctx.dataset_dir = *dir;
      ctx.data_root = std::filesystem::path(*dir).parent_path().string();
    } else {
      ctx.no_dataset_reason = "in-place dataset " + cfg.inplace_dir + ": " + dir.status().message();
    }
  }

  log.Line("run start label=" + cfg.label + " scenario=" + cfg.scenario);
  RunState st{cfg, options, ctx, log, secrets, NowSeconds(), {}, {}};
  if (options.on_progress)
    ctx.progress_listener = [&](const ProgressSample& s) { options.on_progress(st.live_stage, s); };
  StreamedStages streamed;
  // Measured together: the streamed stages overlap (cold: the pass reads no local input).
  std::optional<StageMeter> stream_meter;
  if (StreamingApplies(cfg) && !ctx.cluster) stream_meter.emplace(ctx, "ingest");
  const bool streaming = streamed.Run(st);
  for (const StageSpec& spec : StageTable()) {
    StageFrame frame(st, spec.id);
    StreamPart* part = streaming ? streamed.PartOf(spec.id) : nullptr;
    if (frame.Begin(part != nullptr)) {
      if (part) {
        Status s = Guarded([&] { return part->Finish(ctx, streamed.end(), frame.result()); });
        frame.End(s, part->span, " (streaming)");
        if (stream_meter) stream_meter->Finish(frame.result(), /*streamed=*/true);
      } else {
        StageMeter meter(ctx, report::StageName(spec.id));  // cold: evicts the inputs; counters around
        Span span;
        Status s = RunSequential(*spec.make(), ctx, frame.result(), span);
        frame.End(s, span);
        meter.Finish(frame.result());  // after End: what it reads depends on the status
      }
    }
    if (part && streamed.IsLast(spec.id) && !st.failed_stage.empty()) streamed.DiscardAll(ctx);
    run.stages.push_back(frame.Take());
    if (options.on_stage_end) options.on_stage_end(run.stages.back());
  }
  run.total_seconds = NowSeconds() - st.start;
  run.overlapped_seconds = OverlapSeconds(run.stages);
  for (const auto& s : run.stages) {
    if (s.status == report::StageStatus::kInterrupted)
      run.status = report::StageStatus::kInterrupted;
    else if (s.status == report::StageStatus::kFailed && run.status == report::StageStatus::kOk)
      run.status = report::StageStatus::kFailed;
  }
  FillTrainSummary(run);
  log.Line("run end status=" + std::string(report::StatusName(run.status)));
  if (ctx.cluster) {  // rank 0 returns every rank's results merged (pipeline/merge.h)
    auto merged = GatherAndMerge(*ctx.cluster, run);
    if (merged.ok()) return std::move(merged).value();
    ctx.warn("results of the other ranks not merged: " + merged.status().message());
  }
  return run;
}

Status WriteResults(const report::RunResult& run, const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (!dir.empty()) TB_RETURN_IF_ERROR(MakeDirs(dir));
  return WriteFileAtomic(path, report::ToJson(run));
}

}  // namespace tb::pipeline
