#include "dataset/mapped_file.h"

#include <gtest/gtest.h>

#include "util/fs.h"
#include "util/testing.h"

namespace tb::dataset {
namespace {

TEST(MappedFileTest, MapsWholeFileAndEmptyFiles) {
  testing::TempDir dir;
  ASSERT_TRUE(WriteFileAtomic(dir / "f", "hello").ok());
  ASSERT_TRUE(WriteFileAtomic(dir / "e", "").ok());
  auto f = MappedFile::Open(dir / "f");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->data(), "hello");
  MappedFile moved = std::move(*f);
  EXPECT_EQ(moved.data(), "hello");
  auto e = MappedFile::Open(dir / "e");
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->data().empty());
  auto missing = MappedFile::Open(dir / "missing");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find(dir / "missing"), std::string::npos);
  EXPECT_FALSE(MappedFile::Open(dir.path()).ok());  // a directory
}

}  // namespace
}  // namespace tb::dataset
