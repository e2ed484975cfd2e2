// libFuzzer target for the safe pickle decoder (built by cmake/fuzz.cmake, run by
// scripts/fuzz.sh). Any input must decode or fail with a Status: no crash, no over-read,
// no unbounded allocation. Decoded values are walked so every view into the input is touched.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dataset/pickle.h"

namespace {

// Values may be shared (memo GET/DUP build DAGs whose unfolded size is exponential), so the
// walk visits at most `budget` nodes.
size_t Walk(const tb::dataset::pickle::Value* v, int depth, size_t* budget) {
  if (v == nullptr || depth > 10000 || *budget == 0) return 0;
  --*budget;
  size_t sum = v->data.size() + v->shape.size();
  for (unsigned char c : v->data) sum += c;
  for (const auto* item : v->items) sum += Walk(item, depth + 1, budget);
  return sum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto decoded = tb::dataset::pickle::Decode(in, "fuzz");
  if (decoded.ok()) {
    size_t budget = 100000;
    volatile size_t sink = Walk(decoded->root.get(), 0, &budget);
    (void)sink;
    if (decoded->root) (void)decoded->root->Find("data");
  }
  bool is_signed = false;
  (void)tb::dataset::pickle::IntDtypeSize(in.substr(0, 8), &is_signed);
  return 0;
}
