// The live view of `tierbench run`: each stage's row of the stage table as the stage ends, a
// line for the running stage redrawn in place a few times a second (from the stages'
// progress samples, util/progress.h), and the same samples appended to a JSON-lines file for
// dashboards (--live-json). Rows and the line go to stderr; the final table stays on stdout.
#pragma once

#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "pipeline/runner.h"
#include "report/results.h"
#include "util/progress.h"
#include "util/status.h"

namespace tb::cli {

struct LiveViewOptions {
  bool rows = true;       // print each stage's row as it ends
  bool line = false;      // redraw a live line for the running stage (a terminal)
  std::string json_path;  // append samples as JSON lines here ("" = none)
};

class LiveView {
 public:
  // Opens json_path for appending; errors name it.
  static Result<std::unique_ptr<LiveView>> Open(const LiveViewOptions& options);
  ~LiveView();  // Close()s
  LiveView(const LiveView&) = delete;
  LiveView& operator=(const LiveView&) = delete;

  // Sets the runner's hooks (pipeline::RunOptions::on_*) to this view; it must outlive the run.
  void Attach(pipeline::RunOptions* options);
  // Prints one line on stderr above the live line (a warning, an echoed log line).
  void Message(const std::string& line);
  // Clears the live line, stops redrawing, closes the JSON file.
  void Close();

  // At most this many JSON samples a second per stage (a stage's final sample always goes).
  static constexpr double kJsonSamplesPerSecond = 5;

 private:
  explicit LiveView(const LiveViewOptions& options) : options_(options) {}
  void StageStarted(const std::string& stage);
  void StageEnded(const report::StageResult& stage);
  void Sample(const std::string& stage, const ProgressSample& sample);
  void Loop();
  void DrawLine();   // mu_ held
  void ClearLine();  // mu_ held

  LiveViewOptions options_;
  std::FILE* json_ = nullptr;
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
  bool closed_ = false;
  bool header_printed_ = false;
  bool line_shown_ = false;
  double start_s_ = 0;        // steady clock at Open
  std::string stage_;         // running stage ("" between stages)
  double stage_start_s_ = 0;  // steady clock at its start
  bool has_sample_ = false;
  ProgressSample sample_;    // its latest sample
  double last_json_s_ = -1;  // steady clock of its last JSON sample
};

}  // namespace tb::cli
