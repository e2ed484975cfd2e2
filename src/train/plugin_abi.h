// The boundary between tb_train (no libtorch) and the libtorch plugin libtierbench_torch.so.
// Both sides are built from this tree by the same compiler, so C++ types cross it; the
// entry points are extern "C" only to give them stable names for dlsym().
#pragma once

#include <memory>
#include <string>

#include "train/train.h"
#include "util/status.h"

// Bump when TrainOptions, TrainSummary or an entry point changes shape.
#define TB_TORCH_PLUGIN_ABI 8

namespace tb::launch {
struct World;
struct ClusterOptions;
class Cluster;
}  // namespace tb::launch

extern "C" {
// Returns TB_TORCH_PLUGIN_ABI of the plugin's build.
typedef int (*TbTorchAbiFn)();
// Trains per `options`; on success fills `summary`, else sets `status`.
typedef void (*TbTorchTrainFn)(const tb::train::TrainOptions* options,
                               tb::train::TrainSummary* summary, tb::Status* status);
// Compares the plugin's hand-written backward pass with libtorch autograd on a random batch;
// sets `max_abs_diff` (largest gradient difference) and `status`.
typedef void (*TbTorchCheckGradientsFn)(uint64_t seed, double* max_abs_diff, tb::Status* status);
// "tb_torch_open_cluster": the c10d cluster (TCPStore + Gloo) of `world` (size > 1) into
// `cluster`, else sets `status`. Present when the plugin was built with Gloo's headers.
typedef void (*TbTorchOpenClusterFn)(const tb::launch::World* world, const tb::launch::ClusterOptions* options,
                                     std::unique_ptr<tb::launch::Cluster>* cluster, tb::Status* status);
}

namespace tb::train {

inline constexpr const char* kTorchPluginName = "libtierbench_torch.so";

// Loads the plugin (once per process): $TB_TORCH_PLUGIN, else libtierbench_torch.so next to
// /proc/self/exe. Returns the dlsym()'d entry point `symbol`, or Unsupported ("tierbench was
// built without libtorch ...") when the plugin is missing.
Result<void*> TorchPluginSymbol(const std::string& symbol);

// Runs TbTorchCheckGradientsFn from the plugin.
Result<double> CheckGradients(uint64_t seed);

}  // namespace tb::train
