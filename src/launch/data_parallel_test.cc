#include "launch/data_parallel.h"

#include <gtest/gtest.h>

#include <thread>

namespace tb::launch {
namespace {

TEST(TrainOnCluster, TakesRankWorldAndTheClustersMean) {
  auto clusters = NewInProcessClusters(2, 60);
  std::vector<train::TrainOptions> options(2);
  std::vector<float> values[2] = {{1, 10}, {3, 20}};
  std::vector<Status> status(2);
  std::vector<std::thread> threads;
  for (int r = 0; r < 2; ++r) {
    TrainOnCluster(clusters[r].get(), &options[r]);
    EXPECT_EQ(options[r].rank, r);
    EXPECT_EQ(options[r].world_size, 2);
    ASSERT_TRUE(options[r].all_reduce_mean);
    threads.emplace_back([&, r] { status[r] = options[r].all_reduce_mean(values[r].data(), values[r].size()); });
  }
  for (auto& t : threads) t.join();
  for (int r = 0; r < 2; ++r) {
    EXPECT_TRUE(status[r].ok()) << status[r].ToString();
    EXPECT_EQ(values[r], (std::vector<float>{2, 15}));
  }
}

TEST(TrainOnCluster, NoClusterIsOneRank) {
  train::TrainOptions o;
  TrainOnCluster(nullptr, &o);
  EXPECT_EQ(o.rank, 0);
  EXPECT_EQ(o.world_size, 1);
  EXPECT_FALSE(o.all_reduce_mean);
}

}  // namespace
}  // namespace tb::launch
