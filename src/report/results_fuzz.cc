// libFuzzer target for the results reader (built by cmake/fuzz.cmake, run by scripts/fuzz.sh):
// `compare` reads results files from anywhere, and what it reads reaches the stage table, the
// comparison table and its JSON, SVG and HTML forms. Any input parses or fails with a Status;
// what parses renders without a crash, and the results JSON written from it reads back.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "report/results.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto run = tb::report::ParseRunResult(in, "fuzz.json");
  if (!run.ok()) return 0;
  const std::vector<tb::report::RunResult> runs = {*run, *run};
  (void)tb::report::RenderStageTable(*run);
  (void)tb::report::RenderCompareTable(runs);
  (void)tb::report::RenderCompareJson(runs);
  (void)tb::report::RenderCompareSvg(runs);
  (void)tb::report::RenderCompareHtml(runs);
  auto again = tb::report::ParseRunResult(tb::report::ToJson(*run), "fuzz-roundtrip.json");
  if (!again.ok()) std::abort();  // tierbench wrote a results file it cannot read back
  return 0;
}
