#include "train/limits.h"

#include <cstdio>

#include "util/parallel.h"
#include "util/range.h"

namespace tb::train {
namespace {

const NamedRange kRanges[] = {
    {"epochs", 0, kMaxEpochs, "0..100000"},
    {"batch-size", 1, kMaxBatchSize, "1..65536"},
    {"eval-batch-size", 1, kMaxBatchSize, "1..65536"},
    {"lr", 0, 1000, "greater than 0, at most 1000", true},
    {"momentum", 0, 1, "0 or more, less than 1", false, true},
    {"workers", 0, kMaxThreads, "0..1024"},
    {"threads", 0, kMaxThreads, "0..1024"},
    {"seed", 0, 9223372036854775807.0, "0 or more"},
    {"log-every", 0, 2147483647.0, "0 (never) or more"},
    {"max-steps", 0, 1e15, "0 (no limit) or more"},
    {"read-ahead", 1, kMaxReadAhead, "1..64"},
};

}  // namespace

Status CheckOptionRange(const std::string& name, double value) {
  for (const NamedRange& r : kRanges) {
    if (name != r.name) continue;
    if (r.Contains(value)) return Status::Ok();
    char shown[64];
    std::snprintf(shown, sizeof shown, "%.15g", value);
    return Status::InvalidArgument(name + " = " + shown + " is out of range: allowed " + r.text);
  }
  return Status::Ok();
}

}  // namespace tb::train
