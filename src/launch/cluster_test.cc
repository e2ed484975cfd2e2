#include "launch/cluster.h"

#include <gtest/gtest.h>

#include <thread>

namespace tb::launch {
namespace {

TEST(Cluster, SingleRankReturnsAtOnce) {
  auto c = NewSingleRankCluster();
  EXPECT_EQ(c->world().size, 1);
  ASSERT_TRUE(c->Barrier("x").ok());
  auto all = c->AllGather("g", "mine");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, std::vector<std::string>{"mine"});
  float v[2] = {1.5f, -2.0f};
  ASSERT_TRUE(c->AllReduceMean(v, 2).ok());
  EXPECT_EQ(v[0], 1.5f);
}

TEST(Cluster, InProcessRanksGatherAndAverageInManyRounds) {
  const int n = 4;
  auto ranks = NewInProcessClusters(n);
  std::vector<std::thread> threads;
  std::vector<std::string> failures(n);
  for (int r = 0; r < n; ++r) {
    threads.emplace_back([&, r] {
      Cluster& c = *ranks[r];
      for (int round = 0; round < 50; ++round) {
        auto all = c.AllGather("g", std::to_string(r * 100 + round));
        if (!all.ok() || all->size() != n) {
          failures[r] = "gather";
          return;
        }
        for (int q = 0; q < n; ++q)
          if ((*all)[q] != std::to_string(q * 100 + round)) {
            failures[r] = "gather value";
            return;
          }
        float v[3] = {static_cast<float>(r), static_cast<float>(round), 1.0f};
        if (!c.AllReduceMean(v, 3).ok()) {
          failures[r] = "reduce";
          return;
        }
        if (v[0] != 1.5f || v[1] != static_cast<float>(round) || v[2] != 1.0f) {
          failures[r] = "mean";
          return;
        }
        if (!c.Barrier("b").ok()) {
          failures[r] = "barrier";
          return;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int r = 0; r < n; ++r) EXPECT_EQ(failures[r], "") << "rank " << r;
}

TEST(Cluster, MissingRankIsNamedAfterTheTimeout) {
  auto ranks = NewInProcessClusters(3, /*timeout_s=*/0.2);
  Status s0, s1;
  std::thread t0([&] { s0 = ranks[0]->Barrier("stage verify"); });
  std::thread t1([&] { s1 = ranks[1]->Barrier("stage verify"); });
  t0.join();
  t1.join();
  ASSERT_FALSE(s0.ok());
  EXPECT_NE(s0.message().find("rank 2 did not arrive"), std::string::npos) << s0.message();
  EXPECT_NE(s0.message().find("stage verify"), std::string::npos) << s0.message();
}

}  // namespace
}  // namespace tb::launch
