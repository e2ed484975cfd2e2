// libFuzzer target for the model.pth reader (built by cmake/fuzz.cmake, run by scripts/fuzz.sh):
// the stored-zip reader, the safe state_dict unpickler and the tensor view reader. An input
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

namespace {

void Put16(std::string* s, uint32_t v) {
  s->push_back(static_cast<char>(v & 0xff));
  s->push_back(static_cast<char>(v >> 8 & 0xff));
}
void Put32(std::string* s, uint32_t v) {
  Put16(s, v & 0xffff);
  Put16(s, v >> 16);
}

// A stored zip of `records`, laid out as torch.save writes it (CRCs left zero: not checked).
std::string Zip(const std::vector<std::pair<std::string, std::string_view>>& records) {
  std::string out, central;
  for (const auto& [name, data] : records) {
    uint32_t offset = static_cast<uint32_t>(out.size());
    Put32(&out, 0x04034b50);
    Put16(&out, 20); Put16(&out, 0); Put16(&out, 0); Put16(&out, 0); Put16(&out, 0);
    Put32(&out, 0); Put32(&out, static_cast<uint32_t>(data.size())); Put32(&out, static_cast<uint32_t>(data.size()));
    Put16(&out, static_cast<uint32_t>(name.size())); Put16(&out, 0);
    out += name;
    out += data;
    Put32(&central, 0x02014b50);
    Put16(&central, 20); Put16(&central, 20); Put16(&central, 0); Put16(&central, 0);
    Put16(&central, 0); Put16(&central, 0);
    Put32(&central, 0); Put32(&central, static_cast<uint32_t>(data.size())); Put32(&central, static_cast<uint32_t>(data.size()));
    Put16(&central, static_cast<uint32_t>(name.size())); Put16(&central, 0); Put16(&central, 0);
    Put16(&central, 0); Put16(&central, 0); Put32(&central, 0); Put32(&central, offset);
    central += name;
  }
  uint32_t cd = static_cast<uint32_t>(out.size());
  out += central;
  Put32(&out, 0x06054b50);
  Put16(&out, 0); Put16(&out, 0);
  Put16(&out, static_cast<uint32_t>(records.size())); Put16(&out, static_cast<uint32_t>(records.size()));
  Put32(&out, static_cast<uint32_t>(central.size())); Put32(&out, cd); Put16(&out, 0);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string file;
  if (in.substr(0, 2) == "PK") {
    file = std::string(in);
  } else {
    static const std::string storage(64, '\x3f');
    file = Zip({{"archive/data.pkl", in}, {"archive/data/0", storage}, {"archive/version", "3\n"}});
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
