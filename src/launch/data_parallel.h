// Training as one rank of a cluster: the train::TrainOptions fields that make training data
// parallel over the cluster's ranks (each training on its share of every epoch, gradients
// averaged through Cluster::AllReduceMean every step; see train/train.h).
#pragma once

#include "launch/cluster.h"
#include "train/train.h"

namespace tb::launch {

// Sets options->rank, world_size and all_reduce_mean from `cluster`, which must outlive the
// training. A null cluster (one rank) leaves `options` as they are.
void TrainOnCluster(Cluster* cluster, train::TrainOptions* options);

}  // namespace tb::launch
