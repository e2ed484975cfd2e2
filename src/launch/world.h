// Who this rank is, read from the environment the launcher set up. tierbench never starts
// ranks itself: Open MPI (mpirun), Slurm (srun), torchrun-style variables or SageMaker do.
//
//   launcher   rank / size / local rank                      rendezvous (rank 0's address)
//   mpi        OMPI_COMM_WORLD_RANK, _SIZE, _LOCAL_RANK,      MASTER_ADDR (mpirun sets none;
//              _LOCAL_SIZE                                    127.0.0.1 when all ranks are local)
//   env        RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE MASTER_ADDR, MASTER_PORT
//   slurm      SLURM_PROCID, SLURM_STEP_NUM_TASKS (an srun     the first host of
//              step's tasks; a batch script is one rank),     SLURM_STEP_NODELIST /
//              SLURM_LOCALID, SLURM_STEP_TASKS_PER_NODE       SLURM_JOB_NODELIST
//   sagemaker  index of SM_CURRENT_HOST in SM_HOSTS (or        hosts[0]
//              <prefix>/input/config/resourceconfig.json)
// With several launchers' variables present (mpirun inside a Slurm allocation), the first in
// that order wins; WorldOverrides::launcher picks one explicitly. MASTER_ADDR / MASTER_PORT
// and the overrides replace a launcher's rendezvous. No launcher: a single rank, as before.
#pragma once

#include <string>

#include "launch/cluster.h"
#include "launch/sagemaker.h"
#include "util/status.h"

namespace tb::launch {

// Settings from the job configuration and flags ([cluster] keys); empty / 0 = not given.
struct WorldOverrides {
  std::string launcher = "auto";   // auto | none | env | mpi | slurm | sagemaker
  std::string rendezvous;          // "host", "host:port" or "[v6addr]:port"
  std::string interface;           // the network interface collectives use
  double timeout_s = 0;            // World::timeout_s
  double heartbeat_timeout_s = 0;  // World::heartbeat_timeout_s
  std::string sm_prefix;           // the SageMaker prefix (default /opt/ml, or TB_SM_PREFIX)
};

// The largest world accepted, and the most hosts a Slurm nodelist may expand to.
inline constexpr int kMaxWorldSize = 65536;

// Reads the world; errors are InvalidArgument naming the variable, its value and the cause
// (not a number, rank >= size, sizes that disagree, no rendezvous address for size > 1).
Result<World> DetectWorld(const EnvLookup& env, const WorldOverrides& overrides = {});

// Expands a Slurm hostlist ("n[1-3,05],gpu7") into host names, at most `max_hosts` of them.
Result<std::vector<std::string>> ExpandHostList(const std::string& list, size_t max_hosts = kMaxWorldSize);

// Splits "host", "host:port" or "[v6]:port"; `port` keeps its value when none is given.
Status ParseHostPort(const std::string& text, std::string* host, int* port);

// One line for logs: "rank 1/2 (local 1/2) host h, launcher env, rendezvous a:p".
std::string DescribeWorld(const World& world);

}  // namespace tb::launch
