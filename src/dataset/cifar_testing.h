// Test helper: writes a small CIFAR-10 folder (data_batch_1..files, test_batch, batches.meta)
// with the dataset area's encoder, pixels a pure function of (image index, seed).
#pragma once

#include <algorithm>
#include <cmath>
#include <string>

#include "dataset/cifar_writer.h"
#include "util/fs.h"
#include "util/status.h"

namespace tb::dataset::testing {

inline uint8_t TestPixel(size_t image, size_t k, uint64_t seed) {
  uint64_t x = (image * 3072 + k) * 0x9E3779B97F4A7C15ull + seed;
  x ^= x >> 29;
  return static_cast<uint8_t>(x * 0xBF58476D1CE4E5B9ull >> 56);
}
inline uint8_t TestLabel(size_t image) { return static_cast<uint8_t>((image * 7 + 3) % 10); }

// A learnable image of class TestLabel(image): the class's colour and stripe frequency and
// orientation under heavy noise (std ~70, as tests/train/make_cifar.py draws them), so the
// tutorial CNN learns the classes gradually, a step at a time.
inline uint8_t LearnablePixel(size_t image, size_t k, uint64_t seed) {
  const int c = TestLabel(image), ch = static_cast<int>(k / 1024), y = static_cast<int>(k % 1024 / 32),
            x = static_cast<int>(k % 32);
  const double colour[3] = {static_cast<double>(c * 37 % 256), static_cast<double>((c * 91 + 40) % 256),
                            static_cast<double>((c * 53 + 90) % 256)};
  const double freq = 0.25 + 0.12 * (c % 5), angle = 3.14159265358979 * (c / 5) / 2;
  const double base = colour[ch] * 0.5 + 60 * std::sin(freq * (std::cos(angle) * x + std::sin(angle) * y)) + 64;
  uint64_t h = (image * 3072 + k) * 0x9E3779B97F4A7C15ull + seed;
  h ^= h >> 29;
  h *= 0xBF58476D1CE4E5B9ull;
  h ^= h >> 32;
  // The sum of four uniform 16-bit draws, centred: near-normal with std 0.577.
  double u = static_cast<double>((h & 0xffff) + (h >> 16 & 0xffff) + (h >> 32 & 0xffff) + (h >> 48)) / 65536.0 - 2.0;
  return static_cast<uint8_t>(std::clamp(std::lround(base + u * 70 / 0.577), 0L, 255L));
}

// Returns the cifar-10-batches-py path; images are numbered across files in order
// (train 0..train_files*per_file-1, then the test batch continues the numbering).
// `learnable`: LearnablePixel instead of TestPixel.
inline Result<std::string> WriteTestDataset(const std::string& root, int train_files, int per_file, int test_images,
                                            uint64_t seed = 1, bool learnable = false) {
  std::string dir = root + "/cifar-10-batches-py";
  TB_RETURN_IF_ERROR(MakeDirs(dir));
  size_t image = 0;
  for (int f = 0; f <= train_files; ++f) {
    bool test = f == train_files;
    int n = test ? test_images : per_file;
    std::string pixels(static_cast<size_t>(n) * 3072, '\0');
    dataset::BatchContent b;
    b.batch_label = test ? "testing batch 1 of 1" : "training batch " + std::to_string(f + 1);
    for (int i = 0; i < n; ++i, ++image) {
      b.labels.push_back(TestLabel(image));
      b.filenames.push_back("img_" + std::to_string(image) + ".png");
      for (size_t k = 0; k < 3072; ++k)
        pixels[i * 3072 + k] =
            static_cast<char>(learnable ? LearnablePixel(image, k, seed) : TestPixel(image, k, seed));
    }
    b.pixels = pixels;
    TB_ASSIGN_OR_RETURN(dataset::EncodedBatch e, dataset::EncodeBatch(b, 2));
    std::string bytes = e.head + std::string(e.pixels) + e.tail;
    std::string name = test ? "test_batch" : "data_batch_" + std::to_string(f + 1);
    TB_RETURN_IF_ERROR(WriteFileAtomic(dir + "/" + name, bytes));
  }
  TB_RETURN_IF_ERROR(WriteFileAtomic(dir + "/batches.meta",
                                     dataset::EncodeMeta(dataset::Cifar10LabelNames(), per_file, 2)));
  return dir;
}

}  // namespace tb::dataset::testing
