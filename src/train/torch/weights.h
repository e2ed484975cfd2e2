// model.pth in and out of the libtorch plugin. Private to the plugin.
#pragma once

#include <string>

#include "train/torch/net.h"
#include "util/status.h"

namespace tb::train::torchplugin {

// Writes the parameters as a state_dict under their PyTorch names with torch::pickle_save
// (Python: `Net().load_state_dict(torch.load(path))`), atomically (temp + rename).
Status SaveWeights(const Params& params, const std::string& path);

// Loads a state_dict saved by SaveWeights or by Python (`torch.save(net.state_dict())`, an
// OrderedDict, or a plain dict) into `params` (same names, same shapes; extra keys refused).
Status LoadWeights(const std::string& path, Params* params);

}  // namespace tb::train::torchplugin
