#include "util/path_guard.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "util/fs.h"
#include "util/testing.h"

namespace tb {
namespace {

namespace fs = std::filesystem;

// A job file, a manifest and a dataset folder with two files, as a run reads them.
struct Inputs {
  testing::TempDir dir;
  std::string job = dir / "job.toml", manifest = dir / "data.md5", data = dir / "cifar-10-batches-py";
  Inputs() {
    EXPECT_TRUE(WriteFileAtomic(job, "label = \"x\"\n").ok());
    EXPECT_TRUE(WriteFileAtomic(manifest, "0123456789abcdef0123456789abcdef  cifar-10-batches-py/a\n").ok());
    EXPECT_TRUE(MakeDirs(data + "/sub").ok());
    EXPECT_TRUE(WriteFileAtomic(data + "/data_batch_1", "pixels").ok());
    EXPECT_TRUE(WriteFileAtomic(data + "/sub/deep", "deeper").ok());
  }
  PathGuard Guard() const {
    PathGuard g;
    g.AddInputFile("the job file", job);
    g.AddInputFile("key 'origin.manifest'", manifest);
    g.AddInputDir("the dataset folder", data);
    return g;
  }
};

void ExpectRefused(const Status& s, const std::vector<std::string>& parts) {
  ASSERT_FALSE(s.ok()) << "accepted, expected a refusal naming " << parts.front();
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  for (const auto& part : parts) EXPECT_NE(s.message().find(part), std::string::npos) << s.message() << " lacks " << part;
}

TEST(PathGuard, OutputNamingAnInputFileIsRefused) {
  Inputs in;
  ExpectRefused(in.Guard().AddOutputFile("--out", in.job), {"--out", in.job, "the job file"});
  ExpectRefused(in.Guard().AddOutputFile("--log", in.manifest), {"--log", "origin.manifest"});
  // The same file through another spelling, a symlink and a hard link.
  std::string spelled = in.dir.path() + "/./sub/../job.toml";
  ExpectRefused(in.Guard().AddOutputFile("--out", spelled), {"the job file"});
  fs::create_symlink(in.job, in.dir / "link.json");
  ExpectRefused(in.Guard().AddOutputFile("--out", in.dir / "link.json"), {"the job file"});
  ASSERT_EQ(::link(in.manifest.c_str(), (in.dir / "hard.json").c_str()), 0);
  ExpectRefused(in.Guard().AddOutputFile("--out", in.dir / "hard.json"), {"origin.manifest"});
}

TEST(PathGuard, OutputInsideTheDatasetIsRefused) {
  Inputs in;
  // An existing dataset file, a new file, a new file two folders down, and a hard link to a
  // dataset file from outside the folder.
  ExpectRefused(in.Guard().AddOutputFile("--preview-out", in.data + "/data_batch_1"),
                {"--preview-out", "data_batch_1", "a file of the dataset folder"});
  ExpectRefused(in.Guard().AddOutputFile("--out", in.data + "/new.json"), {"--out", "lies inside", "the dataset folder"});
  ExpectRefused(in.Guard().AddOutputFile("--out", in.data + "/x/y/new.json"), {"lies inside"});
  ASSERT_EQ(::link((in.data + "/sub/deep").c_str(), (in.dir / "elsewhere").c_str()), 0);
  ExpectRefused(in.Guard().AddOutputFile("--out", in.dir / "elsewhere"), {"a file of the dataset folder"});
  // Through a symlinked folder, and through a dangling symlink whose target is in the dataset.
  fs::create_directory_symlink(in.data, in.dir / "alias");
  ExpectRefused(in.Guard().AddOutputFile("--log", in.dir / "alias/new.log"), {"lies inside"});
  fs::create_symlink(in.data + "/not-yet", in.dir / "dangling.log");
  ExpectRefused(in.Guard().AddOutputFile("--log", in.dir / "dangling.log"), {"lies inside"});
  // A folder written into, inside the dataset or the dataset itself.
  ExpectRefused(in.Guard().AddOutputDir("--model-dir", in.data), {"--model-dir"});
  ExpectRefused(in.Guard().AddOutputDir("--model-dir", in.data + "/model"), {"--model-dir", "lies inside"});
}

TEST(PathGuard, UnrelatedOutputsAreAccepted) {
  Inputs in;
  PathGuard g = in.Guard();
  // A sibling whose name starts like the dataset folder's is not inside it.
  EXPECT_TRUE(g.AddOutputFile("--out", in.dir / "cifar-10-batches-py.json").ok());
  EXPECT_TRUE(g.AddOutputFile("--log", in.dir / "runs/x.log").ok());
  EXPECT_TRUE(g.AddOutputDir("--model-dir", in.dir / "cifar-10-batches-py-model").ok());
  // Inputs that do not exist locally are ignored.
  g.AddInputFile("key 'origin.url'", LocalPathOf("http://127.0.0.1/cifar-10-python.tar.gz"));
  g.AddInputFile("key 'origin.md5_file'", in.dir / "missing.md5");
  EXPECT_TRUE(g.AddOutputFile("--preview-out", in.dir / "missing.md5.png").ok());
}

TEST(PathGuard, OutputsMustNotShareAPath) {
  Inputs in;
  PathGuard g = in.Guard();
  ASSERT_TRUE(g.AddOutputFile("key 'out'", in.dir / "r.json").ok());
  ExpectRefused(g.AddOutputFile("key 'log'", in.dir / "./r.json"), {"key 'log'", "is also", "key 'out'"});
}

TEST(PathGuard, ExistingFolderIsNoOutputFile) {
  testing::TempDir dir;
  ASSERT_TRUE(MakeDirs(dir / "runs").ok());
  PathGuard g;
  ExpectRefused(g.AddOutputFile("--out", dir / "runs"), {"--out", "is a folder"});
  EXPECT_TRUE(g.AddOutputFile("--out", dir / "runs/r.json").ok());
}

TEST(PathGuard, ReplacedFolderMayHoldNoInputAndNoOutput) {
  Inputs in;
  {  // an input inside a folder the command empties
    PathGuard g = in.Guard();
    ExpectRefused(g.AddOutputDir("key 'scratch'", in.dir.path(), true), {"key 'scratch'", "contains"});
  }
  {  // an output inside it, whichever is registered first
    PathGuard g;
    ASSERT_TRUE(g.AddOutputDir("extract", in.dir / "scratch/extract", true).ok());
    ExpectRefused(g.AddOutputFile("--out", in.dir / "scratch/extract/r.json"), {"--out", "lies inside", "extract"});
    ExpectRefused(g.AddOutputDir("--model-dir", in.dir / "scratch/extract/m"), {"--model-dir", "lies inside"});
    EXPECT_TRUE(g.AddOutputFile("tarball", in.dir / "scratch/x.tar.gz").ok());
  }
  {
    PathGuard g;
    ASSERT_TRUE(g.AddOutputFile("--out", in.dir / "scratch/extract/r.json").ok());
    ExpectRefused(g.AddOutputDir("extract", in.dir / "scratch/extract", true), {"extract", "contains", "--out"});
  }
}

TEST(PathGuard, PathHelpers) {
  EXPECT_TRUE(PathIsWithin("/a/b/c", "/a/b"));
  EXPECT_TRUE(PathIsWithin("/a/b", "/a/b/"));
  EXPECT_FALSE(PathIsWithin("/a/bc", "/a/b"));
  EXPECT_FALSE(PathIsWithin("/a", "/a/b"));
  EXPECT_EQ(LocalPathOf("file:///x/y"), "/x/y");
  EXPECT_EQ(LocalPathOf("rel/y"), "rel/y");
  EXPECT_EQ(LocalPathOf("s3://b/k"), "");
}

}  // namespace
}  // namespace tb
