#include "dataset/shuffle.h"

#include <random>
#include <utility>

namespace tb::dataset {
namespace {

// splitmix64: decorrelates (seed, epoch) pairs before they seed the Mersenne Twister.
uint64_t Mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace

std::vector<uint32_t> ShuffledOrder(size_t n, uint64_t seed, int epoch) {
  std::vector<uint32_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = static_cast<uint32_t>(i);
  std::mt19937_64 rng(Mix(seed ^ Mix(static_cast<uint64_t>(epoch))));
  for (size_t i = n; i > 1; --i) {
    // Lemire's multiply-shift: an index in [0, i) without a division.
    size_t j = static_cast<size_t>((static_cast<unsigned __int128>(rng()) * i) >> 64);
    std::swap(order[i - 1], order[j]);
  }
  return order;
}

}  // namespace tb::dataset
