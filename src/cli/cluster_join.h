// Joining the ranks of a run: the world from the launcher's environment and the job's
// [cluster] keys, and the cluster those ranks form (launch/world.h, launch/cluster.h).
#pragma once

#include <memory>
#include <string>

#include "launch/cluster.h"
#include "launch/world.h"
#include "pipeline/config.h"

namespace tb::cli {

launch::WorldOverrides WorldOverridesOf(const pipeline::JobConfig& cfg);

// Opens the cluster of `world`. Its lines ("rendezvous store ...", "gloo device ...") go to
// stderr as "tierbench <verb>: rank R: ..."; a lost rank is printed there too and cancels the
// process's long operations (util/signals.h), so the stage running stops and fails.
Result<std::unique_ptr<launch::Cluster>> JoinCluster(const std::string& verb, const launch::World& world);

// Several ranks: rank 0 keeps cfg.out and preview.out (the merged results, the one preview);
// the other ranks' results and previews, every rank's log, and every rank's scratch get
// "rankN" (file.rankN.json, file.rankN.log, <scratch>/rankN). The host's ranks share what its
// local rank 0 stages there by absolute path (pipeline/shard.h OncePerHost).
void PerRankPaths(const launch::World& world, pipeline::JobConfig* cfg);

}  // namespace tb::cli
