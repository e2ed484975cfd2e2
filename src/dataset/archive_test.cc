#include "dataset/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <functional>

#include "util/fs.h"
#include "util/testing.h"

namespace tb::dataset {
namespace {

struct Member {
  std::string name;
  std::string data;
  int type = AE_IFREG;
  std::string link;  // symlink target, or hard link target when hard = true
  bool hard = false;
};

// Crafts a tar(.gz) with libarchive's writer, the way an attacker would.
void WriteTar(const std::string& path, const std::vector<Member>& members, bool gzip = false) {
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (gzip) archive_write_add_filter_gzip(a);
  ASSERT_EQ(archive_write_open_filename(a, path.c_str()), ARCHIVE_OK);
  for (const auto& m : members) {
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, m.name.c_str());
    archive_entry_set_filetype(e, m.type);
    archive_entry_set_perm(e, m.type == AE_IFDIR ? 0755 : 0644);
    if (m.type == AE_IFLNK) archive_entry_set_symlink(e, m.link.c_str());
    if (m.hard) archive_entry_set_hardlink(e, m.link.c_str());
    if (m.type == AE_IFCHR) archive_entry_set_rdev(e, 0x0103);
    archive_entry_set_size(e, m.type == AE_IFREG && !m.hard ? static_cast<la_int64_t>(m.data.size()) : 0);
    archive_write_header(a, e);
    if (m.type == AE_IFREG && !m.hard && !m.data.empty()) archive_write_data(a, m.data.data(), m.data.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
}

Status Extract(const testing::TempDir& dir, const std::vector<Member>& members, ExtractOptions o = {}) {
  std::string tar = dir / "a.tar";
  WriteTar(tar, members);
  return ExtractArchive(tar, dir / "out", o).status();
}

bool Exists(const std::string& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0;
}

TEST(ArchiveTest, ExtractsFilesDirsAndSafeLinks) {
  testing::TempDir dir;
  std::string tar = dir / "a.tar.gz";
  WriteTar(tar,
           {{"d/", "", AE_IFDIR},
            {"d/x.bin", std::string(100000, 'x')},
            {"./d/e/y.txt", "hello"},
            {"d/link", "", AE_IFLNK, "e/y.txt"},
            {"d/hard", "", AE_IFREG, "d/x.bin", true}},
           /*gzip=*/true);
  uint64_t progress_bytes = 0;
  std::function<void(uint64_t, uint64_t)> cb = [&](uint64_t b, uint64_t) { progress_bytes += b; };
  ExtractOptions o;
  o.progress = &cb;
  auto stats = ExtractArchive(tar, dir / "out", o);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->bytes, 100005u);
  EXPECT_EQ(progress_bytes, 100005u);
  EXPECT_EQ(*ReadFile(dir / "out/d/e/y.txt"), "hello");
  EXPECT_EQ(*ReadFile(dir / "out/d/link"), "hello");
  EXPECT_EQ(ReadFile(dir / "out/d/hard")->size(), 100000u);
  // No temporary files left behind.
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir / "out")) {
    EXPECT_FALSE(IsTempName(e.path().filename().string())) << e.path();
  }
}

struct Attack {
  const char* what;
  std::vector<Member> members;
  const char* entry;  // the entry the refusal must name
};

TEST(ArchiveTest, RefusesEveryAttackAndNamesArchiveAndEntry) {
  std::vector<Attack> attacks = {
      {"absolute path", {{"/tmp/tb-evil-abs", "x"}}, "/tmp/tb-evil-abs"},
      {"dot-dot", {{"a/../../tb-evil-dotdot", "x"}}, "a/../../tb-evil-dotdot"},
      {"symlink outside (absolute)", {{"l", "", AE_IFLNK, "/etc"}}, "l"},
      {"symlink outside (..)", {{"l", "", AE_IFLNK, "../.."}}, "l"},
      {"symlink chain via '.'", {{"y", "", AE_IFLNK, "."}, {"x", "", AE_IFLNK, "y/.."}}, "x"},
      {"write through symlink", {{"d/", "", AE_IFDIR}, {"l", "", AE_IFLNK, "d"}, {"l/f", "x"}}, "l/f"},
      {"hardlink outside", {{"h", "", AE_IFREG, "/etc/passwd", true}}, "h"},
      {"hardlink dot-dot", {{"h", "", AE_IFREG, "../secret", true}}, "h"},
      {"character device", {{"dev", "", AE_IFCHR}}, "dev"},
      {"fifo", {{"fifo", "", AE_IFIFO}}, "fifo"},
  };
  for (const auto& a : attacks) {
    testing::TempDir dir;
    Status s = Extract(dir, a.members);
    ASSERT_FALSE(s.ok()) << a.what;
    EXPECT_EQ(s.code(), Code::kPermissionDenied) << a.what << ": " << s.ToString();
    EXPECT_NE(s.message().find(dir / "a.tar"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("'" + std::string(a.entry) + "'"), std::string::npos) << a.what << ": " << s.message();
  }
  EXPECT_FALSE(Exists("/tmp/tb-evil-abs"));
}

// A hostile member name (100 kB here) is shown cut short in the error, with its length.
TEST(ArchiveTest, LongEntryNamesAreShownShort) {
  testing::TempDir dir;
  std::string name = "/tmp/tb-evil-" + std::string(100000, 'n');
  Status s = Extract(dir, {{name, "x"}});
  ASSERT_FALSE(s.ok());
  EXPECT_LT(s.message().size(), 1000u) << s.message().substr(0, 300);
  EXPECT_NE(s.message().find("...(" + std::to_string(name.size()) + " bytes)"), std::string::npos)
      << s.message().substr(0, 300);
}

TEST(ArchiveTest, LimitsBytesAndEntriesAndLeavesNoPartialFile) {
  testing::TempDir dir;
  ExtractOptions o;
  o.max_total_bytes = 1000;
  Status s = Extract(dir, {{"small", "ok"}, {"big", std::string(5000, 'b')}}, o);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("'big'"), std::string::npos);
  EXPECT_TRUE(Exists(dir / "out/small"));
  EXPECT_FALSE(Exists(dir / "out/big"));
  for (const auto& e : std::filesystem::directory_iterator(dir / "out")) {
    EXPECT_FALSE(IsTempName(e.path().filename().string())) << e.path();
  }
  testing::TempDir dir2;
  ExtractOptions o2;
  o2.max_entries = 2;
  s = Extract(dir2, {{"a", "1"}, {"b", "2"}, {"c", "3"}}, o2);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("'c'"), std::string::npos) << s.message();
}

TEST(ArchiveTest, CancelInsideAMemberStopsAtTheNextChunkAndLeavesNothing) {
  testing::TempDir dir;
  const std::string big(64u << 20, 'x');  // many chunks
  std::atomic<bool> cancel{false};
  uint64_t seen = 0;
  // The interrupt arrives while the member's first chunk is written.
  std::function<void(uint64_t, uint64_t)> progress = [&](uint64_t bytes, uint64_t) {
    seen += bytes;
    if (seen > 8) cancel = true;  // past "done": inside "huge"
  };
  ExtractOptions o;
  o.cancel = &cancel;
  o.progress = &progress;
  Status s = Extract(dir, {{"done", "complete"}, {"huge", big}}, o);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.IsCancelled()) << s.ToString();
  EXPECT_LT(seen, big.size() / 4) << "kept writing the member after the cancel";
  EXPECT_TRUE(Exists(dir / "out/done"));
  EXPECT_FALSE(Exists(dir / "out/huge"));
  for (const auto& e : std::filesystem::directory_iterator(dir / "out")) {
    EXPECT_FALSE(IsTempName(e.path().filename().string())) << e.path();
  }
}

// A gzip bomb: 256 MiB of zeros in a tar.gz of a few hundred KiB (DEFLATE's ~1000 to 1), made
// here. A CIFAR tarball expands 1.05 to 1; this one must be refused by the expansion ratio
// long before it is written out, from a file and from a stream alike.
TEST(ArchiveTest, GzipBombIsRefusedByTheExpansionRatio) {
  testing::TempDir dir;
  std::string bomb = dir / "bomb.tar.gz";
  WriteTar(bomb, {{"cifar-10-batches-py/readme.html", "<p>ok</p>"},
                  {"cifar-10-batches-py/data_batch_1", std::string(256u << 20, '\0')}},
           /*gzip=*/true);
  auto size = std::filesystem::file_size(bomb);
  ASSERT_LT(size, 4u << 20) << "not a bomb";

  auto check = [&](const Result<ExtractStats>& r, const std::string& name, const std::string& out) {
    ASSERT_FALSE(r.ok()) << "a " << size << "-byte archive expanding to 256 MiB was extracted";
    EXPECT_EQ(r.status().code(), Code::kPermissionDenied) << r.status().ToString();
    const std::string& m = r.status().message();
    EXPECT_NE(m.find("extract " + name), std::string::npos) << m;
    EXPECT_NE(m.find("'cifar-10-batches-py/data_batch_1'"), std::string::npos) << m;
    EXPECT_NE(m.find("decompression bomb"), std::string::npos) << m;
    EXPECT_NE(m.find("200 to 1"), std::string::npos) << m;
    EXPECT_FALSE(Exists(out + "/cifar-10-batches-py/data_batch_1"));
    for (const auto& e : std::filesystem::recursive_directory_iterator(out)) {
      EXPECT_FALSE(IsTempName(e.path().filename().string())) << e.path();
    }
  };
  check(ExtractArchive(bomb, dir / "out", {}), bomb, dir / "out");

  auto bytes = ReadFile(bomb);
  ASSERT_TRUE(bytes.ok());
  size_t offset = 0;
  ArchiveReadFn read = [&](char* buf, size_t n) -> Result<size_t> {
    size_t take = std::min<size_t>({n, bytes->size() - offset, 64 << 10});
    std::memcpy(buf, bytes->data() + offset, take);
    offset += take;
    return take;
  };
  check(ExtractStream(read, "test://bomb", dir / "out2", {}), "test://bomb", dir / "out2");

  // The same archive passes when the ratio allows it: the limit, not the archive, refused it.
  ExtractOptions lenient;
  lenient.max_expansion_ratio = 5000;
  auto ok = ExtractArchive(bomb, dir / "out3", lenient);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->bytes, (256u << 20) + 9);
}

// A member that would leave less than min_free_bytes free on the destination's filesystem is
// refused before a byte of it is written. (The reserve is set above what is free, so the test
// does not depend on what else writes to the disk meanwhile.)
TEST(ArchiveTest, MemberThatWouldFillTheDiskIsRefusedBeforeWriting) {
  testing::TempDir dir;
  auto free_bytes = FreeBytes(dir.path());
  ASSERT_TRUE(free_bytes.ok());
  std::string tar = dir / "a.tar";
  WriteTar(tar, {{"cifar-10-batches-py/", "", AE_IFDIR}, {"cifar-10-batches-py/data_batch_1", std::string(1 << 20, 'b')}});
  ExtractOptions o;
  o.min_free_bytes = *free_bytes + (uint64_t{1} << 40);
  Status s = ExtractArchive(tar, dir / "out", o).status();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kNoSpace) << s.ToString();
  EXPECT_NE(s.message().find("'cifar-10-batches-py/data_batch_1'"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("free space on " + (dir / "out")), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("1048576 more bytes"), std::string::npos) << s.message();
  EXPECT_FALSE(Exists(dir / "out/cifar-10-batches-py/data_batch_1"));
  for (const auto& e : std::filesystem::directory_iterator(dir / "out/cifar-10-batches-py")) {
    ADD_FAILURE() << "left behind: " << e.path();
  }
  o.min_free_bytes = 1;  // the same archive with a reserve that fits
  auto ok = ExtractArchive(tar, dir / "out2", o);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->bytes, 1u << 20);
}

TEST(ArchiveTest, CorruptOrMissingArchiveIsAnError) {
  testing::TempDir dir;
  EXPECT_FALSE(ExtractArchive(dir / "missing.tar", dir / "out").ok());
  ASSERT_TRUE(WriteFileAtomic(dir / "junk.tar.gz", std::string("\x1f\x8b\x08\x00garbage-garbage", 19)).ok());
  auto r = ExtractArchive(dir / "junk.tar.gz", dir / "out");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("junk.tar.gz"), std::string::npos);
}

}  // namespace
}  // namespace tb::dataset
