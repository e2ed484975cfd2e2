// The allowed ranges of training's numeric options, shared by `tierbench train` (its flags
// and SageMaker hyperparameters) and the train.* keys of the job config. A value outside its
// range is a usage error before any data is loaded: counts that would exhaust memory or
// threads, a negative step count, a learning rate that is not a positive finite number.
#pragma once

#include <string>

#include "util/status.h"

namespace tb::train {

inline constexpr int kMaxEpochs = 100000;
inline constexpr int kMaxBatchSize = 65536;  // above CIFAR-10's 50,000 training images
// Files a training source reads ahead of the step (as many threads read them): each may hold a
// whole batch file in memory.
inline constexpr int kMaxReadAhead = 64;

// OK when `value` lies in the range of option `name` (flag spelling: "batch-size"; unknown
// names have no range); else InvalidArgument "NAME = VALUE is out of range: allowed RANGE".
Status CheckOptionRange(const std::string& name, double value);

}  // namespace tb::train
