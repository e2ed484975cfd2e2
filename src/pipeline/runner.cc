#include "pipeline/runner.h"

#include <cstdio>
#include <map>
#include <filesystem>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>

#include "dataset/cifar.h"
#include "pipeline/ingest.h"
#include "pipeline/merge.h"
#include "pipeline/stage.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/redact.h"
#include "util/terminal_text.h"
#include "util/utf8.h"

namespace tb::pipeline {
namespace {

std::vector<std::unique_ptr<Stage>> MakeStages() {
  std::vector<std::unique_ptr<Stage>> stages;
  stages.push_back(NewDownloadStage());
  stages.push_back(NewIntegrityStage());
  stages.push_back(NewExtractStage());
  stages.push_back(NewVerifyStage());
  stages.push_back(NewPickledStage());
  stages.push_back(NewMetaStage());
  stages.push_back(NewUploadStage());
  stages.push_back(NewPreviewStage());
  stages.push_back(NewTrainStage());
  return stages;
}

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
    if (s.name != "train" || s.status != "ok") continue;
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
    run.host.device = run.train.device;
  }
}

// Stage::Run reports errors as a Status; an exception that escapes anyway (a library's)
// fails the stage with its message instead of ending the process with no results written.
Status RunGuarded(Stage& stage, Context& ctx, report::StageResult& r) {
  try {
    return stage.Run(ctx, r);
  } catch (const std::exception& e) {
    return Status::Internal(std::string("unexpected error: ") + e.what());
  }
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
  ctx.cluster = options.cluster;
  ctx.progress = options.progress;
  ctx.storage_options.endpoint_url = cfg.s3_endpoint_url;
  ctx.storage_options.region = cfg.s3_region;
  ctx.storage_options.profile = cfg.s3_profile;
  ctx.storage_options.concurrency = cfg.concurrency;
  ctx.storage_options.part_size_bytes = cfg.part_size_bytes;
  ctx.storage_options.max_retries = cfg.retries;
  ctx.storage_options.connect_timeout_s = cfg.connect_timeout_s;
  ctx.storage_options.low_speed_timeout_s = cfg.read_timeout_s;
  ctx.storage_options.cancel = options.cancel;
  ctx.log = [&](const std::string& line) { log.Line(line); };
  ctx.warn = [&](const std::string& line) {
    log.Line("warning: " + line);
    if (options.warn && !options.echo) options.warn(Scrub(line, secrets));  // echo printed it
  };

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
  double run_start = NowSeconds();
  std::map<std::string, report::StageResult> streamed;
  if (StreamingApplies(cfg) && !ctx.cancelled()) {
    log.Line("stage download,integrity,extract,verify start (streaming)");
    const double ingest_start = UnixSeconds();
    IngestResult ingest = StreamIngest(ctx);
    if (ingest.fell_back) {
      log.Line("streaming ingest not possible (md5 or manifest unreadable): running stages in order");
    } else {
      double sum = 0;
      for (auto& r : ingest.stages) {
        sum += r.seconds;
        char secs[32];
        std::snprintf(secs, sizeof secs, "%.3f", r.seconds);
        log.Line("stage " + r.name + " end status=" + r.status + " seconds=" + secs + " (streaming)" +
                 (r.error.empty() ? "" : " error=" + r.error));
        r.started_unix = ingest_start;
        streamed[r.name] = r;
      }
      run.overlapped_seconds = std::max(0.0, sum - ingest.wall_seconds);
    }
  }
  std::string failed_stage;
  for (auto& stage : MakeStages()) {
    report::StageResult r;
    r.name = stage->name();
    if (auto it = streamed.find(r.name); it != streamed.end()) {
      if (failed_stage.empty() && (it->second.status == "failed" || it->second.status == "interrupted"))
        failed_stage = r.name;
      report::StageResult streamed_result = it->second;
      streamed_result.error = Scrub(streamed_result.error, secrets);
      streamed_result.detail_json = Scrub(streamed_result.detail_json, secrets);
      run.stages.push_back(std::move(streamed_result));
      continue;
    }
    if (!failed_stage.empty()) {
      r.detail_json = JsonText(nlohmann::json{{"reason", "stage " + failed_stage + " did not complete"}});
    } else if (!cfg.StageEnabled(r.name)) {
      r.detail_json = JsonText(nlohmann::json{{"reason", "switched off (stages." + r.name + " = false)"}});
    } else if (!stage->AppliesTo(cfg)) {
      r.detail_json = JsonText(nlohmann::json{{"reason", "not part of the " + cfg.scenario + " scenario"}});
    } else if (ctx.cancelled()) {
      failed_stage = r.name;
      r.status = "interrupted";
    } else {
      log.Line("stage " + r.name + " start");
      double t0 = NowSeconds();
      r.started_unix = UnixSeconds();
      Status s = RunGuarded(*stage, ctx, r);
      r.seconds = NowSeconds() - t0;
      if (s.ok() && ctx.cancelled()) s = Status::Cancelled("interrupted");
      if (s.ok()) {
        r.status = "ok";
        if (r.bytes > 0 && r.seconds > 0) r.mb_per_s = static_cast<double>(r.bytes) / 1e6 / r.seconds;
      } else {
        r.status = s.IsCancelled() || ctx.cancelled() ? "interrupted" : "failed";
        r.error = "stage " + r.name + ": " + s.message();
        failed_stage = r.name;
      }
      char secs[32];
      std::snprintf(secs, sizeof secs, "%.3f", r.seconds);
      log.Line("stage " + r.name + " end status=" + r.status + " seconds=" + secs +
               (r.error.empty() ? "" : " error=" + r.error));
    }
    r.error = Scrub(r.error, secrets);
    r.detail_json = Scrub(r.detail_json, secrets);
    run.stages.push_back(std::move(r));
  }
  run.total_seconds = NowSeconds() - run_start;
  for (const auto& s : run.stages) {
    if (s.status == "interrupted") run.status = "interrupted";
    else if (s.status == "failed" && run.status == "ok") run.status = "failed";
  }
  FillTrainSummary(run);
  log.Line("run end status=" + run.status);
  if (options.cluster) {
    auto merged = GatherAndMerge(*options.cluster, run);
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
