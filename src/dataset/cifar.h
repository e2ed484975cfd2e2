// CIFAR-10/100 batch files: safe decoding (no pickle code is ever executed; only the few
// globals a CIFAR file needs are accepted) and loading of whole splits into memory.
// Formats: "python version" pickles (Python 2 cPickle protocol 2 as shipped, Python 3
// protocols 2-5, str or bytes keys), CIFAR-100 pickles, and the binary version
// (data_batch_N.bin: 1 label byte + 3,072 pixel bytes per record).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace tb::dataset {

inline constexpr size_t kImageBytes = 3072;  // 32x32, 1024 R then 1024 G then 1024 B

struct Batch {
  std::string format;                  // "pickle" or "binary"
  int protocol = 0;                    // pickle protocol (0 for binary)
  std::string batch_label;
  std::vector<uint8_t> labels;         // CIFAR-10 labels, or CIFAR-100 fine labels
  std::vector<uint8_t> coarse_labels;  // CIFAR-100 only
  std::vector<std::string> filenames;
  std::vector<uint8_t> pixels;         // count() * kImageBytes
  size_t count() const { return labels.size(); }
};

// A decoded batch whose pixels still live in the input (no pixel copy yet). Images are
// `stride` bytes apart (kImageBytes for pickles, 3,073/3,074 for binary records).
struct BatchView {
  std::string format;
  int protocol = 0;
  std::string batch_label;
  std::vector<uint8_t> labels;
  std::vector<uint8_t> coarse_labels;
  std::vector<std::string> filenames;  // filled only when asked for
  const uint8_t* pixels = nullptr;
  size_t stride = kImageBytes;
  std::shared_ptr<const void> storage;  // keeps decoder-owned pixel bytes alive, if any
  size_t count() const { return labels.size(); }
  // Copies count() * kImageBytes pixel bytes to `dest` (images contiguous).
  void CopyPixels(uint8_t* dest) const;
};

// Decodes a batch (pickle or binary records, detected from the content and `name`). The
// view's pixels point into `bytes` (or into `storage`), which must outlive it.
Result<BatchView> DecodeBatchView(std::string_view bytes, const std::string& name, bool with_filenames);

// Errors name the file, the byte offset and the cause (e.g. a refused global).
Result<Batch> DecodeBatchBytes(std::string_view bytes, const std::string& name);
Result<Batch> DecodeBatchFile(const std::string& path);
// Label names from batches.meta ("label_names"; CIFAR-100 meta: "fine_label_names"; the
// binary version's batches.meta.txt: one name a line).
Result<std::vector<std::string>> ReadLabelNames(const std::string& meta_path);

// A split held in memory: labels and pixels of every image, in file order.
struct Split {
  std::vector<uint8_t> pixels;  // count * kImageBytes
  std::vector<uint8_t> labels;  // count
  size_t count = 0;
  int files = 0;
  uint64_t file_bytes = 0;      // bytes read from disk
};

// The folder holding batches.meta: `dir` itself or `dir/cifar-10-batches-py`.
Result<std::string> FindDatasetDir(const std::string& dir);
// The batch files of a split, in order: data_batch_1..N (numeric order; ".bin" too) or
// test_batch; CIFAR-100's train / test.
Result<std::vector<std::string>> SplitFiles(const std::string& dataset_dir, bool train);
// Loads the training split (data_batch_*) or the test split (test_batch) of a dataset dir,
// decoding files in parallel straight into the final buffers (pixels copied once).
Result<Split> LoadSplit(const std::string& dataset_dir, bool train, int threads);

}  // namespace tb::dataset
