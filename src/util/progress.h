// Live progress for long stages: "label  1.2 GiB / 4.0 GiB  310 files  215.3 MiB/s  ETA 0:13".
// Renders to stderr at most ~5 times a second, only when enabled (by default: stderr is a
// terminal). Add() is thread-safe and cheap (atomics); rendering happens on a background thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace tb {

enum class ProgressMode { kAuto, kOn, kOff };
bool ProgressEnabled(ProgressMode mode);  // kAuto: isatty(stderr)

class Progress {
 public:
  // total_bytes / total_files may be 0 when unknown.
  Progress(std::string label, uint64_t total_bytes, uint64_t total_files, bool enabled);
  ~Progress();  // Finish()es
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void Add(uint64_t bytes, uint64_t files = 0);
  void SetTotals(uint64_t total_bytes, uint64_t total_files);
  void Finish();  // clears the line

  uint64_t bytes() const { return bytes_.load(); }
  uint64_t files() const { return files_.load(); }

 private:
  void Loop();
  void Render(bool final);

  std::string label_;
  std::atomic<uint64_t> total_bytes_, total_files_;
  std::atomic<uint64_t> bytes_{0}, files_{0};
  bool enabled_;
  bool finished_ = false;
  double start_s_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
};

std::string HumanBytes(double bytes);  // "1.5 GiB"

}  // namespace tb
