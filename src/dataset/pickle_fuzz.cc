// libFuzzer target for the safe pickle decoder (built by cmake/fuzz.cmake, run by
// scripts/fuzz.sh). Any input must decode or fail with a Status: no crash, no over-read,
// no unbounded allocation. Decoded values are walked so every view into the input is touched.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dataset/pickle.h"

namespace {

size_t Walk(const tb::dataset::pickle::Value* v, int depth) {
  if (v == nullptr || depth > 10000) return 0;
  size_t sum = v->data.size() + v->shape.size();
  for (unsigned char c : v->data) sum += c;
  for (const auto* item : v->items) sum += Walk(item, depth + 1);
  return sum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto decoded = tb::dataset::pickle::Decode(in, "fuzz");
  if (decoded.ok()) {
    volatile size_t sink = Walk(decoded->root.get(), 0);
    (void)sink;
    if (decoded->root) (void)decoded->root->Find("data");
  }
  bool is_signed = false;
  (void)tb::dataset::pickle::IntDtypeSize(in.substr(0, 8), &is_signed);
  return 0;
}
