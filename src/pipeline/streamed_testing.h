// Test helper: the streamed scenario over mem:// — a small CIFAR-10 dataset and its manifest
// put into a mem:// namespace, a job config reading it, and stages run on a Context.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "dataset/cifar_testing.h"
#include "dataset/manifest.h"
#include "pipeline/stage.h"
#include "util/fs.h"
#include "util/md5.h"
#include "util/testing.h"

namespace tb::pipeline::streamed_testing {

inline constexpr int kFiles = 5, kPerFile = 6, kTestImages = 4;
inline const char* const kNames[] = {"data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4",
                                     "data_batch_5", "test_batch",   "batches.meta"};

inline void Put(const std::string& ns, const std::string& key, const std::string& bytes) {
  auto mem = storage::Open("mem://" + ns, storage::Options{});
  ASSERT_TRUE(mem.ok());
  auto w = (*mem)->OpenWrite(key);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Append(bytes).ok());
  ASSERT_TRUE((*w)->Commit().ok());
}

// The dataset and its manifest in mem://`ns` (cifar-10-batches-py/ and its .md5 beside it).
// Returns each file's bytes by name.
inline std::map<std::string, std::string> PutDataset(const std::string& ns) {
  tb::testing::TempDir tmp;
  auto dir = dataset::testing::WriteTestDataset(tmp.path(), kFiles, kPerFile, kTestImages);
  EXPECT_TRUE(dir.ok()) << dir.status().ToString();
  storage::NewMemoryStorage(ns);
  std::map<std::string, std::string> files;
  std::vector<dataset::ManifestEntry> manifest;
  for (const char* name : kNames) {
    auto bytes = ReadFile(*dir + "/" + name);
    EXPECT_TRUE(bytes.ok());
    files[name] = *bytes;
    Put(ns, std::string("cifar-10-batches-py/") + name, *bytes);
    manifest.push_back({ToHex(Md5Of(*bytes)), std::string("cifar-10-batches-py/") + name});
  }
  Put(ns, "cifar-10-batches-py.md5", dataset::FormatManifest(manifest));
  return files;
}

inline JobConfig Streamed(const std::string& ns) {
  JobConfig cfg;
  cfg.scenario = "streamed";
  cfg.dataset_uri = "mem://" + ns + "/cifar-10-batches-py";
  cfg.manifest = "mem://" + ns + "/cifar-10-batches-py.md5";
  cfg.verify_threads = 1;  // the manifest's order: which files fit the limit is fixed
  return cfg;
}

struct Ran {
  Status status;
  nlohmann::json detail;
  uint64_t bytes = 0, files = 0;
};

inline Ran RunStage(std::unique_ptr<Stage> stage, Context& ctx) {
  report::StageResult result;
  Ran ran;
  ran.status = stage->Run(ctx, result);
  if (!result.detail_json.empty()) ran.detail = nlohmann::json::parse(result.detail_json);
  ran.bytes = result.bytes;
  ran.files = result.files;
  return ran;
}

inline void Quiet(Context& ctx) {
  ctx.log = ctx.warn = [](const std::string&) {};
  ctx.progress = ProgressMode::kOff;
  ctx.dataset_uri = ctx.cfg.dataset_uri;
}

}  // namespace tb::pipeline::streamed_testing
