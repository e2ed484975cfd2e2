#include "storage/retry.h"

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

namespace tb::storage {

double BackoffSeconds(int attempt) {
  constexpr double kBaseS = 0.2, kCapS = 10;
  thread_local std::mt19937 rng{std::random_device{}()};
  double d = std::min(kCapS, kBaseS * static_cast<double>(1 << std::clamp(attempt - 1, 0, 10)));
  return d / 2 + std::uniform_real_distribution<double>(0, d / 2)(rng);
}

bool SleepUnlessCancelled(double seconds, const Options& o) {
  auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < until) {
    if (IsCancelled(o)) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min<long>(
        20, std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now()).count() + 1)));
  }
  return !IsCancelled(o);
}

}  // namespace tb::storage
