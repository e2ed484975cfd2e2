// OpenCluster: one rank in-process, several through the libtorch plugin's c10d cluster.
#include "launch/cluster.h"
#include "train/plugin_abi.h"

namespace tb::launch {

Result<std::unique_ptr<Cluster>> OpenCluster(const World& world, const ClusterOptions& options) {
  if (world.single()) return NewSingleRankCluster(world);
  Result<void*> sym = train::TorchPluginSymbol("tb_torch_open_cluster");
  if (!sym.ok())
    return Status::Unsupported("a world of " + std::to_string(world.size) +
                               " ranks needs the libtorch plugin with Gloo (c10d): " + sym.status().message());
  std::unique_ptr<Cluster> cluster;
  Status status;
  reinterpret_cast<TbTorchOpenClusterFn> (*sym)(&world, &options, &cluster, &status);
  if (!status.ok()) return status;
  return cluster;
}

}  // namespace tb::launch
