#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "pipeline/stage.h"
#include "util/fs.h"
#include "util/testing.h"

namespace tb::pipeline {
namespace {

std::vector<dataset::ManifestEntry> Entries(const std::vector<std::string>& paths) {
  std::vector<dataset::ManifestEntry> out;
  for (const auto& p : paths) out.push_back({"d41d8cd98f00b204e9800998ecf8427e", p});
  return out;
}

TEST(ApplyManifest, ListsTheManifestFilesAndReportsTheOthers) {
  testing::TempDir dir;
  std::string ds = dir / "cifar-10-batches-py";
  for (const char* f : {"data_batch_1", "data_batch_9", "batches.meta", "sub/extra"})
    ASSERT_TRUE(MakeDirs(std::filesystem::path(ds + "/" + f).parent_path().string()).ok() &&
                WriteFileAtomic(ds + "/" + f, "x").ok());
  auto entries = Entries({"cifar-10-batches-py/data_batch_1", "cifar-10-batches-py/batches.meta",
                          "cifar-10-batches-py.tar.gz", "other/data_batch_2"});
  JobConfig cfg;
  cfg.manifest = "m.md5";
  std::vector<std::string> warnings;
  for (const std::string& root : {dir.path(), dir.path() + "/", dir.path() + "/."}) {
    Context ctx(cfg);
    ctx.warn = [&](const std::string& line) { warnings.push_back(line); };
    ctx.data_root = root;
    ctx.dataset_dir = ds + (root.back() == '/' ? "/" : "");
    UnlistedFiles unlisted;
    ASSERT_TRUE(ApplyManifest(ctx, entries, &unlisted).ok()) << root;
    ASSERT_TRUE(ctx.verified_files.has_value());
    EXPECT_EQ(*ctx.verified_files, (std::vector<std::string>{"data_batch_1", "batches.meta"})) << root;
    ASSERT_NE(ctx.listed_files(), nullptr);
    EXPECT_EQ(unlisted.count, 2u) << root;
    std::sort(unlisted.first.begin(), unlisted.first.end());
    EXPECT_EQ(unlisted.first,
              (std::vector<std::string>{"cifar-10-batches-py/data_batch_9", "cifar-10-batches-py/sub/extra"}));
  }
  ASSERT_EQ(warnings.size(), 3u);
  EXPECT_NE(warnings[0].find("2 file(s) in " + ds + " not listed in m.md5"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("data_batch_9"), std::string::npos) << warnings[0];

  // verify.unlisted = "fail": an error naming them, and no warning.
  cfg.verify_unlisted = "fail";
  Context ctx(cfg);
  ctx.warn = [&](const std::string& line) { warnings.push_back(line); };
  ctx.data_root = dir.path();
  ctx.dataset_dir = ds;
  UnlistedFiles unlisted;
  Status s = ApplyManifest(ctx, entries, &unlisted);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(s.message().find("cifar-10-batches-py/data_batch_9"), std::string::npos) << s.message();
  EXPECT_EQ(unlisted.count, 2u);
  EXPECT_EQ(warnings.size(), 3u);
}

// The dataset folder is the data root itself (manifest paths with no folder).
TEST(ApplyManifest, FolderIsTheRoot) {
  testing::TempDir dir;
  ASSERT_TRUE(WriteFileAtomic(dir / "data_batch_1", "x").ok());
  JobConfig cfg;
  cfg.verify_unlisted = "fail";
  Context ctx(cfg);
  ctx.data_root = dir.path();
  ctx.dataset_dir = dir.path();
  UnlistedFiles unlisted;
  ASSERT_TRUE(ApplyManifest(ctx, Entries({"data_batch_1"}), &unlisted).ok());
  EXPECT_EQ(*ctx.verified_files, std::vector<std::string>{"data_batch_1"});
  EXPECT_EQ(unlisted.count, 0u);
}

}  // namespace
}  // namespace tb::pipeline
