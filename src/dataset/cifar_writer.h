// Writes CIFAR-10 "python version" files. Protocol 2 reproduces, byte for byte, the layout of
// the real files (Python 2 cPickle protocol 2: str keys in the dict order Python 2 produced,
// numpy.core.multiarray._reconstruct + BUILD, the pixels in one BINSTRING, labels as a list
// of ints, memo ids from 1, batches of 1,000 for APPENDS/SETITEMS); protocol 4 is what
// Python 3 pickle.dump(..., protocol=4) writes for the same dict with str keys.
//
// The pixels are not copied into the encoding: a batch is `head`, then the caller's pixel
// bytes, then `tail`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace tb::dataset {

struct BatchContent {
  std::string batch_label;             // "training batch 1 of 5"
  std::vector<uint8_t> labels;         // count
  std::vector<std::string> filenames;  // count (may be empty: then the key is omitted)
  std::string_view pixels;             // count * 3072
};

struct EncodedBatch {
  std::string head;
  std::string_view pixels;
  std::string tail;
  size_t size() const { return head.size() + pixels.size() + tail.size(); }
};

// REQUIRES: protocol 2 or 4; pixels.size() == labels.size() * 3072.
Result<EncodedBatch> EncodeBatch(const BatchContent& batch, int protocol);

// batches.meta: {'num_cases_per_batch': N, 'label_names': [...], 'num_vis': 3072}.
std::string EncodeMeta(const std::vector<std::string>& label_names, int64_t num_cases_per_batch, int protocol);

// The ten CIFAR-10 class names, in label order.
const std::vector<std::string>& Cifar10LabelNames();

}  // namespace tb::dataset
