// The training input's part of a train summary as JSON (the train stage's results detail and
// `tierbench train --json`): input_mode, shuffle and, with a source (train/source.h), what it
// read per epoch, counted by the transport.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "train/train.h"

namespace tb::train {

// Adds input_mode, shuffle and, when the summary has per-epoch input counts,
// input_bytes_per_epoch, input_gets_per_epoch, cache_hits_per_epoch,
// cache_hit_bytes_per_epoch, input_resumed_per_epoch, input_setup_bytes and input_setup_gets
// to `detail`.
void AddInputJson(const TrainSummary& summary, nlohmann::json* detail);

}  // namespace tb::train
