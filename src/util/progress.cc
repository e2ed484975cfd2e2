#include "util/progress.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "util/clock.h"

namespace tb {

bool ProgressEnabled(ProgressMode mode) {
  if (mode == ProgressMode::kOn) return true;
  if (mode == ProgressMode::kOff) return false;
  return isatty(STDERR_FILENO) == 1;
}

std::string HumanBytes(double bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) {
    bytes /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", bytes, kUnits[u]);
  return buf;
}

Progress::Progress(std::string label, uint64_t total_bytes, uint64_t total_files, bool enabled)
    : label_(std::move(label)),
      total_bytes_(total_bytes),
      total_files_(total_files),
      enabled_(enabled),
      start_s_(NowSeconds()) {
  if (enabled_) thread_ = std::thread([this] { Loop(); });
}

Progress::~Progress() { Finish(); }

void Progress::Add(uint64_t bytes, uint64_t files) {
  bytes_.fetch_add(bytes, std::memory_order_relaxed);
  files_.fetch_add(files, std::memory_order_relaxed);
}

void Progress::SetTotals(uint64_t total_bytes, uint64_t total_files) {
  total_bytes_ = total_bytes;
  total_files_ = total_files;
}

void Progress::Finish() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (finished_) return;
    finished_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
    Render(true);
  }
}

void Progress::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!finished_) {
    cv_.wait_for(lock, std::chrono::milliseconds(200));
    if (!finished_) Render(false);
  }
}

void Progress::Render(bool final) {
  if (final) {
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
    return;
  }
  double elapsed = NowSeconds() - start_s_;
  uint64_t b = bytes_.load(), f = files_.load(), tb = total_bytes_.load(), tf = total_files_.load();
  double rate = elapsed > 0 ? b / elapsed : 0;
  std::string line = label_ + "  " + HumanBytes(b);
  if (tb) line += " / " + HumanBytes(tb);
  if (tf || f) line += "  " + std::to_string(f) + (tf ? "/" + std::to_string(tf) : "") + " files";
  line += "  " + HumanBytes(rate) + "/s";
  if (tb && rate > 0 && b <= tb) {
    int eta = static_cast<int>((tb - b) / rate);
    char buf[32];
    std::snprintf(buf, sizeof buf, "  ETA %d:%02d", eta / 60, eta % 60);
    line += buf;
  }
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  std::fflush(stderr);
}

}  // namespace tb
