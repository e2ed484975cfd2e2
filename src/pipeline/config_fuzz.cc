// libFuzzer target for the job-file parser (built by cmake/fuzz.cmake, run by scripts/fuzz.sh).
// Any TOML text must load or fail with a Status (toml++ exceptions included): no crash, and
// an accepted config must serialise to JSON.
#include <cstddef>
#include <cstdint>
#include <string>

#include "pipeline/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto cfg = tb::pipeline::ParseConfigText(text, "fuzz.toml");
  if (cfg.ok()) (void)tb::pipeline::ConfigToJson(*cfg);
  return 0;
}
