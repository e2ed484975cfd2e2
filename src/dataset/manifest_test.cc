#include "dataset/manifest.h"

#include <gtest/gtest.h>

#include <mutex>

#include "util/fs.h"
#include "util/md5.h"
#include "util/testing.h"

namespace tb::dataset {
namespace {

TEST(ManifestTest, ParsesMd5sumFormat) {
  auto e = ParseManifest(
      "d41d8cd98f00b204e9800998ecf8427e  a/empty\n"
      "# comment\n\n"
      "900150983CD24FB0D6963F7D28E17F72 *./b/abc\r\n",
      "m.md5");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  ASSERT_EQ(e->size(), 2u);
  EXPECT_EQ((*e)[0].path, "a/empty");
  EXPECT_EQ((*e)[1].md5_hex, "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ((*e)[1].path, "b/abc");
  EXPECT_EQ(FormatManifest(*e),
            "d41d8cd98f00b204e9800998ecf8427e  a/empty\n900150983cd24fb0d6963f7d28e17f72  b/abc\n");
}

TEST(ManifestTest, ErrorsNameTheManifestAndLine) {
  const std::pair<const char*, const char*> bad[] = {
      {"d41d8cd98f00b204e9800998ecf8427e  ok\nnot-a-line\n", "m.md5:2:"},
      {"d41d8cd98f00b204e9800998ecf8427z  x\n", "m.md5:1:"},
      {"d41d8cd98f00b204e9800998ecf8427e x\n", "m.md5:1:"},
      {"\n\nd41d8cd98f00b204e9800998ecf8427e  /etc/passwd\n", "m.md5:3:"},
      {"d41d8cd98f00b204e9800998ecf8427e  a/../../x\n", "m.md5:1:"},
      {"d41d8cd98f00b204e9800998ecf8427e  \n", "m.md5:1:"},
      {"", "m.md5: manifest has no entries"},
  };
  for (const auto& [text, want] : bad) {
    auto e = ParseManifest(text, "m.md5");
    ASSERT_FALSE(e.ok()) << text;
    EXPECT_NE(e.status().message().find(want), std::string::npos) << e.status().message();
  }
}

TEST(ManifestTest, VerifyReportsMismatchedAndMissing) {
  testing::TempDir dir;
  ASSERT_TRUE(MakeDirs(dir / "d").ok());
  ASSERT_TRUE(WriteFileAtomic(dir / "d/a", "abc").ok());
  ASSERT_TRUE(WriteFileAtomic(dir / "d/b", "changed").ok());
  std::vector<ManifestEntry> entries = {
      {ToHex(Md5Of("abc")), "d/a"}, {ToHex(Md5Of("original")), "d/b"}, {ToHex(Md5Of("x")), "d/missing"}};
  uint64_t files = 0, bytes = 0;
  auto r = VerifyManifest(dir.path(), entries, 3, [&](uint64_t b, uint64_t f) {
    static std::mutex mu;
    std::lock_guard<std::mutex> lock(mu);
    bytes += b;
    files += f;
  });
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->ok());
  EXPECT_EQ(r->mismatched, std::vector<std::string>{"d/b"});
  EXPECT_EQ(r->missing, std::vector<std::string>{"d/missing"});
  EXPECT_EQ(r->files, 2u);
  EXPECT_EQ(r->bytes, 10u);
  EXPECT_GE(files, 2u);  // the unreadable file may or may not be counted as done
  EXPECT_LE(files, 3u);
  EXPECT_EQ(bytes, 10u);
}

}  // namespace
}  // namespace tb::dataset
