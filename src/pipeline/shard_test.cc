// Several ranks as threads (launch::NewInProcessClusters) over a generated dataset: each file
// hashed, decoded and uploaded once across the ranks, staging once per host, preview and the
// model on rank 0, and rank 0's merged results carrying every rank.
#include "pipeline/shard.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "dataset/generate.h"
#include "dataset/manifest.h"
#include "launch/cluster.h"
#include "pipeline/merge.h"
#include "pipeline/runner.h"
#include "storage/s3_testing.h"
#include "train/plugin_abi.h"
#include "util/fs.h"
#include "util/testing.h"

namespace tb::pipeline {
namespace {

using report::StageStatus;
using tb::testing::TempDir;

// A small CIFAR-style dataset: 8 training batches, a test batch, meta and readme.
dataset::GenerateReport MakeDataset(const std::string& dir) {
  dataset::GenerateOptions o;
  o.out_dir = dir;
  o.train_files = 8;
  o.images_per_file = 6;
  o.test_images = 6;
  o.threads = 1;
  auto r = dataset::Generate(o);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : dataset::GenerateReport{};
}

std::vector<std::string> ManifestPaths(const std::string& manifest_path) {
  auto text = ReadFile(manifest_path);
  EXPECT_TRUE(text.ok());
  auto entries = dataset::ParseManifest(*text, manifest_path);
  EXPECT_TRUE(entries.ok());
  std::vector<std::string> out;
  for (const auto& e : *entries) out.push_back(e.path);
  std::sort(out.begin(), out.end());
  return out;
}

// An in-process rank placed on one of several pretend hosts: ranks are laid out host by host,
// `per_host` each ("host-0", "host-1", ...), with local ranks to match.
class OnHost : public launch::Cluster {
 public:
  OnHost(std::unique_ptr<launch::Cluster> inner, int per_host) : inner_(std::move(inner)), world_(inner_->world()) {
    world_.host = "host-" + std::to_string(world_.rank / per_host);
    world_.local_rank = world_.rank % per_host;
    world_.local_size = per_host;
  }
  const launch::World& world() const override { return world_; }
  Status Barrier(const std::string& tag) override { return inner_->Barrier(tag); }
  Result<std::vector<std::string>> AllGather(const std::string& tag, const std::string& mine) override {
    return inner_->AllGather(tag, mine);
  }
  Status AllReduceMean(float* data, size_t n) override { return inner_->AllReduceMean(data, n); }

 private:
  std::unique_ptr<launch::Cluster> inner_;
  launch::World world_;
};

// Runs body(rank, cluster) on `n` threads, one per rank, `per_host` ranks per host; returns
// once all are done.
void OnRanks(int n, const std::function<void(int, launch::Cluster&)>& body, int per_host = 0) {
  std::vector<std::unique_ptr<launch::Cluster>> clusters = launch::NewInProcessClusters(n, 30);
  for (auto& c : clusters) c = std::make_unique<OnHost>(std::move(c), per_host > 0 ? per_host : n);
  std::vector<std::thread> threads;
  for (int r = 0; r < n; ++r) threads.emplace_back([&, r] { body(r, *clusters[r]); });
  for (auto& t : threads) t.join();
}

JobConfig InplaceConfig(const TempDir& tmp, const dataset::GenerateReport& data) {
  JobConfig cfg;
  cfg.scenario = "inplace";
  cfg.label = "shard";
  cfg.inplace_dir = data.dataset_dir;
  cfg.manifest = data.manifest_path;
  cfg.scratch = tmp / "scratch";
  cfg.out = tmp / "out.json";
  cfg.log = tmp / "run.log";
  cfg.preview_out = tmp / "preview.png";
  cfg.model_dir = tmp / "model";
  cfg.enabled[static_cast<size_t>(StageId::kTrain)] = false;
  return cfg;
}

const report::StageResult& StageOf(const report::RunResult& run, const std::string& name) {
  for (const auto& s : run.stages)
    if (s.name == name) return s;
  static report::StageResult none;
  ADD_FAILURE() << "no stage " << name;
  return none;
}

// Merge: span from the first start to the last end, sums, aggregate MB/s, slowest rank, the
// worst status with the failing rank named, every rank's host.
TEST(Merge, SpanSumsSlowestRankAndWorstStatus) {
  auto rank = [](const std::string& host, double start, double seconds, uint64_t bytes, StageStatus status) {
    report::RunResult r;
    r.label = "m";
    r.host.hostname = host;
    r.total_seconds = seconds + 1;
    report::StageResult verify;
    verify.name = "verify";
    verify.status = status;
    verify.started_unix = start;
    verify.seconds = seconds;
    verify.bytes = bytes;
    verify.files = bytes / 10;
    if (status == StageStatus::kFailed) {
      verify.error = "stage verify: 1 file(s) differ";
      r.status = StageStatus::kFailed;
    }
    report::StageResult preview;
    preview.name = "preview";
    r.stages = {verify, preview};
    return r;
  };
  auto merged = MergeRankResults(
      {rank("a", 1000.0, 2.0, 1000, StageStatus::kOk), rank("b", 1000.5, 3.0, 3000, StageStatus::kFailed),
       rank("c", 999.75, 1.0, 2000, StageStatus::kOk)},
      "mpi");
  EXPECT_EQ(merged.world_size, 3);
  EXPECT_EQ(merged.launcher, "mpi");
  ASSERT_EQ(merged.ranks.size(), 3u);
  EXPECT_EQ(merged.ranks[1].host.hostname, "b");
  EXPECT_EQ(merged.ranks[1].status, StageStatus::kFailed);
  EXPECT_EQ(merged.status, StageStatus::kFailed);
  EXPECT_DOUBLE_EQ(merged.total_seconds, 4.0);
  const report::StageResult& v = merged.stages[0];
  EXPECT_DOUBLE_EQ(v.seconds, 1003.5 - 999.75);
  EXPECT_DOUBLE_EQ(v.started_unix, 999.75);
  EXPECT_EQ(v.bytes, 6000u);
  EXPECT_EQ(v.files, 600u);
  EXPECT_DOUBLE_EQ(v.mb_per_s, 6000 / 1e6 / 3.75);
  EXPECT_EQ(v.slowest_rank, 1);
  EXPECT_EQ(v.status, StageStatus::kFailed);
  EXPECT_EQ(v.error, "rank 1: stage verify: 1 file(s) differ");
  ASSERT_EQ(v.ranks.size(), 3u);
  EXPECT_DOUBLE_EQ(v.ranks[2].seconds, 1.0);
  // Skipped everywhere: no slowest rank, no time.
  EXPECT_EQ(merged.stages[1].status, StageStatus::kSkipped);
  EXPECT_EQ(merged.stages[1].slowest_rank, -1);
  EXPECT_EQ(merged.stages[1].seconds, 0);
}

// A rank whose results do not parse (hostile or broken) is named by rank 0; the others still
// get their own results back.
TEST(Merge, ARankSendingGarbageIsNamed) {
  auto clusters = launch::NewInProcessClusters(3, 30);
  report::RunResult mine;
  mine.label = "m";
  Result<report::RunResult> at_zero = Status::Internal("not run");
  std::thread zero([&] { at_zero = GatherAndMerge(*clusters[0], mine); });
  std::thread one([&] { (void)clusters[1]->AllGather("results", "{\"schema\": \"tierbench.run/1\", \"stages\": 7}"); });
  Result<report::RunResult> at_two = GatherAndMerge(*clusters[2], mine);
  zero.join();
  one.join();
  ASSERT_FALSE(at_zero.ok());
  EXPECT_NE(at_zero.status().message().find("results of rank 1"), std::string::npos) << at_zero.status().message();
  ASSERT_TRUE(at_two.ok());
  EXPECT_EQ(at_two->world_size, 1);
}

TEST(Share, DisjointCompleteAndBalanced) {
  std::vector<std::string> names;
  for (int i = 0; i < 23; ++i) names.push_back("f" + std::to_string((i * 7) % 23));
  for (int n : {1, 2, 3, 4, 30}) {
    std::multiset<std::string> seen;
    size_t smallest = names.size(), largest = 0;
    for (int r = 0; r < n; ++r) {
      auto mine = ShareOf(names, {r, n});
      smallest = std::min(smallest, mine.size());
      largest = std::max(largest, mine.size());
      seen.insert(mine.begin(), mine.end());
      // The same split whatever order the names come in.
      std::vector<std::string> reversed(names.rbegin(), names.rend());
      EXPECT_EQ(ShareOf(reversed, {r, n}), mine);
    }
    EXPECT_EQ(seen, std::multiset<std::string>(names.begin(), names.end())) << n << " ranks";
    EXPECT_LE(largest - smallest, 1u) << n << " ranks";
  }
}

// In place, N ranks: each manifest file hashed by exactly one rank, the union is the manifest,
// and every rank ends with the whole verified list.
void CheckVerifyShares(int n) {
  TempDir tmp;
  auto data = MakeDataset(tmp / "data");
  JobConfig cfg = InplaceConfig(tmp, data);
  const std::vector<std::string> manifest = ManifestPaths(data.manifest_path);
  std::vector<std::vector<std::string>> hashed(n), verified(n);
  std::vector<report::StageResult> results(n);
  OnRanks(n, [&](int r, launch::Cluster& cluster) {
    Context ctx(cfg);
    ctx.cluster = &cluster;
    ctx.log = ctx.warn = [](const std::string&) {};
    ctx.dataset_dir = data.dataset_dir;
    ctx.data_root = std::filesystem::path(data.dataset_dir).parent_path().string();
    results[r].name = "verify";
    Status s = NewVerifyStage()->Run(ctx, results[r]);
    EXPECT_TRUE(s.ok()) << "rank " << r << ": " << s.ToString();
    hashed[r] = ctx.hashed_files;
    if (ctx.verified_files) verified[r] = *ctx.verified_files;
  });
  std::multiset<std::string> all;
  uint64_t files = 0;
  for (int r = 0; r < n; ++r) {
    EXPECT_FALSE(hashed[r].empty()) << "rank " << r;
    all.insert(hashed[r].begin(), hashed[r].end());
    files += results[r].files;
    std::vector<std::string> v = verified[r];
    std::vector<std::string> want;
    for (const auto& p : manifest) want.push_back(std::filesystem::path(p).filename().string());
    std::sort(v.begin(), v.end());
    std::sort(want.begin(), want.end());
    EXPECT_EQ(v, want) << "rank " << r << " does not read exactly the manifest's files";
  }
  EXPECT_EQ(all, std::multiset<std::string>(manifest.begin(), manifest.end()));
  EXPECT_EQ(files, manifest.size());
}

TEST(ShardedVerify, TwoRanksHashEachFileOnce) { CheckVerifyShares(2); }
TEST(ShardedVerify, FourRanksHashEachFileOnce) { CheckVerifyShares(4); }

// A corrupt file fails verify on every rank: the rank that hashed it names the file, the
// others (whose own share was fine) fail through the runner's frame, naming that rank.
TEST(ShardedVerify, ACorruptFileFailsEveryRankNamingTheRankThatFoundIt) {
  TempDir tmp;
  auto data = MakeDataset(tmp / "data");
  JobConfig cfg = InplaceConfig(tmp, data);
  {
    std::ofstream f(data.dataset_dir + "/data_batch_3", std::ios::binary | std::ios::app);
    f << "tampered";
  }
  const int n = 3;
  std::vector<report::RunResult> runs(n);
  OnRanks(n, [&](int r, launch::Cluster& cluster) {
    RunOptions o;
    o.cluster = &cluster;
    o.progress = ProgressMode::kOff;
    runs[r] = RunPipeline(cfg, o);
  });
  int finder = -1;
  for (int r = 0; r < n; ++r) {
    const report::StageResult& verify = StageOf(runs[r], "verify");
    ASSERT_EQ(verify.status, StageStatus::kFailed) << "rank " << r;
    if (verify.error.find("data_batch_3") != std::string::npos && verify.error.find("differ") != std::string::npos &&
        verify.error.find("failed:") == std::string::npos) {
      EXPECT_EQ(finder, -1) << "two ranks hashed data_batch_3";
      finder = r;
    }
    EXPECT_EQ(StageOf(runs[r], "pickled").status, StageStatus::kSkipped) << "rank " << r;
  }
  ASSERT_GE(finder, 0) << StageOf(runs[0], "verify").error;
  for (int r = 0; r < n; ++r) {
    if (r == finder) continue;
    const std::string& error = StageOf(runs[r], "verify").error;
    EXPECT_NE(error.find("rank " + std::to_string(finder) + " failed"), std::string::npos) << error;
  }
  EXPECT_EQ(runs[0].status, StageStatus::kFailed);
}

// The whole in-place pipeline on N ranks: rank 0 returns the merged results with every rank.
void CheckMergedInplaceRun(int n) {
  TempDir tmp;
  auto data = MakeDataset(tmp / "data");
  JobConfig cfg = InplaceConfig(tmp, data);
  const size_t manifest_files = ManifestPaths(data.manifest_path).size();
  std::vector<report::RunResult> runs(n);
  OnRanks(n, [&](int r, launch::Cluster& cluster) {
    RunOptions o;
    o.cluster = &cluster;
    o.progress = ProgressMode::kOff;
    runs[r] = RunPipeline(cfg, o);
  });
  const report::RunResult& merged = runs[0];
  ASSERT_EQ(merged.status, StageStatus::kOk) << report::ToJson(merged);
  EXPECT_EQ(merged.world_size, n);
  EXPECT_EQ(merged.launcher, "in-process");
  ASSERT_EQ(merged.ranks.size(), static_cast<size_t>(n));
  for (int r = 0; r < n; ++r) {
    EXPECT_EQ(merged.ranks[r].rank, r);
    EXPECT_FALSE(merged.ranks[r].host.hostname.empty());
    EXPECT_EQ(runs[r].status, StageStatus::kOk);
    if (r > 0) EXPECT_EQ(runs[r].world_size, 1) << "only rank 0 merges";
  }
  const report::StageResult& verify = StageOf(merged, "verify");
  ASSERT_EQ(verify.ranks.size(), static_cast<size_t>(n));
  uint64_t files = 0, bytes = 0;
  double longest = 0;
  for (const auto& part : verify.ranks) {
    EXPECT_EQ(part.status, StageStatus::kOk);
    EXPECT_GT(part.files, 0u) << "rank " << part.rank << " hashed nothing";
    files += part.files;
    bytes += part.bytes;
    longest = std::max(longest, part.seconds);
  }
  EXPECT_EQ(files, manifest_files);
  EXPECT_EQ(verify.files, manifest_files);
  EXPECT_EQ(verify.bytes, bytes);
  EXPECT_GE(verify.seconds, longest);  // the span covers every rank
  ASSERT_GE(verify.slowest_rank, 0);
  EXPECT_EQ(verify.ranks[verify.slowest_rank].seconds, longest);
  EXPECT_NEAR(verify.mb_per_s, static_cast<double>(bytes) / 1e6 / verify.seconds, 1e-9);
  // pickled: the 9 batch files decoded once across the ranks.
  const report::StageResult& pickled = StageOf(merged, "pickled");
  EXPECT_EQ(pickled.files, 9u);
  uint64_t pickled_files = 0;
  for (const auto& part : pickled.ranks) pickled_files += part.files;
  EXPECT_EQ(pickled_files, 9u);
  // preview: one picture, by rank 0.
  const report::StageResult& preview = StageOf(merged, "preview");
  EXPECT_EQ(preview.ranks[0].files, 1u);
  for (int r = 1; r < n; ++r) EXPECT_EQ(preview.ranks[r].files, 0u) << "rank " << r;
  EXPECT_TRUE(std::filesystem::exists(cfg.preview_out));
  // The merged document survives its own round trip.
  auto parsed = report::ParseRunResult(report::ToJson(merged), "merged.json");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->world_size, n);
  EXPECT_EQ(parsed->ranks.size(), static_cast<size_t>(n));
  EXPECT_EQ(StageOf(*parsed, "verify").ranks.size(), static_cast<size_t>(n));
  EXPECT_EQ(StageOf(*parsed, "verify").slowest_rank, verify.slowest_rank);
}

TEST(ShardedRun, TwoRanksInPlaceMergedAtRankZero) { CheckMergedInplaceRun(2); }
TEST(ShardedRun, FourRanksInPlaceMergedAtRankZero) { CheckMergedInplaceRun(4); }

// Staged, streaming asked for or not (several ranks run the stages in order), 4 ranks on 2
// hosts, a scratch per rank as the CLI gives them (<scratch>/rankN): download and extract run
// once per host (its local rank 0, into its scratch); the host's other rank uses that copy by
// its path; each host's copy is verified in full, each file hashed once per host.
void CheckStagedOncePerHost(bool stream) {
  TempDir tmp;
  auto data = MakeDataset(tmp / "data");
  JobConfig cfg = InplaceConfig(tmp, data);
  cfg.scenario = "staged";
  cfg.inplace_dir.clear();
  cfg.origin_url = data.tarball_path;
  cfg.origin_md5 = data.tarball_md5;
  cfg.stream = stream;
  const size_t manifest_files = ManifestPaths(data.manifest_path).size();
  const int n = 4;
  std::vector<report::RunResult> runs(n);
  OnRanks(
      n,
      [&](int r, launch::Cluster& cluster) {
        JobConfig mine = cfg;
        mine.scratch = tmp / ("scratch/rank" + std::to_string(r));
        RunOptions o;
        o.cluster = &cluster;
        o.progress = ProgressMode::kOff;
        runs[r] = RunPipeline(mine, o);
      },
      2);
  const report::RunResult& merged = runs[0];
  ASSERT_EQ(merged.status, StageStatus::kOk) << report::ToJson(merged);
  for (const char* stage : {"download", "extract"}) {
    const report::StageResult& s = StageOf(merged, stage);
    ASSERT_EQ(s.ranks.size(), 4u);
    for (int r = 0; r < n; ++r) {
      EXPECT_EQ(s.ranks[r].status, StageStatus::kOk) << stage << " rank " << r;
      if (r % 2 == 0)
        EXPECT_GT(s.ranks[r].bytes, 0u) << stage << " rank " << r;
      else
        EXPECT_EQ(s.ranks[r].bytes, 0u) << stage << ": rank " << r << " did it again";
    }
    EXPECT_EQ(s.bytes, s.ranks[0].bytes + s.ranks[2].bytes);
  }
  for (int r : {1, 3}) {
    auto detail = nlohmann::json::parse(StageOf(runs[r], "download").detail_json);
    EXPECT_EQ(detail.value("by_rank", -1), r - 1) << StageOf(runs[r], "download").detail_json;
  }
  for (int r = 0; r < n; ++r) {  // staged by each host's leader only
    const std::string path = tmp / ("scratch/rank" + std::to_string(r) + "/extract/cifar-10-batches-py/data_batch_1");
    EXPECT_EQ(std::filesystem::exists(path), r % 2 == 0) << path;
  }
  auto log = ReadFile(cfg.log);
  ASSERT_TRUE(log.ok());
  if (stream)
    EXPECT_NE(log->find("several ranks: download..verify run in order, once per host"), std::string::npos) << *log;
  EXPECT_EQ(log->find("(streaming)"), std::string::npos) << *log;
  const report::StageResult& verify = StageOf(merged, "verify");
  EXPECT_EQ(verify.status, StageStatus::kOk);
  EXPECT_EQ(verify.files, 2 * manifest_files) << "each host's copy verified once";
  EXPECT_EQ(StageOf(merged, "pickled").files, 2 * 9u) << "each host's copy decoded once";
}

TEST(ShardedRun, StagedDownloadsOncePerHost) { CheckStagedOncePerHost(false); }
TEST(ShardedRun, StagedStreamingDownloadsOncePerHost) { CheckStagedOncePerHost(true); }

// A corrupt tarball (its md5 does not match) fails integrity on every rank: the host's other
// rank names the rank that checked it, and no stage after it runs anywhere.
void CheckStagedIntegrityFailure(bool stream) {
  TempDir tmp;
  auto data = MakeDataset(tmp / "data");
  JobConfig cfg = InplaceConfig(tmp, data);
  cfg.scenario = "staged";
  cfg.inplace_dir.clear();
  cfg.origin_url = data.tarball_path;
  cfg.origin_md5 = std::string(32, '0');
  cfg.stream = stream;
  std::vector<report::RunResult> runs(2);
  OnRanks(2, [&](int r, launch::Cluster& cluster) {
    RunOptions o;
    o.cluster = &cluster;
    o.progress = ProgressMode::kOff;
    runs[r] = RunPipeline(cfg, o);
  });
  const report::RunResult& merged = runs[0];
  EXPECT_EQ(merged.status, StageStatus::kFailed);
  const report::StageResult& integrity = StageOf(merged, "integrity");
  EXPECT_EQ(integrity.status, StageStatus::kFailed);
  ASSERT_EQ(integrity.ranks.size(), 2u);
  EXPECT_EQ(integrity.ranks[1].status, StageStatus::kFailed);
  const std::string& error = StageOf(runs[1], "integrity").error;
  EXPECT_NE(error.find("rank 0 (host host-0)"), std::string::npos) << error;
  EXPECT_NE(error.find("md5"), std::string::npos) << error;
  EXPECT_EQ(error.find("stage integrity: stage integrity"), std::string::npos) << error;
  EXPECT_EQ(StageOf(merged, "pickled").status, StageStatus::kSkipped);
}

TEST(ShardedRun, StagedCorruptTarballFailsEveryRank) { CheckStagedIntegrityFailure(false); }
TEST(ShardedRun, StagedStreamingCorruptTarballFailsEveryRank) { CheckStagedIntegrityFailure(true); }

// distribution = "sharded": each rank's training input holds its share of the training
// batches and every other file; replicated would hand every rank all of them.
TEST(ShardedTrainInput, EachRankGetsItsBatchesAndTheCommonFiles) {
  TempDir tmp;
  auto data = MakeDataset(tmp / "data");
  JobConfig cfg = InplaceConfig(tmp, data);
  std::multiset<std::string> batches;
  for (int r = 0; r < 3; ++r) {
    Context ctx(cfg);
    auto share = ShareBatches(ctx, data.dataset_dir, false, {r, 3});
    ASSERT_TRUE(share.ok()) << share.status().ToString();
    EXPECT_EQ(share->batches.size(), 8u);
    batches.insert(share->mine.begin(), share->mine.end());
    for (const char* common : {"batches.meta", "test_batch", "readme.html"})
      EXPECT_EQ(std::count(share->listed.begin(), share->listed.end(), common), 1) << common;
    for (const auto& b : share->batches) {
      bool mine = std::count(share->mine.begin(), share->mine.end(), b) == 1;
      EXPECT_EQ(std::count(share->listed.begin(), share->listed.end(), b), mine ? 1 : 0) << b;
    }
  }
  EXPECT_EQ(batches.size(), 8u);
  EXPECT_EQ(std::set<std::string>(batches.begin(), batches.end()).size(), 8u);
}

// Training on 2 ranks: "sharded" gives each rank half the training batches (disjoint),
// "replicated" all of them; only rank 0 writes the model.
void CheckTrainDistribution(const std::string& distribution) {
  std::string plugin = std::string(TB_BINARY_DIR) + "/" + train::kTorchPluginName;
  if (!std::filesystem::exists(plugin)) GTEST_SKIP() << "built without libtorch (no " << plugin << ")";
  setenv("TB_TORCH_PLUGIN", plugin.c_str(), 1);
  TempDir tmp;
  auto data = MakeDataset(tmp / "data");
  JobConfig cfg = InplaceConfig(tmp, data);
  cfg.enabled[static_cast<size_t>(StageId::kTrain)] = true;
  cfg.enabled[static_cast<size_t>(StageId::kPreview)] = false;
  cfg.distribution = distribution;
  cfg.epochs = 1;
  cfg.max_steps = 2;
  cfg.threads = 1;
  cfg.workers = 1;
  const int n = 2;
  std::vector<report::RunResult> runs(n);
  OnRanks(n, [&](int r, launch::Cluster& cluster) {
    RunOptions o;
    o.cluster = &cluster;
    o.progress = ProgressMode::kOff;
    runs[r] = RunPipeline(cfg, o);
  });
  std::multiset<std::string> shards;
  for (int r = 0; r < n; ++r) {
    const report::StageResult& train = StageOf(runs[r], "train");
    ASSERT_EQ(train.status, StageStatus::kOk) << "rank " << r << ": " << train.error;
    auto detail = nlohmann::json::parse(train.detail_json);
    if (distribution == "sharded") {
      ASSERT_TRUE(detail.contains("shard_files")) << train.detail_json;
      for (const auto& f : detail["shard_files"]) shards.insert(f.get<std::string>());
      EXPECT_EQ(detail["shard_files"].size(), 4u);
      EXPECT_EQ(detail.value("train_images", 0), 4 * 6);
      // Its own files are its share: every image of them, not half again.
      EXPECT_EQ(detail.value("rank_images", 0), 4 * 6) << train.detail_json;
      EXPECT_EQ(detail.value("sample_split", std::string()), "files");
    } else {
      EXPECT_FALSE(detail.contains("shard_files"));
      EXPECT_EQ(detail.value("train_images", 0), 8 * 6);
      EXPECT_EQ(detail.value("rank_images", 0), 8 * 6 / 2) << train.detail_json;  // DistributedSampler's split
      EXPECT_EQ(detail.value("sample_split", std::string()), "rank");
    }
    EXPECT_EQ(detail.value("world_size", 0), 2);
    EXPECT_EQ(detail.value("model", std::string()).empty(), r != 0) << "rank " << r << ": " << train.detail_json;
  }
  if (distribution == "sharded") {
    EXPECT_EQ(shards.size(), 8u);
    EXPECT_EQ(std::set<std::string>(shards.begin(), shards.end()).size(), 8u) << "a batch trained on by two ranks";
  }
}

TEST(ShardedRun, TrainShardedGivesEachRankItsBatches) { CheckTrainDistribution("sharded"); }
TEST(ShardedRun, TrainReplicatedGivesEachRankEveryBatch) { CheckTrainDistribution("replicated"); }

// Sharded over 3 ranks, 8 batch files: shares of 3, 3 and 2 files (18, 18 and 12 images). A
// whole epoch (no step limit) still takes the same number of steps on every rank: the rank
// with 12 images repeats 6, instead of leaving the others waiting in the gradient all-reduce.
TEST(ShardedRun, TrainShardedUnevenSharesTakeTheSameSteps) {
  std::string plugin = std::string(TB_BINARY_DIR) + "/" + train::kTorchPluginName;
  if (!std::filesystem::exists(plugin)) GTEST_SKIP() << "built without libtorch (no " << plugin << ")";
  setenv("TB_TORCH_PLUGIN", plugin.c_str(), 1);
  TempDir tmp;
  auto data = MakeDataset(tmp / "data");
  JobConfig cfg = InplaceConfig(tmp, data);
  cfg.enabled[static_cast<size_t>(StageId::kTrain)] = true;
  cfg.enabled[static_cast<size_t>(StageId::kPreview)] = false;
  cfg.distribution = "sharded";
  cfg.epochs = 1;
  cfg.batch_size = 4;
  cfg.threads = 1;
  cfg.workers = 1;
  const int n = 3;
  std::vector<report::RunResult> runs(n);
  OnRanks(n, [&](int r, launch::Cluster& cluster) {
    RunOptions o;
    o.cluster = &cluster;
    o.progress = ProgressMode::kOff;
    runs[r] = RunPipeline(cfg, o);
  });
  std::vector<int> images;
  for (int r = 0; r < n; ++r) {
    const report::StageResult& train = StageOf(runs[r], "train");
    ASSERT_EQ(train.status, StageStatus::kOk) << "rank " << r << ": " << train.error;
    auto detail = nlohmann::json::parse(train.detail_json);
    images.push_back(detail.value("train_images", 0));
    EXPECT_EQ(detail.value("rank_images", 0), 18) << "rank " << r;
    EXPECT_EQ(detail.value("steps", 0), 5) << "rank " << r << ": 18 images in batches of 4";
  }
  std::sort(images.begin(), images.end());
  EXPECT_EQ(images, (std::vector<int>{12, 18, 18}));
}

// Upload to the real RGW from 4 ranks: each file uploaded by one rank, every key there once.
TEST(ShardedUpload, FourRanksUploadEachFileOnce) {
  TB_REQUIRE_SERVICE("TB_S3_ENDPOINT");
  storage::testing::ScratchBucket bucket(storage::testing::S3TestOptions());
  TempDir tmp;
  auto data = MakeDataset(tmp / "data");
  JobConfig cfg = InplaceConfig(tmp, data);
  cfg.upload_dest = "s3://" + bucket.name() + "/shard";
  cfg.s3_endpoint_url = tb::testing::Env("TB_S3_ENDPOINT");
  cfg.retries = 2;
  cfg.enabled[static_cast<size_t>(StageId::kPreview)] = false;
  const int n = 4;
  std::vector<report::RunResult> runs(n);
  OnRanks(n, [&](int r, launch::Cluster& cluster) {
    RunOptions o;
    o.cluster = &cluster;
    o.progress = ProgressMode::kOff;
    runs[r] = RunPipeline(cfg, o);
  });
  const report::StageResult& upload = StageOf(runs[0], "upload");
  ASSERT_EQ(upload.status, StageStatus::kOk) << report::ToJson(runs[0]);
  std::set<std::string> local;
  for (const auto& e : std::filesystem::directory_iterator(data.dataset_dir))
    local.insert(e.path().filename().string());
  uint64_t sum = 0;
  for (const auto& part : upload.ranks) {
    EXPECT_GT(part.files, 0u) << "rank " << part.rank;
    sum += part.files;
  }
  EXPECT_EQ(sum, local.size()) << "a file uploaded twice or not at all";
  auto listed = bucket.client().ListObjectsV2(bucket.name(), "shard/");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  std::set<std::string> remote;
  for (const auto& e : *listed) remote.insert(e.key.substr(std::string("shard/cifar-10-batches-py/").size()));
  EXPECT_EQ(remote, local);
}

}  // namespace
}  // namespace tb::pipeline
