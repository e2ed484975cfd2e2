// Test helper: writes a small CIFAR-10 folder (data_batch_1..files, test_batch, batches.meta)
// with the dataset area's encoder, pixels a pure function of (image index, seed).
#pragma once

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

// Returns the cifar-10-batches-py path; images are numbered across files in order
// (train 0..train_files*per_file-1, then the test batch continues the numbering).
inline Result<std::string> WriteTestDataset(const std::string& root, int train_files, int per_file,
                                            int test_images, uint64_t seed = 1) {
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
      for (size_t k = 0; k < 3072; ++k) pixels[i * 3072 + k] = static_cast<char>(TestPixel(image, k, seed));
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
