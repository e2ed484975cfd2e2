// The order in which training visits a split: one seeded shuffle per epoch. The training
// loader reads batches in this order and the preview stage draws the loader's first batch of
// epoch 0 with it, so both show the same images for a seed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tb::dataset {

// The order in which epoch `epoch` visits [0, n) for `seed` (Fisher-Yates on a 64-bit
// Mersenne Twister seeded from seed and epoch).
std::vector<uint32_t> ShuffledOrder(size_t n, uint64_t seed, int epoch);

}  // namespace tb::dataset
