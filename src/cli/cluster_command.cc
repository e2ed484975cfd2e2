// tierbench cluster-check: do the ranks a launcher started meet, and do their collectives
// work? Joins the cluster, then per round: a barrier, an all-gather of every rank's host and a
// mean all-reduce checked against the value every rank can compute. Each rank prints one line.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <thread>

#include "cli/cluster_join.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "util/range.h"
#include "util/signals.h"

namespace tb::cli {
namespace {

constexpr NamedRange kRounds = {"--rounds", 1, 100000, "1..100000"};
constexpr NamedRange kWork = {"--work-seconds", 0, 86400, "0..86400"};

Status CheckRound(launch::Cluster& c, int round, double work_s, const std::atomic<bool>* cancel) {
  const launch::World& w = c.world();
  // "Work" before the barrier: a rank killed here is lost mid-stage for the others.
  auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(work_s);
  while (std::chrono::steady_clock::now() < until && !cancel->load())
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  TB_RETURN_IF_ERROR(c.Barrier("round " + std::to_string(round)));
  auto all = c.AllGather("hosts " + std::to_string(round), w.host + " " + std::to_string(w.rank));
  if (!all.ok()) return all.status();
  for (int r = 0; r < w.size; ++r) {
    const std::string& v = (*all)[r];
    if (v.size() < 2 || v.substr(v.rfind(' ') + 1) != std::to_string(r))
      return Status::Internal("all-gather: rank " + std::to_string(r) + "'s value is '" + v + "'");
  }
  // Rank r contributes r + i*round; the mean is (size-1)/2 + i*round on every rank.
  std::vector<float> v(1024);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(w.rank + static_cast<double>(i) * round);
  TB_RETURN_IF_ERROR(c.AllReduceMean(v.data(), v.size()));
  for (size_t i = 0; i < v.size(); ++i) {
    double want = (w.size - 1) / 2.0 + static_cast<double>(i) * round;
    if (std::fabs(v[i] - want) > 1e-3 * std::max(1.0, want))
      return Status::Internal("all-reduce: element " + std::to_string(i) + " is " + std::to_string(v[i]) +
                              ", expected " + std::to_string(want));
  }
  return Status::Ok();
}

}  // namespace

int ClusterCheckCommand(const Args& args) {
  Flags flags(
      "usage: tierbench cluster-check [options]\n\n"
      "Joins the ranks the launcher started (Open MPI, Slurm, torchrun-style variables, SageMaker)\n"
      "and checks barriers, all-gather and mean all-reduce. Exit 0 when every round passed.",
      {{"launcher", "auto | none | env | mpi | slurm | sagemaker [cluster.launcher]"},
       {"rendezvous", "host:port of rank 0's store [cluster.rendezvous]"},
       {"cluster-interface", "network interface of the collectives [cluster.interface]"},
       {"world-timeout", "seconds a rank waits for the others (1..86400) [cluster.timeout]"},
       {"heartbeat-timeout", "seconds of silence after which a rank is lost (2..3600) [cluster.heartbeat_timeout]"},
       {"rounds", "rounds of barrier, all-gather and all-reduce (1..100000, default 3)"},
       {"work-seconds", "seconds each rank waits before each round's barrier (default 0)"}});
  if (Status s = flags.Parse(args); !s.ok()) return ReportError("cluster-check", s);
  if (flags.help_requested()) {
    std::fputs(flags.HelpText().c_str(), stdout);
    return 0;
  }
  // The [cluster] keys, checked by the job configuration's own rules.
  pipeline::Overrides overrides = {{"scenario", "inplace"}, {"inplace.dir", "-"}};
  for (auto [flag, key] : {std::pair{"launcher", "cluster.launcher"},
                           {"rendezvous", "cluster.rendezvous"},
                           {"cluster-interface", "cluster.interface"},
                           {"world-timeout", "cluster.timeout"},
                           {"heartbeat-timeout", "cluster.heartbeat_timeout"}})
    if (auto v = flags.Find(flag)) overrides.emplace_back(key, *v);
  auto cfg = pipeline::ParseConfigText("", "", overrides);
  if (!cfg.ok()) return ReportError("cluster-check", cfg.status());
  auto rounds = flags.GetDouble("rounds", 3);
  auto work = flags.GetDouble("work-seconds", 0);
  if (!rounds.ok()) return ReportError("cluster-check", rounds.status());
  if (!work.ok()) return ReportError("cluster-check", work.status());
  if (!kRounds.Contains(*rounds) || std::floor(*rounds) != *rounds)
    return ReportError("cluster-check", Status::InvalidArgument("--rounds: allowed " + std::string(kRounds.text)));
  if (!kWork.Contains(*work))
    return ReportError("cluster-check", Status::InvalidArgument("--work-seconds: allowed " + std::string(kWork.text)));

  auto world = launch::DetectWorld(launch::ProcessEnv(), WorldOverridesOf(*cfg));
  if (!world.ok()) return ReportError("cluster-check", world.status());
  const std::atomic<bool>* cancel = InstallCancelHandlers();
  auto cluster = JoinCluster("cluster-check", *world);
  if (!cluster.ok()) return ReportError("cluster-check", cluster.status());
  for (int round = 1; round <= static_cast<int>(*rounds); ++round) {
    Status s = CheckRound(**cluster, round, *work, cancel);
    if (!s.ok())
      return ReportError("cluster-check",
                         s.Prefix("rank " + std::to_string(world->rank) + ", round " + std::to_string(round)));
  }
  std::printf("rank %d/%d (%s): %d rounds of barrier, all-gather and all-reduce passed\n", world->rank, world->size,
              world->host.c_str(), static_cast<int>(*rounds));
  std::fflush(stdout);
  return 0;
}

}  // namespace tb::cli
