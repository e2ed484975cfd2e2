#include "cli/cluster_join.h"

#include <cstdio>

#include "util/signals.h"
#include "util/terminal_text.h"

namespace tb::cli {

launch::WorldOverrides WorldOverridesOf(const pipeline::JobConfig& cfg) {
  launch::WorldOverrides o;
  o.launcher = cfg.cluster_launcher;
  o.rendezvous = cfg.cluster_rendezvous;
  o.interface = cfg.cluster_interface;
  o.timeout_s = cfg.cluster_timeout_s;
  o.heartbeat_timeout_s = cfg.cluster_heartbeat_timeout_s;
  return o;
}

Result<std::unique_ptr<launch::Cluster>> JoinCluster(const std::string& verb, const launch::World& world) {
  launch::ClusterOptions options;
  std::string prefix = "tierbench " + verb + ": rank " + std::to_string(world.rank) + ": ";
  options.log = [prefix](const std::string& line) {
    std::fprintf(stderr, "%s%s\n", prefix.c_str(), TerminalSafe(line).c_str());
  };
  options.on_lost = [prefix](const Status& s) {
    std::fprintf(stderr, "%s%s\n", prefix.c_str(), TerminalSafe(s.message()).c_str());
    CancelFromWithin();
  };
  if (!world.single()) options.log(launch::DescribeWorld(world));
  auto cluster = launch::OpenCluster(world, options);
  if (!cluster.ok()) return cluster.status().Prefix("rank " + std::to_string(world.rank));
  return cluster;
}

void PerRankPaths(const launch::World& world, pipeline::JobConfig* cfg) {
  if (world.single()) return;
  const std::string rank = "rank" + std::to_string(world.rank);
  auto suffixed = [&](const std::string& path, const std::string& ext) {
    bool has = path.size() >= ext.size() && path.compare(path.size() - ext.size(), ext.size(), ext) == 0;
    return (has ? path.substr(0, path.size() - ext.size()) : path) + "." + rank + (has ? ext : "");
  };
  // Rank 0 writes the run's merged results (pipeline/merge.h) and its one preview where the
  // config says; the other ranks' own results are beside them. Every rank logs on its own.
  if (world.rank != 0) {
    cfg->out = suffixed(cfg->out, ".json");
    cfg->preview_out = suffixed(cfg->preview_out, ".png");
  }
  cfg->log = suffixed(cfg->log, ".log");
  if (cfg->model_dir == cfg->scratch + "/model") cfg->model_dir = cfg->scratch + "/" + rank + "/model";
  cfg->scratch += "/" + rank;
}

}  // namespace tb::cli
