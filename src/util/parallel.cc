#include "util/parallel.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <string>
#include <mutex>
#include <thread>
#include <vector>

namespace tb {

int DefaultThreads() { return std::max(1u, std::thread::hardware_concurrency()); }

Status ParallelFor(size_t n, int threads, const std::function<Status(size_t)>& fn) {
  if (threads <= 0) threads = DefaultThreads();
  size_t workers = std::min<size_t>(static_cast<size_t>(threads), n);
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  size_t first_index = n;
  Status first;
  auto work = [&] {
    for (;;) {
      if (failed.load(std::memory_order_relaxed)) return;
      size_t i = next.fetch_add(1);
      if (i >= n) return;
      Status s = fn(i);
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (i < first_index) {
          first_index = i;
          first = s;
        }
        failed = true;
      }
    }
  };
  if (workers <= 1) {
    work();
  } else {
    std::vector<std::thread> pool;
    pool.reserve(workers - 1);
    for (size_t t = 0; t + 1 < workers; ++t) pool.emplace_back(work);
    work();
    for (auto& t : pool) t.join();
  }
  return first;
}

Result<int> ParseCountOrAuto(std::string_view text) {
  if (text == "auto") return 0;
  int n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n < 1 || n > kMaxThreads) {
    return Status::InvalidArgument("expects \"auto\" or a number 1.." + std::to_string(kMaxThreads) + ", got '" +
                                   std::string(text) + "'");
  }
  return n;
}

}  // namespace tb
