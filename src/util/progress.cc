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

std::string FormatProgressLine(const ProgressSample& s) {
  char buf[160];
  std::string line = s.label;
  if (s.train) {
    std::snprintf(buf, sizeof buf, "  epoch %d/%d  step %lld/%lld  loss %.3f  %.0f samples/s", s.epoch, s.epochs,
                  static_cast<long long>(s.step), static_cast<long long>(s.steps_per_epoch), s.loss, s.samples_per_s);
    line += buf;
    if (s.au >= 0) {
      std::snprintf(buf, sizeof buf, "  AU %.2f", s.au);
      line += buf;
    }
  } else {
    line += "  " + HumanBytes(static_cast<double>(s.bytes));
    if (s.total_bytes) line += " / " + HumanBytes(static_cast<double>(s.total_bytes));
    if (s.total_files || s.files)
      line += "  " + std::to_string(s.files) + (s.total_files ? "/" + std::to_string(s.total_files) : "") + " files";
    line += "  " + HumanBytes(s.bytes_per_s) + "/s";
  }
  if (s.eta_s >= 0) {
    int eta = static_cast<int>(s.eta_s);
    std::snprintf(buf, sizeof buf, "  ETA %d:%02d", eta / 60, eta % 60);
    line += buf;
  }
  return line;
}

Progress::Progress(std::string label, uint64_t total_bytes, uint64_t total_files, bool enabled,
                   ProgressListener listener)
    : label_(std::move(label)),
      total_bytes_(total_bytes),
      total_files_(total_files),
      enabled_(enabled),
      listener_(std::move(listener)),
      start_s_(NowSeconds()) {
  if (enabled_ || listener_) thread_ = std::thread([this] { Loop(); });
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

ProgressSample Progress::Sample() const {
  ProgressSample s;
  s.label = label_;
  s.elapsed_s = NowSeconds() - start_s_;
  s.bytes = bytes_.load();
  s.files = files_.load();
  s.total_bytes = total_bytes_.load();
  s.total_files = total_files_.load();
  s.bytes_per_s = s.elapsed_s > 0 ? static_cast<double>(s.bytes) / s.elapsed_s : 0;
  if (s.total_bytes && s.bytes_per_s > 0 && s.bytes <= s.total_bytes)
    s.eta_s = static_cast<double>(s.total_bytes - s.bytes) / s.bytes_per_s;
  else if (!s.total_bytes && s.total_files && s.files > 0 && s.files <= s.total_files)
    s.eta_s = s.elapsed_s * static_cast<double>(s.total_files - s.files) / static_cast<double>(s.files);
  return s;
}

void Progress::Render(bool final) {
  if (listener_) {
    ProgressSample s = Sample();
    s.final = final;
    listener_(s);
    return;
  }
  if (final) {
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
    return;
  }
  std::fprintf(stderr, "\r\033[K%s", FormatProgressLine(Sample()).c_str());
  std::fflush(stderr);
}

}  // namespace tb
