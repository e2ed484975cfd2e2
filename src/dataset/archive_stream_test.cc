// ExtractStream: the streaming form of ExtractArchive, with per-member verification.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <map>

#include "dataset/archive.h"
#include "dataset/generate.h"
#include "util/fs.h"
#include "util/md5.h"
#include "util/testing.h"

namespace tb::dataset {
namespace {

// Reads a file through the ArchiveReadFn interface in small pieces, like a network stream.
ArchiveReadFn FileReader(const std::string& bytes, size_t* offset) {
  return [&bytes, offset](char* buf, size_t n) -> Result<size_t> {
    size_t take = std::min<size_t>({n, bytes.size() - *offset, 7000});
    std::memcpy(buf, bytes.data() + *offset, take);
    *offset += take;
    return take;
  };
}

class ExtractStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    GenerateOptions g;
    g.out_dir = dir_.path() + "/gen";
    g.train_files = 2;
    g.images_per_file = 20;
    g.test_images = 10;
    auto r = Generate(g);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    auto bytes = ReadFile(r->tarball_path);
    ASSERT_TRUE(bytes.ok());
    tarball_ = *bytes;
  }
  testing::TempDir dir_;
  std::string tarball_;
};

TEST_F(ExtractStreamTest, ExtractsAndHashesEveryMember) {
  size_t offset = 0;
  std::map<std::string, std::string> seen;
  ExtractOptions options;
  options.keep_member_bytes = 1 << 20;
  options.defer_member = [&](PendingMember m) {
    EXPECT_TRUE(m.has_data) << m.path;
    seen[m.path] = ToHex(Md5Of(m.data));
    return m.file.Commit();
  };
  auto stats = ExtractStream(FileReader(tarball_, &offset), "test://stream", dir_ / "out", options);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->files, 5u);
  ASSERT_EQ(seen.size(), 5u);
  for (const auto& [path, md5] : seen) {
    auto d = Md5File(dir_.path() + "/out/" + path);
    ASSERT_TRUE(d.ok()) << path;
    EXPECT_EQ(ToHex(*d), md5) << path;
  }
}

TEST_F(ExtractStreamTest, RejectedMemberNeverAppears) {
  size_t offset = 0;
  ExtractOptions options;
  options.defer_member = [&](PendingMember m) {
    // A dropped member's temporary file goes with it.
    return m.path == "cifar-10-batches-py/data_batch_2" ? Status::Corruption("md5 differs: " + m.path)
                                                         : m.file.Commit();
  };
  auto stats = ExtractStream(FileReader(tarball_, &offset), "test://stream", dir_ / "out", options);
  ASSERT_FALSE(stats.ok());
  EXPECT_TRUE(stats.status().IsCorruption());
  EXPECT_NE(stats.status().message().find("data_batch_2"), std::string::npos);
  std::string batches = dir_.path() + "/out/cifar-10-batches-py";
  EXPECT_FALSE(std::filesystem::exists(batches + "/data_batch_2"));
  for (auto& e : std::filesystem::directory_iterator(batches))
    EXPECT_FALSE(IsTempName(e.path().filename().string())) << e.path();
}

TEST_F(ExtractStreamTest, StreamErrorIsReportedAsIs) {
  size_t offset = 0;
  auto inner = FileReader(tarball_, &offset);
  ArchiveReadFn failing = [&](char* buf, size_t n) -> Result<size_t> {
    if (offset > tarball_.size() / 2) return Status::Network("connection reset by peer: http://origin/x.tgz");
    return inner(buf, n);
  };
  auto stats = ExtractStream(failing, "http://origin/x.tgz", dir_ / "out");
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().code(), Code::kNetwork);
  EXPECT_NE(stats.status().message().find("connection reset"), std::string::npos);
}

}  // namespace
}  // namespace tb::dataset
