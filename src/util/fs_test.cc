#include "util/fs.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "util/parallel.h"
#include "util/testing.h"

namespace tb {
namespace {

TEST(AtomicFile, UncommittedLeavesNothing) {
  testing::TempDir dir;
  {
    auto f = AtomicFile::Create(dir / "out");
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE(f->Write("abc", 3).ok());
    EXPECT_TRUE(IsTempName(std::filesystem::path(f->temp_path()).filename().string()));
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(AtomicFile, CommitRenamesIntoPlace) {
  testing::TempDir dir;
  ASSERT_TRUE(WriteFileAtomic(dir / "out", "hello").ok());
  auto r = ReadFile(dir / "out");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "hello");
  int entries = 0;
  for (auto& e : std::filesystem::directory_iterator(dir.path())) entries += !e.path().empty();
  EXPECT_EQ(entries, 1);
}

TEST(AtomicFile, CreateInMissingDirNamesPath) {
  testing::TempDir dir;
  auto f = AtomicFile::Create(dir / "no/such/out");
  ASSERT_FALSE(f.ok());
  EXPECT_TRUE(f.status().IsNotFound());
  EXPECT_NE(f.status().message().find("no/such"), std::string::npos);
}

TEST(ParallelFor, RunsEveryIndexAndReportsLowestError) {
  std::vector<int> hit(1000, 0);
  ASSERT_TRUE(ParallelFor(hit.size(), 4, [&](size_t i) { hit[i]++; return Status::Ok(); }).ok());
  for (int h : hit) EXPECT_EQ(h, 1);
  Status s = ParallelFor(100, 1, [](size_t i) {
    return i >= 10 ? Status::IOError("item " + std::to_string(i)) : Status::Ok();
  });
  EXPECT_EQ(s.message(), "item 10");
}

}  // namespace
}  // namespace tb
