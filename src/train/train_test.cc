// Drives the libtorch plugin through Train() (skipped when the build has no plugin).
#ifndef TB_BUILT_WITH_TORCH
#error "TB_BUILT_WITH_TORCH must be defined by the build (src/train/CMakeLists.txt)"
#endif
#include "train/train.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>

#include "dataset/cifar_testing.h"
#include "dataset/generate.h"
#include "launch/cluster.h"
#include "train/loader.h"
#include "train/plugin_abi.h"
#include "util/fs.h"
#include "util/testing.h"

namespace tb::train {
namespace {

bool HavePlugin() {
  std::string path = std::string(TB_BINARY_DIR) + "/" + kTorchPluginName;
  if (access(path.c_str(), F_OK) != 0) return false;
  setenv("TB_TORCH_PLUGIN", path.c_str(), 1);
  return true;
}

// A build configured without libtorch has no plugin: these tests skip. In a build with it
// (TB_BUILT_WITH_TORCH, set by CMake) a missing plugin is a failure, never a skip.
#define REQUIRE_PLUGIN()                                                                   \
  do {                                                                                     \
    if (!HavePlugin()) {                                                                   \
      if (TB_BUILT_WITH_TORCH) FAIL() << kTorchPluginName << " missing from a libtorch build"; \
      GTEST_SKIP() << "built without libtorch (TB_WITH_TORCH=OFF: no " << kTorchPluginName << ")"; \
    }                                                                                      \
  } while (0)

TEST(Train, HandWrittenBackwardMatchesAutograd) {
  REQUIRE_PLUGIN();
  for (uint64_t seed : {1, 2, 3}) {
    Result<double> diff = CheckGradients(seed);
    ASSERT_TRUE(diff.ok()) << diff.status().ToString();
    EXPECT_LT(*diff, 1e-5) << "seed " << seed;
  }
}

TEST(Train, TrainsSavesAndResumes) {
  REQUIRE_PLUGIN();
  tb::testing::TempDir tmp;
  ASSERT_TRUE(dataset::testing::WriteTestDataset(tmp.path(), 2, 100, 50).ok());
  TrainOptions o;
  o.data_dir = tmp.path();
  o.epochs = 2;
  o.threads = 1;
  o.seed = 4;
  o.log_every = 10;
  o.model_dir = tmp / "model";
  std::vector<std::string> lines;
  o.log = [&](const std::string& l) { lines.push_back(l); };
  Result<TrainSummary> a = Train(o);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->steps, 100);
  EXPECT_EQ(a->epochs, 2);
  EXPECT_EQ(a->train_images, 200);
  EXPECT_EQ(a->test_images, 50);
  EXPECT_EQ(a->device, "cpu");
  EXPECT_EQ(a->class_accuracy.size(), 10u);
  EXPECT_EQ(a->model_path, tmp / "model/model.pth");
  EXPECT_GT(a->final_loss, 0);
  bool saw = false;
  for (const auto& l : lines) saw |= l == lines[1] && l.rfind("[1,    10] loss: ", 0) == 0;
  EXPECT_TRUE(saw) << (lines.size() > 1 ? lines[1] : "");

  // Same seed, same result: bit-identical accuracy and loss.
  o.model_dir = tmp / "model2";
  Result<TrainSummary> b = Train(o);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->final_loss, b->final_loss);
  EXPECT_EQ(*ReadFile(tmp / "model/model.pth"), *ReadFile(tmp / "model2/model.pth"));

  // Resuming from the saved weights with 0 epochs reproduces the test accuracy.
  o.resume = a->model_path;
  o.epochs = 0;
  o.model_dir = "";
  Result<TrainSummary> c = Train(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->test_accuracy, a->test_accuracy);
  EXPECT_EQ(c->class_accuracy, a->class_accuracy);

  // The autograd engine trains the same network (same seed: same initial weights, same
  // batches) to nearly the same loss as the fast engine. Their gradients agree to 1e-5
  // (HandWrittenBackwardMatchesAutograd) and differ only in the order of float sums: over
  // these 50 steps the epoch's mean loss differs by ~1e-8 (measured), so 1e-5 (relative)
  // leaves room for other BLAS builds. A wrong gradient or update rule moves it by much more:
  // the same run without learning (lr ~0) must be at least 10x farther away, so the
  // tolerance cannot hide an engine that does not train.
  o.resume = "";
  o.epochs = 1;
  o.model_dir = "";
  o.lr = 0.05;  // the tutorial's 0.001 barely moves the loss in 50 steps
  Result<TrainSummary> fast = Train(o);
  ASSERT_TRUE(fast.ok()) << fast.status().ToString();
  o.engine = "autograd";
  Result<TrainSummary> d = Train(o);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->steps, 50);
  const double gap = std::abs(d->final_loss - fast->final_loss);
  EXPECT_LE(gap, 1e-5 * fast->final_loss) << "fast " << fast->final_loss << " autograd " << d->final_loss;
  o.engine = "fast";
  o.lr = 1e-9;  // effectively no learning (0 itself may be refused as a setting)
  Result<TrainSummary> still = Train(o);
  ASSERT_TRUE(still.ok()) << still.status().ToString();
  EXPECT_GE(std::abs(still->final_loss - fast->final_loss), 10 * std::max(gap, 1e-5 * fast->final_loss))
      << "lr ~0: " << still->final_loss << ", trained: " << fast->final_loss;
  std::printf("final loss: fast %.6f autograd %.6f (gap %.2e), lr ~0 %.6f\n", fast->final_loss, d->final_loss,
              gap, still->final_loss);
}

// A learning rate far too large drives the loss to NaN/inf within a few steps: training
// stops there with an error naming the epoch and the step, for both engines, and writes no
// model from the diverged weights.
// Where training waited for data: structural facts only (the values depend on the machine).
// Each epoch's data wait and compute fit in its span, AU is in (0, 1], the first batch came
// after the call began, and live progress carries the epoch's AU so far.
TEST(Train, ReportsFirstBatchDataWaitComputeAndAu) {
  REQUIRE_PLUGIN();
  tb::testing::TempDir tmp;
  ASSERT_TRUE(dataset::testing::WriteTestDataset(tmp.path(), 2, 100, 50).ok());
  TrainOptions o;
  o.data_dir = tmp.path();
  o.epochs = 3;
  o.threads = 1;
  o.evaluate = false;
  std::vector<TrainProgress> seen;
  o.progress = [&](const TrainProgress& p) { seen.push_back(p); };
  Result<TrainSummary> r = Train(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GT(r->first_batch_seconds, 0);
  EXPECT_LT(r->first_batch_seconds, r->seconds);
  EXPECT_GT(r->compute_seconds, 0);
  EXPECT_EQ(r->compute_clock, "host steady clock");  // on CUDA: "CUDA events" (bench/gpu/check.sh)
  EXPECT_GE(r->data_wait_seconds, 0);
  double epochs_span = 0;
  for (double e : r->epoch_seconds) epochs_span += e;
  EXPECT_LE(r->compute_seconds + r->data_wait_seconds, epochs_span);
  EXPECT_LE(epochs_span, r->train_seconds + 1e-6);
  EXPECT_GT(r->au, 0);
  EXPECT_LE(r->au, 1);
  EXPECT_NEAR(r->au, r->compute_seconds / (r->compute_seconds + r->data_wait_seconds), 1e-12);
  ASSERT_EQ(r->epoch_au.size(), 3u);
  for (double au : r->epoch_au) {
    EXPECT_GT(au, 0);
    EXPECT_LE(au, 1);
  }
  // 200 images / batch 4 = 50 steps an epoch.
  EXPECT_NEAR(r->samples_per_second, 4 * r->steps_per_second, 1e-6 * r->samples_per_second);
  ASSERT_FALSE(seen.empty());
  EXPECT_GT(seen.back().au, 0);
  EXPECT_LE(seen.back().au, 1);
  EXPECT_GT(seen.back().samples_per_second, 0);
  ProgressSample line = TrainSample(seen.back(), 1.0, 0);
  EXPECT_NE(FormatProgressLine(line).find("AU "), std::string::npos) << FormatProgressLine(line);
  EXPECT_EQ(line.eta_s, 0);  // the last report is the last step
}

TEST(Train, DivergedLossIsAnErrorNamingEpochAndStep) {
  REQUIRE_PLUGIN();
  tb::testing::TempDir tmp;
  ASSERT_TRUE(dataset::testing::WriteTestDataset(tmp.path(), 1, 200, 20).ok());
  for (const char* engine : {"fast", "autograd"}) {
    TrainOptions o;
    o.data_dir = tmp.path();
    o.epochs = 2;
    o.threads = 1;
    o.lr = 1000;
    o.log_every = 10;
    o.engine = engine;
    o.model_dir = tmp / (std::string("model-") + engine);
    Result<TrainSummary> r = Train(o);
    ASSERT_FALSE(r.ok()) << engine << ": trained to loss " << r->final_loss;
    const std::string& m = r.status().message();
    EXPECT_NE(m.find("loss is nan/inf at epoch 1, step "), std::string::npos) << m;
    EXPECT_NE(m.find("lr 1000"), std::string::npos) << m;
    EXPECT_TRUE(ReadFile(o.model_dir + "/model.pth").status().IsNotFound()) << engine;
    // The same data and seed with the default rate trains to a finite loss.
    o.lr = 0.001;
    o.epochs = 1;
    Result<TrainSummary> ok = Train(o);
    ASSERT_TRUE(ok.ok()) << ok.status().ToString();
    EXPECT_TRUE(std::isfinite(ok->final_loss));
  }
}

TEST(Train, ErrorsNameTheCause) {
  REQUIRE_PLUGIN();
  tb::testing::TempDir tmp;
  TrainOptions o;
  o.data_dir = tmp / "nothing";
  EXPECT_FALSE(Train(o).ok());
  ASSERT_TRUE(dataset::testing::WriteTestDataset(tmp.path(), 1, 8, 4).ok());
  o.data_dir = tmp.path();
  o.device = "cuda:banana";
  EXPECT_TRUE(Train(o).status().IsInvalidArgument());
  o.device = "cpu";
  o.resume = tmp / "missing.pth";
  Result<TrainSummary> r = Train(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("missing.pth"), std::string::npos);
  ASSERT_TRUE(WriteFileAtomic(tmp / "bad.pth", "garbage").ok());
  o.resume = tmp / "bad.pth";
  EXPECT_FALSE(Train(o).ok());
  o.resume = "";
  std::atomic<bool> cancel{true};
  o.cancel = &cancel;
  EXPECT_TRUE(Train(o).status().IsCancelled());
}

// A streamed source reads the test split for the test pass, after training: not before the
// first batch, and not at all without evaluation. Both runs train the same weights.
TEST(Train, StreamedSourceReadsTheTestSplitOnlyForTheTestPass) {
  REQUIRE_PLUGIN();
  tb::testing::TempDir tmp;
  ASSERT_TRUE(dataset::testing::WriteTestDataset(tmp.path(), 2, 12, 30).ok());
  TrainOptions o;
  o.data_dir = tmp.path();
  o.input_mode = "fastfile";
  o.epochs = 1;
  o.threads = 1;
  o.seed = 4;
  o.log_every = 0;
  o.evaluate = false;
  Result<TrainSummary> plain = Train(o);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  o.evaluate = true;
  Result<TrainSummary> evaluated = Train(o);
  ASSERT_TRUE(evaluated.ok()) << evaluated.status().ToString();
  EXPECT_EQ(plain->weights_md5, evaluated->weights_md5);
  EXPECT_EQ(plain->test_images, 0);
  EXPECT_EQ(evaluated->test_images, 30);
  EXPECT_EQ(plain->setup_input.gets, 1u);      // batches.meta
  EXPECT_EQ(evaluated->setup_input.gets, 2u);  // and test_batch
  EXPECT_GT(evaluated->setup_input.bytes, plain->setup_input.bytes + 30 * 3072);
}

// Data parallelism: N ranks as threads of this process, each with its handle of an
// in-process cluster feeding all_reduce_mean. `adjust` may change rank r's options.
std::vector<Result<TrainSummary>> TrainRanks(int ranks, const TrainOptions& base,
                                             const std::function<void(int, TrainOptions*)>& adjust = {},
                                             double timeout_s = 60) {
  std::vector<std::unique_ptr<launch::Cluster>> clusters = launch::NewInProcessClusters(ranks, timeout_s);
  std::vector<Result<TrainSummary>> out(ranks, Status::Internal("not run"));
  std::vector<std::thread> threads;
  for (int r = 0; r < ranks; ++r) {
    threads.emplace_back([&, r] {
      TrainOptions o = base;
      o.rank = r;
      o.world_size = ranks;
      launch::Cluster* c = clusters[r].get();
      o.all_reduce_mean = [c](float* data, size_t n) { return c->AllReduceMean(data, n); };
      if (adjust) adjust(r, &o);
      out[r] = Train(o);
    });
  }
  for (std::thread& t : threads) t.join();
  return out;
}

// Two ranks on 101 images (odd: rank 1's share is padded with the order's first image), with
// a short last batch: after one step and after two epochs the weights are bit-identical on
// both ranks, for both engines, and they moved from the initial ones. Each rank reports its
// own loss and the shared step count; only rank 0 writes model.pth.
TEST(DataParallel, WeightsIdenticalOnEveryRankForBothEngines) {
  REQUIRE_PLUGIN();
  tb::testing::TempDir tmp;
  ASSERT_TRUE(dataset::testing::WriteTestDataset(tmp.path(), 1, 101, 12).ok());
  TrainOptions base;
  base.data_dir = tmp.path();
  base.epochs = 2;
  base.batch_size = 4;
  base.threads = 1;
  base.workers = 1;
  base.seed = 7;
  base.lr = 0.01;
  base.log_every = 0;
  base.evaluate = false;
  TrainOptions untrained = base;
  untrained.epochs = 0;
  Result<TrainSummary> initial = Train(untrained);
  ASSERT_TRUE(initial.ok()) << initial.status().ToString();
  for (const char* engine : {"fast", "autograd"}) {
    for (int64_t max_steps : {1, 0}) {
      SCOPED_TRACE(std::string(engine) + ", max_steps " + std::to_string(max_steps));
      base.engine = engine;
      base.max_steps = max_steps;
      auto r = TrainRanks(2, base, [&](int rank, TrainOptions* o) {
        o->model_dir = tmp / ("model-" + std::string(engine) + "-" + std::to_string(rank));
      });
      ASSERT_TRUE(r[0].ok()) << r[0].status().ToString();
      ASSERT_TRUE(r[1].ok()) << r[1].status().ToString();
      EXPECT_EQ(r[0]->weights_md5, r[1]->weights_md5);
      EXPECT_NE(r[0]->weights_md5, initial->weights_md5);
      EXPECT_EQ(r[0]->weights_md5.size(), 32u);
      const int64_t steps = max_steps ? max_steps : 2 * ((RankSamples(101, 2) + 3) / 4);  // 51 images: 13 steps
      for (int rank = 0; rank < 2; ++rank) {
        EXPECT_EQ(r[rank]->steps, steps);
        EXPECT_EQ(r[rank]->rank, rank);
        EXPECT_EQ(r[rank]->world_size, 2);
        EXPECT_EQ(r[rank]->batch_size, 4);
        EXPECT_EQ(r[rank]->global_batch_size, 8);
        EXPECT_EQ(r[rank]->train_images, 101);
        EXPECT_EQ(r[rank]->rank_images, 51);
        EXPECT_TRUE(std::isfinite(r[rank]->final_loss) && r[rank]->final_loss > 0);
      }
      // Different samples on each rank: each reports its own loss.
      EXPECT_NE(r[0]->final_loss, r[1]->final_loss);
      EXPECT_EQ(r[0]->model_path, tmp / ("model-" + std::string(engine) + "-0/model.pth"));
      EXPECT_TRUE(ReadFile(r[0]->model_path).ok());
      EXPECT_EQ(r[1]->model_path, "");
      EXPECT_TRUE(ReadFile(tmp / ("model-" + std::string(engine) + "-1/model.pth")).status().IsNotFound());
    }
  }
}

// One rank with an all-reduce given trains exactly as one rank without: the collective is
// never called, the weights are bit-identical.
TEST(DataParallel, OneRankNeverCallsTheCollective) {
  REQUIRE_PLUGIN();
  tb::testing::TempDir tmp;
  ASSERT_TRUE(dataset::testing::WriteTestDataset(tmp.path(), 1, 40, 8).ok());
  TrainOptions o;
  o.data_dir = tmp.path();
  o.epochs = 1;
  o.threads = 1;
  o.seed = 3;
  o.log_every = 0;
  Result<TrainSummary> plain = Train(o);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  int calls = 0;
  o.all_reduce_mean = [&](float*, size_t) {
    ++calls;
    return Status::Ok();
  };
  Result<TrainSummary> with = Train(o);
  ASSERT_TRUE(with.ok()) << with.status().ToString();
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(with->weights_md5, plain->weights_md5);
  EXPECT_EQ(with->world_size, 1);
  EXPECT_EQ(with->global_batch_size, 4);
  EXPECT_EQ(with->rank_images, 40);
}

// Streamed epochs (input mode fastfile over a folder) on two ranks: each rank reads its share
// of every epoch's file order (5 files: 3 and 2), so an epoch ends for both at the step where
// rank 1's 2 files (48 images, 12 steps of 4) run out; the weights stay bit-identical. Rank 1
// reads exactly its 2 files an epoch, rank 0 at most its 3 (the rest of its share is not
// needed). Three ranks on 2 files: every rank fails, saying each needs a file.
TEST(DataParallel, StreamedEpochsShareTheFileOrderAndEndTogether) {
  REQUIRE_PLUGIN();
  tb::testing::TempDir tmp;
  ASSERT_TRUE(dataset::testing::WriteTestDataset(tmp.path(), 5, 24, 8).ok());
  TrainOptions base;
  base.data_dir = tmp.path();
  base.input_mode = "fastfile";
  base.epochs = 2;
  base.batch_size = 4;
  base.threads = 1;
  base.workers = 1;
  base.seed = 5;
  base.log_every = 0;
  base.evaluate = false;
  for (const char* engine : {"fast", "autograd"}) {
    SCOPED_TRACE(engine);
    base.engine = engine;
    auto r = TrainRanks(2, base);
    ASSERT_TRUE(r[0].ok()) << r[0].status().ToString();
    ASSERT_TRUE(r[1].ok()) << r[1].status().ToString();
    EXPECT_EQ(r[0]->weights_md5, r[1]->weights_md5);
    EXPECT_EQ(r[0]->weights_md5.size(), 32u);
    for (int rank = 0; rank < 2; ++rank) {
      EXPECT_EQ(r[rank]->steps, 24) << "rank " << rank;
      ASSERT_EQ(r[rank]->epoch_input.size(), 2u);
      for (const SourceStats& epoch : r[rank]->epoch_input) {
        if (rank == 1) EXPECT_EQ(epoch.gets, 2u);
        if (rank == 0) EXPECT_LE(epoch.gets, 3u);
      }
    }
    EXPECT_EQ(r[1]->rank_images, 48);
    EXPECT_EQ(r[0]->rank_images, 72);
  }
  tb::testing::TempDir two;
  ASSERT_TRUE(dataset::testing::WriteTestDataset(two.path(), 2, 8, 8).ok());
  base.data_dir = two.path();
  for (const Result<TrainSummary>& r : TrainRanks(3, base)) {
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("every rank needs at least one file"), std::string::npos)
        << r.status().ToString();
  }
}

// Two ranks at batch B reach the test accuracy of one rank at batch 2B on a learnable
// generated set (within 2 points), and both ranks evaluate to the same accuracy. The settings
// stop half-way up the learning curve (about 45%, measured; chance is 10%) with a small lr,
// where training is not chaotic: the two runs differ only by float rounding, and a mistake
// shows. Summed instead of averaged gradients (twice the lr) reach 100% here (measured).
TEST(DataParallel, TwoRanksMatchOneRankAtTheSameGlobalBatch) {
  REQUIRE_PLUGIN();
  tb::testing::TempDir tmp;
  ASSERT_TRUE(dataset::testing::WriteTestDataset(tmp.path(), 1, 3000, 2000, 1, /*learnable=*/true).ok());
  TrainOptions o;
  o.data_dir = tmp.path();
  o.epochs = 1;
  o.batch_size = 8;
  o.lr = 0.001;
  o.threads = 1;
  o.workers = 1;
  o.seed = 2;
  o.log_every = 0;
  o.eval_batch_size = 50;
  Result<TrainSummary> one = Train(o);
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  o.batch_size = 4;
  auto two = TrainRanks(2, o);
  ASSERT_TRUE(two[0].ok()) << two[0].status().ToString();
  ASSERT_TRUE(two[1].ok()) << two[1].status().ToString();
  std::printf("test accuracy: 1 rank x 8: %.4f, 2 ranks x 4: %.4f\n", one->test_accuracy, two[0]->test_accuracy);
  EXPECT_GE(one->test_accuracy, 0.3);
  EXPECT_LT(one->test_accuracy, 0.9);
  EXPECT_EQ(two[0]->global_batch_size, 8);
  EXPECT_EQ(two[0]->steps, one->steps);
  EXPECT_NEAR(two[0]->test_accuracy, one->test_accuracy, 0.02);
  EXPECT_EQ(two[0]->test_accuracy, two[1]->test_accuracy);
  EXPECT_EQ(two[0]->weights_md5, two[1]->weights_md5);
}

// A rank interrupted mid-epoch still joins that step's collective, so the other rank stops at
// the same step with an error saying why, instead of waiting out the cluster's timeout; the
// run writes no model. (The in-process cluster's timeout is an hour here: a rank left waiting
// would hang the test, not pass it.)
TEST(DataParallel, AnInterruptedRankStopsEveryRank) {
  REQUIRE_PLUGIN();
  tb::testing::TempDir tmp;
  ASSERT_TRUE(dataset::testing::WriteTestDataset(tmp.path(), 1, 200, 8).ok());
  TrainOptions base;
  base.data_dir = tmp.path();
  base.epochs = 2;
  base.threads = 1;
  base.log_every = 5;
  base.model_dir = tmp / "model";
  std::atomic<bool> cancel{false};
  auto r = TrainRanks(
      2, base,
      [&](int rank, TrainOptions* o) {
        if (rank != 1) return;
        o->cancel = &cancel;
        o->progress = [&](const TrainProgress& p) {
          if (p.step >= 10) cancel = true;
        };
      },
      3600);
  ASSERT_FALSE(r[0].ok());
  ASSERT_FALSE(r[1].ok());
  EXPECT_TRUE(r[1].status().IsCancelled()) << r[1].status().ToString();
  EXPECT_TRUE(r[0].status().IsCancelled()) << r[0].status().ToString();
  EXPECT_NE(r[0].status().message().find("epoch 1, step 11: another rank was interrupted or failed"), std::string::npos)
      << r[0].status().message();
  EXPECT_TRUE(ReadFile(tmp / "model/model.pth").status().IsNotFound());
}

// A loss that diverges stops every rank at the same report step, each with the divergence
// error, and no rank waits for another.
TEST(DataParallel, DivergenceStopsEveryRank) {
  REQUIRE_PLUGIN();
  tb::testing::TempDir tmp;
  ASSERT_TRUE(dataset::testing::WriteTestDataset(tmp.path(), 1, 200, 8).ok());
  TrainOptions base;
  base.data_dir = tmp.path();
  base.epochs = 2;
  base.threads = 1;
  base.lr = 1000;
  base.log_every = 10;
  auto r = TrainRanks(2, base, {}, 3600);
  for (int rank = 0; rank < 2; ++rank) {
    ASSERT_FALSE(r[rank].ok()) << "rank " << rank;
    EXPECT_NE(r[rank].status().message().find("loss is nan/inf at epoch 1, step "), std::string::npos)
        << r[rank].status().message();
  }
}

// A collective that fails fails training, naming the step; settings that cannot form a
// group of ranks are refused before any data is read.
TEST(DataParallel, BadRanksAndFailedCollectivesAreErrors) {
  REQUIRE_PLUGIN();
  tb::testing::TempDir tmp;
  ASSERT_TRUE(dataset::testing::WriteTestDataset(tmp.path(), 1, 20, 4).ok());
  TrainOptions o;
  o.data_dir = tmp.path();
  o.threads = 1;
  o.world_size = 2;
  o.all_reduce_mean = [](float*, size_t) { return Status::Network("collective 'all-reduce': rank 1 did not arrive"); };
  Result<TrainSummary> r = Train(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "train: averaging gradients over 2 ranks at epoch 1, step 1: collective 'all-reduce': rank 1 did not "
            "arrive");
  o.rank = 2;
  EXPECT_TRUE(Train(o).status().IsInvalidArgument());
  o.rank = -1;
  EXPECT_TRUE(Train(o).status().IsInvalidArgument());
  o.rank = 1;
  o.all_reduce_mean = nullptr;
  r = Train(o);
  EXPECT_TRUE(r.status().IsInvalidArgument());
  EXPECT_NE(r.status().message().find("without a gradient all-reduce"), std::string::npos) << r.status().message();
  o.world_size = 0;
  o.rank = 0;
  EXPECT_TRUE(Train(o).status().IsInvalidArgument());
}

}  // namespace
}  // namespace tb::train
