// Reads PyTorch state_dict files without libtorch: the zip container torch.save writes
// (stored, uncompressed records "<archive>/data.pkl" and "<archive>/data/<key>"), its pickle
// decoded by the safe unpickler of dataset/pickle.h with the state_dict profile (dict /
// collections.OrderedDict, torch.jit._pickle.restore_type_tag for libtorch's typed dicts,
// torch._utils._rebuild_tensor_v2 and torch.<Type>Storage persistent ids; any other global is
// refused, so no code from the file is ever run). libtorch 1.13's own unpickler turns
// Python's default `torch.save(net.state_dict())` (an OrderedDict) into None; this reads it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace tb::train {

struct StoredTensor {
  std::string name;                // state_dict key, e.g. "conv1.weight"
  std::string storage_type;        // "FloatStorage", "DoubleStorage", ...
  std::string storage_key;         // record "<archive>/data/<key>"
  std::vector<int64_t> sizes, strides;
  int64_t storage_offset = 0;      // in elements
};

struct StateDict {
  std::vector<StoredTensor> tensors;            // in file order
  std::map<std::string, std::string> storages;  // key -> raw little-endian bytes
};

// Parses a torch.save / torch::pickle_save zip file. `name` is used in error messages.
Result<StateDict> ParseStateDict(std::string_view file_bytes, const std::string& name);

// The elements of a FloatStorage tensor in row-major order (strides and offset applied),
// checked against the storage's size.
Result<std::vector<float>> TensorFloats(const StateDict& dict, const StoredTensor& tensor);

// The stored records of a zip archive (uncompressed entries only): name -> bytes.
Result<std::map<std::string, std::string_view>> ReadStoredZip(std::string_view bytes,
                                                              const std::string& name);

}  // namespace tb::train
