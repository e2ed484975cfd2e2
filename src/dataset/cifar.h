// CIFAR-10/100 batch files: safe decoding (no pickle code is ever executed; only the few
// globals a CIFAR file needs are accepted) and loading of whole splits into memory.
// Formats: "python version" pickles (Python 2 cPickle protocol 2 as shipped, Python 3
// protocols 2-5, str or bytes keys), CIFAR-100 pickles, and the binary version
// (data_batch_N.bin: 1 label byte + 3,072 pixel bytes per record).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <new>
#include <utility>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace tb::dataset {

inline constexpr int kChannels = 3, kHeight = 32, kWidth = 32;  // one CIFAR image, CHW
inline constexpr size_t kImageBytes = 3072;  // 32x32, 1024 R then 1024 G then 1024 B
static_assert(kImageBytes == kChannels * kHeight * kWidth);

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
// The same from the meta file's bytes (`meta_path` names it and picks the format).
Result<std::vector<std::string>> LabelNamesFromBytes(std::string_view bytes, const std::string& meta_path);

// Storage for a split's pixels: large buffers are anonymous mappings aligned to 2 MiB with
// transparent huge pages requested (a few hundred page faults instead of ~250 a MiB, taken by
// the decoding threads in parallel), and elements are default-initialised (resize() does not
// write zeros over memory the decoder is about to fill; fresh storage reads as zero).
void* AllocatePixelStorage(size_t bytes);
void FreePixelStorage(void* p, size_t bytes);

template <typename T>
struct PixelAllocator {
  using value_type = T;
  PixelAllocator() = default;
  template <typename U>
  PixelAllocator(const PixelAllocator<U>&) noexcept {}
  T* allocate(size_t n) { return static_cast<T*>(AllocatePixelStorage(n * sizeof(T))); }
  void deallocate(T* p, size_t n) noexcept { FreePixelStorage(p, n * sizeof(T)); }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    if constexpr (sizeof...(Args) == 0) {
      ::new (static_cast<void*>(p)) U;  // default-init: no zero fill
    } else {
      ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
    }
  }
  template <typename U>
  bool operator==(const PixelAllocator<U>&) const noexcept { return true; }
};

using PixelBuffer = std::vector<uint8_t, PixelAllocator<uint8_t>>;

// A split held in memory: labels and pixels of every image, in file order.
struct Split {
  PixelBuffer pixels;           // count * kImageBytes
  std::vector<uint8_t> labels;  // count
  size_t count = 0;
  int files = 0;
  uint64_t file_bytes = 0;      // bytes read from disk
};

// One batch file's images as a split (files = 1, file_bytes = its size); `name` as for
// DecodeBatchView.
Result<Split> DecodeSplitBytes(std::string_view bytes, const std::string& name);
// Appends `part`'s images, files and bytes to *to.
void AppendSplit(Split* to, const Split& part);

// The folder holding batches.meta: `dir` itself or `dir/cifar-10-batches-py`.
Result<std::string> FindDatasetDir(const std::string& dir);
// The meta file of a dataset folder: batches.meta, batches.meta.txt (binary version) or meta
// (CIFAR-100), the first that exists; NotFound naming the folder otherwise.
Result<std::string> FindMetaFile(const std::string& dataset_dir);
// Checks that every label of `file` names a class: below `classes`, the number of label names
// in `meta_file`. The error names the file, the first bad label and its index, e.g.
// "data_batch_3: label 255 at index 17 is outside 0..9 (10 classes in batches.meta)".
Status CheckLabels(const std::vector<uint8_t>& labels, size_t classes, const std::string& file,
                   const std::string& meta_file);
// The batch files of a split, in order: data_batch_1..N (numeric order; ".bin" too) or
// test_batch; CIFAR-100's train / test. `listed` (optional): the only names that may be
// used, relative to dataset_dir (the files a verified manifest lists there); the folder is
// then not listed at all, so a file the manifest does not list is never read, and a listed
// batch that is absent fails when opened.
Result<std::vector<std::string>> SplitFiles(const std::string& dataset_dir, bool train,
                                            const std::vector<std::string>* listed = nullptr);
// OK when `listed` is null or holds `name` (a file of dataset_dir, e.g. "batches.meta"); else
// NotFound naming the file: a file a verified manifest does not list is not read.
Status RequireListed(const std::string& dataset_dir, const std::string& name, const std::vector<std::string>* listed);
// Loads the training split (data_batch_*) or the test split (test_batch) of a dataset dir.
// Pass 1 runs the safe pickle decoder over every file (in parallel) for its labels and where
// its pixels lie, without touching the pixel bytes, and unmaps the file; the output is then
// allocated once and pass 2 reads each file's pixels with pread() straight into their place
// (one copy, no file pages mapped into the process; big files in pieces, in parallel). Files
// whose pixels are not one contiguous run of the file (binary records; pickles whose pixels
// the decoder rebuilds, e.g. _codecs.encode) are decoded again and copied in pass 2. A file
// replaced or changed between the passes fails the load. Every label is checked against the
// number of classes in the folder's meta file (CheckLabels). Errors name the file. `listed`:
// as for SplitFiles.
Result<Split> LoadSplit(const std::string& dataset_dir, bool train, int threads,
                        const std::vector<std::string>* listed = nullptr);

// Loads only some images of a split: `choose` gets the split's image count (from pass 1
// above) and returns the indices wanted; the result holds those images in that order
// (count = indices.size()), and only the files holding them have pixel bytes read. `files`
// and `file_bytes` count the whole split.
Result<Split> LoadSplitImages(const std::string& dataset_dir, bool train, int threads,
                              const std::function<std::vector<uint32_t>(size_t count)>& choose,
                              const std::vector<std::string>* listed = nullptr);

}  // namespace tb::dataset
