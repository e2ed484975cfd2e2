// The ranks of one run and what they do together.
//
// A run is one or more ranks (processes), started by a launcher that tierbench does not
// replace (Slurm, Open MPI, torchrun-style variables, SageMaker). World says who this rank is;
// Cluster is what the ranks do together: wait for each other (Barrier), exchange a value each
// (AllGather: the runner uses it to merge results), and average a buffer of floats
// (AllReduceMean: the trainer uses it for gradients). Every collective has a bound on waiting:
// a rank that never arrives makes the others fail with an error naming that rank and its host.
//
// Implementations: the single rank (size 1, every call returns at once), the in-process one
// below (N ranks as threads, for unit tests of the code that runs on every rank), and the
// c10d one in the libtorch plugin (TCPStore + Gloo) used across processes and hosts.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "util/status.h"

namespace tb::launch {

struct World {
  int rank = 0;
  int size = 1;
  int local_rank = 0;  // rank among the ranks on this host
  int local_size = 1;
  std::string launcher = "none";  // none | env | slurm | mpi | sagemaker
  std::string host;               // this rank's host name (for errors and results)
  std::string rendezvous_addr;    // where rank 0 listens ("" for a single rank)
  int rendezvous_port = 29500;
  std::string interface;   // network interface collectives use ("" = the host's address)
  double timeout_s = 300;  // the longest any collective waits for a missing rank
  double heartbeat_timeout_s = 20;  // a rank silent this long counts as lost (died or hangs)
  bool agent_store = false;         // the launcher's agent serves the store: rank 0 connects as a client too

  bool single() const { return size == 1; }
};

class Cluster {
 public:
  virtual ~Cluster() = default;
  virtual const World& world() const = 0;
  // Returns once every rank called Barrier with the same tag. After world().timeout_s without
  // all ranks: an error naming the ranks (and hosts) that did not arrive.
  virtual Status Barrier(const std::string& tag) = 0;
  // Every rank contributes `mine`; returns all ranks' values, indexed by rank.
  virtual Result<std::vector<std::string>> AllGather(const std::string& tag, const std::string& mine) = 0;
  // Replaces data[0..n) by the element-wise mean over the ranks (same n on every rank).
  virtual Status AllReduceMean(float* data, size_t n) = 0;
};

// Size 1: Barrier returns at once, AllGather returns {mine}, AllReduceMean leaves data as is.
std::unique_ptr<Cluster> NewSingleRankCluster(World world = {});

// N ranks as threads of this process, sharing memory: NewInProcessClusters(N)[r] is rank r's
// handle (each to be used by one thread). Collectives wait at most `timeout_s` for the others.
std::vector<std::unique_ptr<Cluster>> NewInProcessClusters(int size, double timeout_s = 60);

struct ClusterOptions {
  std::function<void(const std::string&)> log;  // one line each: the store, the network device
  // Called once, from a monitor thread, when a rank is lost (silent for
  // World::heartbeat_timeout_s, or rank 0's store gone); the status names the rank and host.
  // A process still running World::heartbeat_timeout_s after that exits with status 1.
  std::function<void(const Status&)> on_lost;
};

// The cluster of `world`: NewSingleRankCluster for a single rank, else the c10d cluster of the
// libtorch plugin (rendezvous, then every rank present or an error naming the missing ones
// within world.timeout_s). Unsupported when tierbench was built without libtorch or Gloo.
Result<std::unique_ptr<Cluster>> OpenCluster(const World& world, const ClusterOptions& options = {});

}  // namespace tb::launch
