// Live progress for long stages: "label  1.2 GiB / 4.0 GiB  310 files  215.3 MiB/s  ETA 0:13".
// A Progress counts the work of one stage (Add() is thread-safe and cheap: atomics) and, on a
// background thread at most ~5 times a second, either renders that line on stderr (when
// enabled: by default when stderr is a terminal) or, when a listener is given, hands the
// listener a ProgressSample instead (the run's live view and --live-json, cli/live_view.h).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace tb {

enum class ProgressMode { kAuto, kOn, kOff };
bool ProgressEnabled(ProgressMode mode);  // kAuto: isatty(stderr)

// One look at a running piece of work. Totals are 0 when unknown; eta_s < 0 when unknown.
struct ProgressSample {
  std::string label;  // what is counted: "download", "fetch", "train", ...
  double elapsed_s = 0;
  uint64_t bytes = 0, files = 0, total_bytes = 0, total_files = 0;
  double bytes_per_s = 0;
  double eta_s = -1;
  bool final = false;  // the last sample of this piece of work
  // Training (train == true): the epoch and step in it (1-based), the running loss since the
  // last sample, images per second and the accelerator utilisation of the epoch so far
  // (au < 0: not known yet; see train::TrainSummary).
  bool train = false;
  int epoch = 0, epochs = 0;
  int64_t step = 0, steps_per_epoch = 0;
  double loss = 0, samples_per_s = 0, au = -1;
};
using ProgressListener = std::function<void(const ProgressSample&)>;

// The one-line rendering of a sample (no control characters; the caller positions it).
std::string FormatProgressLine(const ProgressSample& s);

class Progress {
 public:
  // total_bytes / total_files may be 0 when unknown. With a listener, nothing is drawn: the
  // listener gets a sample each tick (on the background thread) and a final one from Finish().
  Progress(std::string label, uint64_t total_bytes, uint64_t total_files, bool enabled, ProgressListener listener = {});
  ~Progress();  // Finish()es
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void Add(uint64_t bytes, uint64_t files = 0);
  void SetTotals(uint64_t total_bytes, uint64_t total_files);
  void Finish();  // clears the line

  uint64_t bytes() const { return bytes_.load(); }
  uint64_t files() const { return files_.load(); }
  ProgressSample Sample() const;

 private:
  void Loop();
  void Render(bool final);

  std::string label_;
  std::atomic<uint64_t> total_bytes_, total_files_;
  std::atomic<uint64_t> bytes_{0}, files_{0};
  bool enabled_;
  ProgressListener listener_;
  bool finished_ = false;
  double start_s_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
};

std::string HumanBytes(double bytes);  // "1.5 GiB"

}  // namespace tb
