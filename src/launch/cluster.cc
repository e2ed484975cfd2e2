#include "launch/cluster.h"

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace tb::launch {
namespace {

class SingleRankCluster : public Cluster {
 public:
  explicit SingleRankCluster(World world) : world_(std::move(world)) {
    world_.rank = 0;
    world_.size = 1;
  }
  const World& world() const override { return world_; }
  Status Barrier(const std::string&) override { return Status::Ok(); }
  Result<std::vector<std::string>> AllGather(const std::string&, const std::string& mine) override {
    return std::vector<std::string>{mine};
  }
  Status AllReduceMean(float*, size_t) override { return Status::Ok(); }

 private:
  World world_;
};

// The state the threads share: one collective at a time, in generations. Each rank deposits
// its value; the last one to arrive publishes the round and wakes the others.
struct Shared {
  explicit Shared(int n, double timeout) : size(n), timeout_s(timeout), values(n), present(n, false) {}
  const int size;
  const double timeout_s;
  std::mutex mu;
  std::condition_variable cv;
  uint64_t generation = 0;
  int arrived = 0;
  std::string tag;
  std::vector<std::string> values;
  std::vector<bool> present;
  std::vector<std::string> published;
  std::vector<double> sum;
  std::vector<double> mean;
};

class InProcessCluster : public Cluster {
 public:
  InProcessCluster(std::shared_ptr<Shared> shared, int rank) : shared_(std::move(shared)) {
    world_.rank = rank;
    world_.size = shared_->size;
    world_.local_rank = rank;
    world_.local_size = shared_->size;
    world_.launcher = "in-process";
    world_.host = "thread-" + std::to_string(rank);
    world_.timeout_s = shared_->timeout_s;
  }
  const World& world() const override { return world_; }

  Status Barrier(const std::string& tag) override { return AllGather(tag, "").status(); }

  Result<std::vector<std::string>> AllGather(const std::string& tag, const std::string& mine) override {
    std::vector<std::string> out;
    Status s = Round(
        tag, [&](Shared& sh) { sh.values[world_.rank] = mine; }, [](Shared& sh) { sh.published = sh.values; },
        [&](Shared& sh) { out = sh.published; });
    if (!s.ok()) return s;
    return out;
  }

  Status AllReduceMean(float* data, size_t n) override {
    return Round(
        "all-reduce",
        [&](Shared& sh) {
          if (sh.arrived == 0) sh.sum.assign(n, 0.0);
          // Summed in rank order by the last arrival, so the result does not depend on timing.
          sh.values[world_.rank].assign(reinterpret_cast<const char*>(data), n * sizeof(float));
        },
        [&](Shared& sh) {
          sh.mean.assign(n, 0.0);
          for (int r = 0; r < sh.size; ++r) {
            const float* v = reinterpret_cast<const float*>(sh.values[r].data());
            for (size_t i = 0; i < n; ++i) sh.mean[i] += v[i];
          }
          for (double& m : sh.mean) m /= sh.size;
        },
        [&](Shared& sh) {
          for (size_t i = 0; i < n; ++i) data[i] = static_cast<float>(sh.mean[i]);
        });
  }

 private:
  template <typename Deposit, typename Publish, typename Collect>
  Status Round(const std::string& tag, Deposit deposit, Publish publish, Collect collect) {
    Shared& sh = *shared_;
    std::unique_lock<std::mutex> lock(sh.mu);
    // Wait while a previous round is still being collected by slower threads.
    if (sh.arrived == 0) sh.tag = tag;
    if (sh.tag != tag)
      return Status::Internal("rank " + std::to_string(world_.rank) + " entered collective '" + tag +
                              "' while the others are in '" + sh.tag + "'");
    deposit(sh);
    sh.present[world_.rank] = true;
    uint64_t my_generation = sh.generation;
    if (++sh.arrived == sh.size) {
      publish(sh);
      sh.arrived = 0;
      std::fill(sh.present.begin(), sh.present.end(), false);
      ++sh.generation;
      sh.cv.notify_all();
    } else {
      auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(sh.timeout_s);
      if (!sh.cv.wait_until(lock, deadline, [&] { return sh.generation != my_generation; })) {
        std::string missing;
        for (int r = 0; r < sh.size; ++r)
          if (!sh.present[r]) missing += (missing.empty() ? "" : ", ") + std::string("rank ") + std::to_string(r);
        return Status::Network("collective '" + tag + "': " + missing + " did not arrive within " +
                               std::to_string(static_cast<int>(sh.timeout_s)) + " s");
      }
    }
    collect(sh);
    return Status::Ok();
  }

  std::shared_ptr<Shared> shared_;
  World world_;
};

}  // namespace

std::unique_ptr<Cluster> NewSingleRankCluster(World world) {
  return std::make_unique<SingleRankCluster>(std::move(world));
}

std::vector<std::unique_ptr<Cluster>> NewInProcessClusters(int size, double timeout_s) {
  auto shared = std::make_shared<Shared>(size, timeout_s);
  std::vector<std::unique_ptr<Cluster>> out;
  for (int r = 0; r < size; ++r) out.push_back(std::make_unique<InProcessCluster>(shared, r));
  return out;
}

}  // namespace tb::launch
