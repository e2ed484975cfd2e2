#include "dataset/generate.h"

#include <gtest/gtest.h>

#include "dataset/cifar.h"
#include "dataset/manifest.h"
#include "util/fs.h"
#include "util/md5.h"
#include "util/testing.h"

namespace tb::dataset {
namespace {

GenerateOptions Small(const std::string& out, int threads) {
  GenerateOptions o;
  o.out_dir = out;
  o.train_files = 3;
  o.images_per_file = 257;
  o.test_images = 100;
  o.seed = 42;
  o.threads = threads;
  return o;
}

std::string ReadAll(const std::string& path) {
  auto r = ReadFile(path);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : "";
}

TEST(GenerateTest, ByteIdenticalAcrossRunsAndThreadCounts) {
  testing::TempDir a, b;
  auto ra = Generate(Small(a.path(), 1));
  auto rb = Generate(Small(b.path(), 4));
  ASSERT_TRUE(ra.ok()) << ra.status().ToString();
  ASSERT_TRUE(rb.ok()) << rb.status().ToString();
  EXPECT_EQ(ra->files, 6u);  // 3 training + test_batch + batches.meta + readme.html
  EXPECT_EQ(ra->tarball_md5, rb->tarball_md5);
  EXPECT_EQ(ReadAll(ra->manifest_path), ReadAll(rb->manifest_path));
  EXPECT_EQ(ReadAll(ra->tarball_path), ReadAll(rb->tarball_path));
  EXPECT_EQ(ToHex(Md5Of(ReadAll(ra->tarball_path))), ra->tarball_md5);
  EXPECT_EQ(ReadAll(ra->md5_path), ra->tarball_md5 + "  cifar-10-python.tar.gz\n");
  // A different seed gives different pixels.
  testing::TempDir c;
  GenerateOptions oc = Small(c.path(), 2);
  oc.seed = 43;
  auto rc = Generate(oc);
  ASSERT_TRUE(rc.ok());
  EXPECT_NE(ReadAll(rc->manifest_path), ReadAll(ra->manifest_path));
}

TEST(GenerateTest, OutputDecodesAndManifestVerifies) {
  testing::TempDir dir;
  GenerateOptions o = Small(dir.path(), 2);
  o.tarball = "none";
  auto r = Generate(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->tarball_path.empty());
  auto ds = FindDatasetDir(dir.path());
  ASSERT_TRUE(ds.ok());
  // readme.html as in the real archive: the redirect line and its newline, 88 bytes.
  std::string readme = ReadAll(*ds + "/readme.html");
  EXPECT_EQ(readme.size(), 88u);
  EXPECT_EQ(readme.back(), '\n');
  EXPECT_EQ(*ds, r->dataset_dir);
  auto train = LoadSplit(*ds, true, 2);
  ASSERT_TRUE(train.ok()) << train.status().ToString();
  EXPECT_EQ(train->count, 3u * 257u);
  EXPECT_EQ(train->files, 3);
  auto test = LoadSplit(*ds, false, 2);
  ASSERT_TRUE(test.ok());
  EXPECT_EQ(test->count, 100u);
  // All ten classes occur and the batch carries the real keys.
  std::vector<int> hist(10);
  for (uint8_t l : train->labels) ++hist.at(l);
  for (int h : hist) EXPECT_GT(h, 30);
  auto b = DecodeBatchFile(*ds + "/data_batch_2");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->batch_label, "training batch 2 of 3");
  EXPECT_EQ(b->filenames.size(), 257u);
  EXPECT_EQ(b->protocol, 2);
  EXPECT_TRUE(std::equal(b->pixels.begin(), b->pixels.end(), train->pixels.begin() + 257 * kImageBytes));
  auto names = ReadLabelNames(*ds + "/batches.meta");
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(names->at(9), "truck");

  auto text = ReadFile(r->manifest_path);
  ASSERT_TRUE(text.ok());
  auto entries = ParseManifest(*text, r->manifest_path);
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(entries->size(), 6u);
  EXPECT_EQ(entries->front().path, "cifar-10-batches-py/batches.meta");
  auto report = VerifyManifest(dir.path(), *entries, 2);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok());
}

TEST(GenerateTest, Protocol4AndRealGeometryMeta) {
  testing::TempDir dir;
  GenerateOptions o = Small(dir.path(), 2);
  o.protocol = 4;
  o.tarball = "tar";
  auto r = Generate(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto b = DecodeBatchFile(r->dataset_dir + "/test_batch");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->protocol, 4);
  EXPECT_EQ(b->batch_label, "testing batch 1 of 1");
  EXPECT_EQ(r->tarball_path, dir.path() + "/cifar-10-python.tar");
}

TEST(GenerateTest, RejectsBadOptions) {
  testing::TempDir dir;
  GenerateOptions o = Small(dir.path(), 1);
  o.protocol = 3;
  EXPECT_TRUE(Generate(o).status().IsInvalidArgument());
  o = Small(dir.path(), 1);
  o.tarball = "zip";
  EXPECT_TRUE(Generate(o).status().IsInvalidArgument());
  o = Small("", 1);
  EXPECT_TRUE(Generate(o).status().IsInvalidArgument());
  EXPECT_TRUE(ApplyPreset("nope", &o).IsInvalidArgument());
  ASSERT_TRUE(ApplyPreset("seed-1283", &o).ok());
  EXPECT_EQ(o.train_files, 1280);
}

}  // namespace
}  // namespace tb::dataset
