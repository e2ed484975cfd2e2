// libFuzzer target for the model.pth reader (built by cmake/fuzz.cmake, run by scripts/fuzz.sh):
// the stored-zip reader, the safe unpickler (dataset/pickle.h) with its state_dict profile and
// the tensor view reader. An input
// that starts like a zip ("PK") is read as a whole file; any other input is taken as the
// pickle and wrapped in a well-formed torch.save zip (with one 64-byte storage record "0"),
// so that the fuzzer spends its time in the unpickler instead of rebuilding zip headers.
// Any input must parse or fail with a Status: no crash, no over-read, no leak, no unbounded
// allocation.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "train/state_dict.h"
#include "train/stored_zip_testing.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string file;
  if (in.substr(0, 2) == "PK") {
    file = std::string(in);
  } else {
    static const std::string storage(64, '\x3f');
    file = tb::train::testing::StoredZip({{"archive/data.pkl", in}, {"archive/data/0", storage}, {"archive/version", "3\n"}});
  }
  auto dict = tb::train::ParseStateDict(file, "fuzz.pth");
  if (dict.ok()) {
    volatile float sink = 0;
    for (const tb::train::StoredTensor& t : dict->tensors) {
      auto floats = tb::train::TensorFloats(*dict, t);
      if (floats.ok())
        for (float f : *floats) sink = sink + f;
    }
  }
  return 0;
}
