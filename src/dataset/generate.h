// Generates augmented CIFAR-10 datasets of any size in the exact on-disk format, with
// learnable class-dependent images; deterministic for a seed and independent of thread count.
#pragma once

#include <cstdint>
#include <string>

#include "util/status.h"

namespace tb::dataset {

struct GenerateOptions {
  std::string out_dir;             // receives cifar-10-batches-py/, the tarball, .md5 and manifest
  int train_files = 5;             // data_batch_1..N
  int images_per_file = 10000;
  int test_images = 10000;
  uint64_t seed = 1;
  int threads = 0;                 // 0 = all cores
  int protocol = 2;                // 2 (Python 2 cPickle style, like the real files) or 4
  std::string tarball = "tar.gz";  // "tar.gz", "tar" or "none"
};

struct GenerateReport {
  std::string dataset_dir;    // <out>/cifar-10-batches-py
  std::string tarball_path;   // <out>/cifar-10-python.tar.gz (empty if none)
  std::string tarball_md5;    // hex
  std::string md5_path;       // <tarball>.md5 ("<md5>  <name>")
  std::string manifest_path;  // <out>/cifar-10-batches-py.md5 (paths relative to <out>)
  uint64_t files = 0;
  uint64_t bytes = 0;         // dataset bytes
};

// Returns InvalidArgument naming the bad option.
Result<GenerateReport> Generate(const GenerateOptions& options);

// Named layouts. "seed-1283": the reference architecture's augmented CIFAR-10 of 1,283 files
// (1,280 training files + test_batch + batches.meta + readme.html), 40 images per training
// file unless the caller overrides images_per_file afterwards.
Status ApplyPreset(const std::string& name, GenerateOptions* options);

// Names used in the output folder.
inline constexpr const char* kDatasetFolder = "cifar-10-batches-py";
inline constexpr const char* kTarballStem = "cifar-10-python";

}  // namespace tb::dataset
