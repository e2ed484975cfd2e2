#include "pipeline/member_verifier.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "util/md5.h"
#include "util/testing.h"

namespace tb::pipeline {
namespace {

namespace fs = std::filesystem;

// A member written under its temporary name, with or without its bytes in memory.
dataset::PendingMember Written(const std::string& dir, const std::string& rel, const std::string& content,
                               bool in_memory) {
  auto f = AtomicFile::Create(dir + "/" + rel);
  EXPECT_TRUE(f.ok());
  EXPECT_TRUE(f->Write(content.data(), content.size()).ok());
  dataset::PendingMember m{rel, std::move(f).value(), content.size(), in_memory, in_memory ? content : ""};
  return m;
}

std::string Content(int i) { return std::string(static_cast<size_t>(1000 + 37 * i), static_cast<char>('a' + i % 26)); }

TEST(MemberVerifier, CommitsMatchingMembersFromMemoryAndFromFiles) {
  testing::TempDir dir;
  std::map<std::string, std::string> want;
  for (int i = 0; i < 40; ++i) want["f" + std::to_string(i)] = ToHex(Md5Of(Content(i)));
  MemberVerifier v(want, "m.md5", /*batch=*/7);
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(v.Add(Written(dir.path(), "f" + std::to_string(i), Content(i), i % 3 != 0)).ok());
  }
  ASSERT_TRUE(v.Add(Written(dir.path(), "unlisted", "extra", true)).ok());
  ASSERT_TRUE(v.Finish().ok());
  EXPECT_EQ(v.verified_files(), 40u);
  EXPECT_FALSE(v.mismatched());
  for (int i = 0; i < 40; ++i) EXPECT_TRUE(v.seen("f" + std::to_string(i)));
  EXPECT_FALSE(v.seen("unlisted"));
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir.path())) {
    ++files;
    EXPECT_FALSE(IsTempName(e.path().filename().string())) << e.path();
  }
  EXPECT_EQ(files, 41u);  // every member under its final name, no temporary left
}

TEST(MemberVerifier, MismatchNeverAppearsUnderItsFinalNameAndStopsTheRest) {
  for (bool in_memory : {true, false}) {
    testing::TempDir dir;
    std::map<std::string, std::string> want{{"good", ToHex(Md5Of("good bytes"))},
                                            {"bad", ToHex(Md5Of("expected bytes"))}};
    MemberVerifier v(want, "cifar.md5", /*batch=*/1);
    ASSERT_TRUE(v.Add(Written(dir.path(), "good", "good bytes", in_memory)).ok());
    ASSERT_TRUE(v.Add(Written(dir.path(), "bad", "tampered bytes", in_memory)).ok());
    Status s = v.Finish();
    ASSERT_FALSE(s.ok());
    EXPECT_TRUE(s.IsCorruption());
    EXPECT_NE(s.message().find("bad differs from cifar.md5: expected md5 " + want["bad"] + ", actual " +
                               ToHex(Md5Of("tampered bytes"))),
              std::string::npos)
        << s.message();
    EXPECT_TRUE(v.mismatched());
    ASSERT_EQ(v.mismatched_paths().size(), 1u);
    EXPECT_FALSE(fs::exists(dir / "bad"));
    size_t temps = 0;
    for (const auto& e : fs::directory_iterator(dir.path())) temps += IsTempName(e.path().filename().string());
    EXPECT_EQ(temps, 0u) << "a temporary file was left behind";
    // After the error, later members are refused (the extractor stops) and dropped.
    Status later = v.Add(Written(dir.path(), "late", "x", in_memory));
    EXPECT_FALSE(later.ok());
    EXPECT_FALSE(fs::exists(dir / "late"));
  }
}

TEST(MemberVerifier, DestroyedWithoutFinishLeavesNoTemporaries) {
  testing::TempDir dir;
  {
    MemberVerifier v({{"a", ToHex(Md5Of("a"))}}, "m", /*batch=*/64);  // never reaches a batch
    ASSERT_TRUE(v.Add(Written(dir.path(), "a", "a", true)).ok());
  }
  for (const auto& e : fs::directory_iterator(dir.path())) {
    EXPECT_FALSE(IsTempName(e.path().filename().string())) << e.path();
  }
}

}  // namespace
}  // namespace tb::pipeline
