#include "launch/data_parallel.h"

namespace tb::launch {

void TrainOnCluster(Cluster* cluster, train::TrainOptions* options) {
  if (!cluster) return;
  options->rank = cluster->world().rank;
  options->world_size = cluster->world().size;
  options->all_reduce_mean = [cluster](float* data, size_t n) { return cluster->AllReduceMean(data, n); };
}

}  // namespace tb::launch
