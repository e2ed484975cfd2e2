#include "dataset/manifest.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

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

TEST(ManifestTest, NormalisesPathsAndRefusesEscapes) {
  auto e = ParseManifest("d41d8cd98f00b204e9800998ecf8427e  ./a//b/./c\n", "m.md5");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ((*e)[0].path, "a/b/c");
  for (const char* path : {".", "./", "a/..", "a/../../b", "/abs", "//abs", "a/./../b"}) {
    auto r = ParseManifest(std::string("d41d8cd98f00b204e9800998ecf8427e  ") + path + "\n", "m.md5");
    ASSERT_FALSE(r.ok()) << path;
    EXPECT_NE(r.status().message().find("m.md5:1: path"), std::string::npos) << r.status().message();
  }
}

TEST(ManifestTest, DuplicatePaths) {
  // The same path with the same md5 twice (however spelled) is one entry.
  auto same = ParseManifest(
      "d41d8cd98f00b204e9800998ecf8427e  d/a\n"
      "900150983cd24fb0d6963f7d28e17f72  d/b\n"
      "D41D8CD98F00B204E9800998ECF8427E *./d//a\n",
      "m.md5");
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  ASSERT_EQ(same->size(), 2u);
  EXPECT_EQ((*same)[0].path, "d/a");
  EXPECT_EQ((*same)[1].path, "d/b");
  // Different md5s for one path: which one verify would check is not for the parser to pick.
  auto differ = ParseManifest(
      "d41d8cd98f00b204e9800998ecf8427e  d/a\n"
      "# comment\n"
      "900150983cd24fb0d6963f7d28e17f72  d/b\n"
      "900150983cd24fb0d6963f7d28e17f72  ./d/a\n",
      "m.md5");
  ASSERT_FALSE(differ.ok());
  const std::string& msg = differ.status().message();
  EXPECT_NE(msg.find("m.md5:4:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'d/a'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("lines 1 and 4"), std::string::npos) << msg;
}

TEST(ManifestTest, HugeLineIsRefusedWithAShortError) {
  std::string text = "d41d8cd98f00b204e9800998ecf8427e  ok\n";
  text += "d41d8cd98f00b204e9800998ecf8427e  " + std::string(10u << 20, 'x') + "\n";
  auto e = ParseManifest(text, "m.md5");
  ASSERT_FALSE(e.ok());
  const std::string& msg = e.status().message();
  EXPECT_LT(msg.size(), 300u) << msg.substr(0, 300);
  EXPECT_NE(msg.find("m.md5:2:"), std::string::npos) << msg;
  EXPECT_NE(msg.find(std::to_string(34 + (10u << 20))), std::string::npos) << msg;
  // A path just over the limit, as a path (no huge line): refused, and shown cut short.
  std::string long_path(kMaxManifestPathBytes + 1, 'p');
  auto p = ParseManifest("d41d8cd98f00b204e9800998ecf8427e  " + long_path + "\n", "m.md5");
  ASSERT_FALSE(p.ok());
  EXPECT_LT(p.status().message().size(), 300u);
  // The longest accepted path still parses.
  auto longest = ParseManifest("d41d8cd98f00b204e9800998ecf8427e  " + long_path.substr(1) + "\n", "m.md5");
  EXPECT_TRUE(longest.ok()) << longest.status().message().substr(0, 200);
}

TEST(ManifestTest, SizeAndEntryLimits) {
  std::string big(kMaxManifestBytes + 1, '#');
  auto e = ParseManifest(big, "m.md5");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("m.md5: manifest is"), std::string::npos) << e.status().message();
  std::string many;
  for (size_t i = 0; i <= kMaxManifestEntries; ++i) many += "d41d8cd98f00b204e9800998ecf8427e  " + std::to_string(i) + "\n";
  ASSERT_LE(many.size(), kMaxManifestBytes);
  auto m = ParseManifest(many, "m.md5");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("m.md5:" + std::to_string(kMaxManifestEntries + 1) + ": more than"),
            std::string::npos)
      << m.status().message();
}

// A FIFO (no writer: opening it for reading would block forever), a directory and a socket
// listed as files fail at once, each naming the file and "not a regular file".
TEST(ManifestTest, VerifyRefusesFilesThatAreNotRegular) {
  testing::TempDir dir;
  ASSERT_TRUE(WriteFileAtomic(dir / "a", "abc").ok());
  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0644), 0);
  ASSERT_TRUE(MakeDirs(dir / "sub").ok());
  std::vector<ManifestEntry> entries = {{ToHex(Md5Of("abc")), "a"},
                                        {ToHex(Md5Of("")), "fifo"},
                                        {ToHex(Md5Of("")), "sub"},
                                        {ToHex(Md5Of("")), "null"}};  // a character device, by a symlink
  ASSERT_EQ(::symlink("/dev/null", (dir / "null").c_str()), 0);
  auto r = VerifyManifest(dir.path(), entries, 2);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->files, 1u);
  ASSERT_EQ(r->missing, (std::vector<std::string>{"fifo", "sub", "null"}));
  ASSERT_EQ(r->missing_why.size(), 3u);
  const char* kinds[] = {"(fifo)", "(directory)", "(character device)"};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_NE(r->missing_why[i].find(dir / r->missing[i]), std::string::npos) << r->missing_why[i];
    EXPECT_NE(r->missing_why[i].find(std::string("not a regular file ") + kinds[i]), std::string::npos)
        << r->missing_why[i];
  }
}

}  // namespace
}  // namespace tb::dataset
