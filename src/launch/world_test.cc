#include "launch/world.h"

#include <gtest/gtest.h>

#include <map>

#include "util/fs.h"
#include "util/testing.h"

namespace tb::launch {
namespace {

EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

// Overrides that keep a SageMaker tree on this machine (/opt/ml) out of the tests.
WorldOverrides NoSageMaker() {
  WorldOverrides o;
  o.sm_prefix = "/nonexistent/tierbench-sm";
  return o;
}

std::string ErrorOf(std::map<std::string, std::string> vars, WorldOverrides o = NoSageMaker()) {
  Result<World> w = DetectWorld(Env(std::move(vars)), o);
  EXPECT_FALSE(w.ok()) << "accepted";
  if (w.ok()) return "";
  EXPECT_TRUE(w.status().IsInvalidArgument()) << w.status().ToString();
  return w.status().message();
}

TEST(World, NoLauncherIsOneRank) {
  Result<World> w = DetectWorld(Env({}), NoSageMaker());
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(w->size, 1);
  EXPECT_EQ(w->rank, 0);
  EXPECT_EQ(w->launcher, "none");
  EXPECT_TRUE(w->rendezvous_addr.empty());
  EXPECT_FALSE(w->host.empty());
}

TEST(World, TorchrunStyle) {
  Result<World> w = DetectWorld(Env({{"RANK", "3"},
                                     {"WORLD_SIZE", "4"},
                                     {"LOCAL_RANK", "1"},
                                     {"LOCAL_WORLD_SIZE", "2"},
                                     {"MASTER_ADDR", "10.0.0.5"},
                                     {"MASTER_PORT", "1234"}}),
                                NoSageMaker());
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(w->launcher, "env");
  EXPECT_EQ(w->rank, 3);
  EXPECT_EQ(w->size, 4);
  EXPECT_EQ(w->local_rank, 1);
  EXPECT_EQ(w->local_size, 2);
  EXPECT_EQ(w->rendezvous_addr, "10.0.0.5");
  EXPECT_EQ(w->rendezvous_port, 1234);
  EXPECT_FALSE(w->agent_store);
  w = DetectWorld(
      Env({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"TORCHELASTIC_USE_AGENT_STORE", "True"}}),
      NoSageMaker());
  ASSERT_TRUE(w.ok());
  EXPECT_TRUE(w->agent_store);
}

TEST(World, OpenMpi) {
  std::map<std::string, std::string> vars = {{"OMPI_COMM_WORLD_RANK", "1"},
                                             {"OMPI_COMM_WORLD_SIZE", "2"},
                                             {"OMPI_COMM_WORLD_LOCAL_RANK", "1"},
                                             {"OMPI_COMM_WORLD_LOCAL_SIZE", "2"}};
  Result<World> w = DetectWorld(Env(vars), NoSageMaker());
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(w->launcher, "mpi");
  EXPECT_EQ(w->rank, 1);
  EXPECT_EQ(w->size, 2);
  EXPECT_EQ(w->rendezvous_addr, "127.0.0.1");  // every rank on this host
  vars["MASTER_ADDR"] = "node7";
  w = DetectWorld(Env(vars), NoSageMaker());
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->rendezvous_addr, "node7");
}

TEST(World, OpenMpiAcrossHostsNeedsARendezvous) {
  std::map<std::string, std::string> vars = {{"OMPI_COMM_WORLD_RANK", "0"},
                                             {"OMPI_COMM_WORLD_SIZE", "4"},
                                             {"OMPI_COMM_WORLD_LOCAL_RANK", "0"},
                                             {"OMPI_COMM_WORLD_LOCAL_SIZE", "2"}};
  EXPECT_NE(ErrorOf(vars).find("MASTER_ADDR"), std::string::npos);
  WorldOverrides o = NoSageMaker();
  o.rendezvous = "head:4000";
  Result<World> w = DetectWorld(Env(vars), o);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(w->rendezvous_addr, "head");
  EXPECT_EQ(w->rendezvous_port, 4000);
}

TEST(World, Slurm) {
  Result<World> w = DetectWorld(Env({{"SLURM_PROCID", "2"},
                                     {"SLURM_NTASKS", "8"},
                                     {"SLURM_STEP_NUM_TASKS", "4"},
                                     {"SLURM_LOCALID", "0"},
                                     {"SLURM_NODEID", "1"},
                                     {"SLURM_STEP_TASKS_PER_NODE", "2(x2)"},
                                     {"SLURM_JOB_ID", "123456"},
                                     {"SLURM_JOB_NODELIST", "gpu[07-09,12],login"},
                                     {"SLURMD_NODENAME", "gpu08"}}),
                                NoSageMaker());
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(w->launcher, "slurm");
  EXPECT_EQ(w->rank, 2);
  EXPECT_EQ(w->size, 4);  // the step's tasks, not the allocation's
  EXPECT_EQ(w->local_size, 2);
  EXPECT_EQ(w->host, "gpu08");
  EXPECT_EQ(w->rendezvous_addr, "gpu07");
  EXPECT_EQ(w->rendezvous_port, 20000 + 123456 % 10000);
}

TEST(World, ASlurmBatchScriptIsOneRank) {
  // What sbatch -n2 gives the batch script itself: no step, one process.
  Result<World> w = DetectWorld(
      Env({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}, {"SLURM_LOCALID", "0"}, {"SLURM_JOB_NODELIST", "n1"}}),
      NoSageMaker());
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(w->size, 1);
  EXPECT_EQ(w->launcher, "none");
}

TEST(World, SageMakerFromEnvironmentAndResourceConfig) {
  Result<World> w = DetectWorld(Env({{"SM_HOSTS", R"(["algo-1","algo-2","algo-3"])"},
                                     {"SM_CURRENT_HOST", "algo-2"},
                                     {"SM_NETWORK_INTERFACE_NAME", "eth1"}}),
                                NoSageMaker());
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(w->launcher, "sagemaker");
  EXPECT_EQ(w->rank, 1);
  EXPECT_EQ(w->size, 3);
  EXPECT_EQ(w->rendezvous_addr, "algo-1");
  EXPECT_EQ(w->interface, "eth1");

  tb::testing::TempDir ml;
  ASSERT_TRUE(MakeDirs(ml / "input/config").ok());
  ASSERT_TRUE(WriteFileAtomic(ml / "input/config/resourceconfig.json",
                              R"({"current_host": "algo-2", "hosts": ["algo-1", "algo-2"],
                                  "network_interface_name": "eth0"})")
                  .ok());
  WorldOverrides o;
  o.sm_prefix = ml.path();
  w = DetectWorld(Env({}), o);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(w->rank, 1);
  EXPECT_EQ(w->size, 2);
  EXPECT_EQ(w->interface, "eth0");
  EXPECT_EQ(w->host, "algo-2");
  // The environment and the file describing different clusters is an error.
  o.sm_prefix = ml.path();
  Result<World> bad = DetectWorld(Env({{"SM_HOSTS", R"(["algo-1","algo-3"])"}, {"SM_CURRENT_HOST", "algo-1"}}), o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("differ"), std::string::npos);
}

TEST(World, OverridesWin) {
  WorldOverrides o = NoSageMaker();
  o.rendezvous = "[fd00::1]:7000";
  o.interface = "ib0";
  o.timeout_s = 12;
  Result<World> w = DetectWorld(Env({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "a"}}), o);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(w->rendezvous_addr, "fd00::1");
  EXPECT_EQ(w->rendezvous_port, 7000);
  EXPECT_EQ(w->interface, "ib0");
  EXPECT_EQ(w->timeout_s, 12);
  o.launcher = "none";  // forces one rank whatever the environment says
  w = DetectWorld(Env({{"RANK", "1"}, {"WORLD_SIZE", "2"}}), o);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->size, 1);
}

TEST(World, BadInputIsAClearError) {
  EXPECT_NE(
      ErrorOf({{"RANK", "2"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}}).find("RANK=2 is not below WORLD_SIZE=2"),
      std::string::npos);
  EXPECT_NE(ErrorOf({{"RANK", "x1"}, {"WORLD_SIZE", "2"}}).find("RANK='x1': not a non-negative integer"),
            std::string::npos);
  EXPECT_NE(ErrorOf({{"RANK", "-1"}, {"WORLD_SIZE", "2"}}).find("RANK='-1'"), std::string::npos);
  EXPECT_NE(ErrorOf({{"RANK", "0"}, {"WORLD_SIZE", "99999999999999999999"}}).find("WORLD_SIZE"), std::string::npos);
  EXPECT_NE(ErrorOf({{"RANK", "0"}, {"WORLD_SIZE", "0"}}).find("out of range 1.."), std::string::npos);
  EXPECT_NE(ErrorOf({{"RANK", "0"}}).find("WORLD_SIZE is not"), std::string::npos);
  EXPECT_NE(ErrorOf({{"RANK", "0"}, {"WORLD_SIZE", "2"}}).find("no rendezvous address"), std::string::npos);
  EXPECT_NE(
      ErrorOf(
          {{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"LOCAL_RANK", "2"}, {"LOCAL_WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}})
          .find("LOCAL_RANK=2 is not below LOCAL_WORLD_SIZE=2"),
      std::string::npos);
  EXPECT_NE(
      ErrorOf({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "70000"}}).find("MASTER_PORT"),
      std::string::npos);
  // Two launchers' variables describing different worlds.
  EXPECT_NE(ErrorOf({{"OMPI_COMM_WORLD_RANK", "0"}, {"OMPI_COMM_WORLD_SIZE", "2"}, {"WORLD_SIZE", "3"}, {"RANK", "0"}})
                .find("WORLD_SIZE=3 disagrees with OMPI_COMM_WORLD_SIZE=2"),
            std::string::npos);
  EXPECT_NE(ErrorOf({{"SLURM_PROCID", "4"}, {"SLURM_STEP_NUM_TASKS", "4"}, {"SLURM_JOB_NODELIST", "n1"}})
                .find("SLURM_PROCID=4 is not below SLURM_STEP_NUM_TASKS=4"),
            std::string::npos);
  EXPECT_NE(ErrorOf({{"SM_HOSTS", R"(["a","b"])"}, {"SM_CURRENT_HOST", "c"}}).find("'c' is not among"),
            std::string::npos);
  EXPECT_NE(ErrorOf({{"SM_HOSTS", "[1,2]"}, {"SM_CURRENT_HOST", "a"}}).find("non-empty string"), std::string::npos);
  EXPECT_NE(ErrorOf({{"SM_HOSTS", "not json"}, {"SM_CURRENT_HOST", "a"}}).find("SM_HOSTS"), std::string::npos);
  WorldOverrides o = NoSageMaker();
  o.launcher = "pbs";
  EXPECT_NE(ErrorOf({}, o).find("expected auto"), std::string::npos);
  o.launcher = "slurm";
  EXPECT_NE(ErrorOf({}, o).find("start the ranks with srun"), std::string::npos);
  o = NoSageMaker();
  o.rendezvous = "host:0";
  EXPECT_NE(ErrorOf({{"RANK", "0"}, {"WORLD_SIZE", "2"}}, o).find("out of range"), std::string::npos);
  o.rendezvous = "fd00::1:80";
  EXPECT_NE(ErrorOf({{"RANK", "0"}, {"WORLD_SIZE", "2"}}, o).find("[addr]:port"), std::string::npos);
}

TEST(World, ExpandsSlurmHostLists) {
  auto hosts = ExpandHostList("n[1-3,5],gpu[08-10]x,login");
  ASSERT_TRUE(hosts.ok()) << hosts.status().ToString();
  EXPECT_EQ(*hosts, (std::vector<std::string>{"n1", "n2", "n3", "n5", "gpu08x", "gpu09x", "gpu10x", "login"}));
  for (const char* bad : {"n[1-3", "n[3-1]", "n[]", "n[a-b]", "n1,,n2", "n1,", "n[1-2][3-4]", "n[1-99999999999]"}) {
    auto r = ExpandHostList(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_NE(r.status().message().find("nodelist"), std::string::npos) << bad;
    }
  }
  // A compressed list must not expand past the limit (memory is bounded by the limit).
  auto huge = ExpandHostList("n[0-999999999]", 1000);
  ASSERT_FALSE(huge.ok());
  EXPECT_NE(huge.status().message().find("more than 1000 hosts"), std::string::npos);
  auto many = ExpandHostList("a[1-600],b[1-600]", 1000);
  EXPECT_FALSE(many.ok());
}

}  // namespace
}  // namespace tb::launch
