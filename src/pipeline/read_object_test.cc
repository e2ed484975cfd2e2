// ExpectedMd5: the one reader of the expected tarball md5 (integrity stage and streaming ingest).
#include <gtest/gtest.h>

#include "pipeline/stage.h"
#include "util/fs.h"
#include "util/testing.h"

namespace tb::pipeline {
namespace {

constexpr char kUpper[] = "C58F30108F718F92721AF3B95E74349A";
constexpr char kLower[] = "c58f30108f718f92721af3b95e74349a";

Result<std::string> FromLiteral(const std::string& literal) {
  JobConfig cfg;
  cfg.origin_md5 = literal;
  cfg.origin_md5_file = "/nonexistent/never-read.md5";  // the literal wins
  Context ctx(cfg);
  return ExpectedMd5(ctx);
}

Result<std::string> FromFile(const testing::TempDir& dir, const std::string& text) {
  std::string path = dir / "origin.tar.gz.md5";
  EXPECT_TRUE(WriteFileAtomic(path, text).ok());
  JobConfig cfg;
  cfg.origin_md5_file = path;
  Context ctx(cfg);
  return ExpectedMd5(ctx);
}

TEST(ExpectedMd5, LiteralIsCheckedAndLowered) {
  auto ok = FromLiteral(kUpper);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(*ok, kLower);
  for (std::string bad : {std::string(kLower) + "0", std::string(kLower).substr(1), std::string(31, 'a') + "g"}) {
    auto r = FromLiteral(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
    EXPECT_NE(r.status().message().find("origin.md5"), std::string::npos) << r.status().ToString();
  }
}

TEST(ExpectedMd5, FirstWordOfTheFile) {
  testing::TempDir dir;
  for (std::string text : {std::string(kUpper) + "  cifar-10-python.tar.gz\n", std::string(kLower),
                           std::string(kLower) + "\r\n", std::string(kLower) + "\tname"}) {
    auto r = FromFile(dir, text);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(*r, kLower);
  }
}

TEST(ExpectedMd5, FileWithoutAnMd5IsCorruptionNamingIt) {
  testing::TempDir dir;
  for (std::string text : {std::string(""), std::string("\n") + kLower, std::string(kLower) + "ff  name",
                           std::string(kLower).substr(0, 31) + "z name", std::string(4096, 'x')}) {
    auto r = FromFile(dir, text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
    EXPECT_NE(r.status().message().find("origin.tar.gz.md5"), std::string::npos) << r.status().ToString();
  }
}

TEST(ExpectedMd5, UnreadableFileSaysWhatWasBeingRead) {
  testing::TempDir dir;
  JobConfig cfg;
  cfg.origin_md5_file = dir / "missing.md5";
  Context ctx(cfg);
  auto r = ExpectedMd5(ctx);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("expected md5 from " + cfg.origin_md5_file), std::string::npos)
      << r.status().ToString();
}

}  // namespace
}  // namespace tb::pipeline
