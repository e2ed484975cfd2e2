#include "cli/live_view.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>

#include "util/clock.h"
#include "util/terminal_text.h"

namespace tb::cli {
namespace {

double UnixSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// One JSON line; every line carries the wall clock (Unix seconds) and the seconds since the
// view opened on the steady clock (never goes back).
void WriteJson(std::FILE* file, double start_s, nlohmann::json j) {
  if (!file) return;
  j["time"] = UnixSeconds();
  j["elapsed"] = NowSeconds() - start_s;
  std::fprintf(file, "%s\n", j.dump().c_str());
  std::fflush(file);
}

std::string MinSec(double seconds) {
  int s = static_cast<int>(seconds);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%d:%02d", s / 60, s % 60);
  return buf;
}

}  // namespace

Result<std::unique_ptr<LiveView>> LiveView::Open(const LiveViewOptions& options) {
  std::unique_ptr<LiveView> view(new LiveView(options));
  if (!options.json_path.empty()) {
    view->json_ = std::fopen(options.json_path.c_str(), "a");
    if (!view->json_)
      return Status::InvalidArgument("--live-json " + options.json_path +
                                     ": cannot open for appending: " + std::strerror(errno));
  }
  view->start_s_ = NowSeconds();
  if (options.line) view->thread_ = std::thread([v = view.get()] { v->Loop(); });
  return view;
}

LiveView::~LiveView() { Close(); }

void LiveView::Attach(pipeline::RunOptions* options) {
  options->on_stage_start = [this](const std::string& stage) { StageStarted(stage); };
  options->on_stage_end = [this](const report::StageResult& stage) { StageEnded(stage); };
  if (options_.line || json_)
    options->on_progress = [this](const std::string& stage, const ProgressSample& s) { Sample(stage, s); };
}

void LiveView::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    closed_ = true;
    ClearLine();
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (json_) std::fclose(json_);
  json_ = nullptr;
}

void LiveView::Message(const std::string& line) {
  std::lock_guard<std::mutex> lock(mu_);
  ClearLine();
  std::fprintf(stderr, "%s\n", line.c_str());
  DrawLine();
}

void LiveView::StageStarted(const std::string& stage) {
  std::lock_guard<std::mutex> lock(mu_);
  stage_ = stage;
  stage_start_s_ = NowSeconds();
  has_sample_ = false;
  last_json_s_ = -1;
  WriteJson(json_, start_s_, {{"event", "start"}, {"stage", stage}});
  if (options_.line) DrawLine();
}

void LiveView::StageEnded(const report::StageResult& s) {
  std::lock_guard<std::mutex> lock(mu_);
  // The overlapped stages end together with the ingest that ran them.
  if (s.name == stage_ || stage_ == "ingest") stage_.clear();
  WriteJson(json_, start_s_,
            {{"event", "end"},
             {"stage", s.name},
             {"status", report::StatusName(s.status)},
             {"seconds", s.seconds},
             {"bytes", s.bytes},
             {"files", s.files},
             {"mb_per_s", s.mb_per_s}});
  if (!options_.rows) return;
  ClearLine();
  if (!header_printed_) std::fputs(report::RenderStageTableHeader().c_str(), stderr);
  header_printed_ = true;
  std::fputs(report::RenderStageRow(s).c_str(), stderr);
  if (options_.line) DrawLine();
  std::fflush(stderr);
}

void LiveView::Sample(const std::string& stage, const ProgressSample& s) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stage != stage_) return;  // a late sample of a stage that has ended
  sample_ = s;
  has_sample_ = true;
  double now = NowSeconds();
  if (!json_ || (!s.final && last_json_s_ >= 0 && now - last_json_s_ < 1 / kJsonSamplesPerSecond)) return;
  last_json_s_ = now;
  nlohmann::json j{
      {"event", "progress"}, {"stage", stage}, {"label", s.label}, {"stage_seconds", s.elapsed_s}, {"final", s.final}};
  if (s.train) {
    j.update({{"epoch", s.epoch},
              {"epochs", s.epochs},
              {"step", s.step},
              {"steps_per_epoch", s.steps_per_epoch},
              {"loss", s.loss},
              {"samples_per_s", s.samples_per_s}});
    if (s.au >= 0) j["au"] = s.au;
  } else {
    j.update({{"bytes", s.bytes},
              {"files", s.files},
              {"total_bytes", s.total_bytes},
              {"total_files", s.total_files},
              {"bytes_per_s", s.bytes_per_s}});
  }
  if (s.eta_s >= 0) j["eta_s"] = s.eta_s;
  WriteJson(json_, start_s_, std::move(j));
}

void LiveView::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!closed_) {
    cv_.wait_for(lock, std::chrono::milliseconds(250));
    if (!closed_) DrawLine();
  }
}

void LiveView::DrawLine() {
  if (!options_.line || closed_) return;
  if (stage_.empty()) {
    ClearLine();
    return;
  }
  std::string line;
  if (has_sample_) {
    line = (sample_.label == stage_ ? "" : stage_ + ": ") + FormatProgressLine(sample_);
  } else {
    line = stage_ + "  running";
  }
  line += "  [" + MinSec(NowSeconds() - stage_start_s_) + "]";
  std::fprintf(stderr, "\r\033[K%s", TerminalSafe(line).c_str());
  std::fflush(stderr);
  line_shown_ = true;
}

void LiveView::ClearLine() {
  if (!line_shown_) return;
  std::fputs("\r\033[K", stderr);
  std::fflush(stderr);
  line_shown_ = false;
}

}  // namespace tb::cli
