#include "pipeline/cache_control.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "util/fs.h"
#include "util/io_stats.h"
#include "util/testing.h"

namespace tb::pipeline {
namespace {

// A temporary folder on a block-device filesystem (the temp dir or /var/tmp), or "".
std::string BlockDeviceDir(testing::TempDir& tmp) {
  if (ClassifyFilesystem(tmp.path()).counts_device_reads) return tmp.path();
  if (ClassifyFilesystem("/var/tmp").counts_device_reads) {
    std::string tmpl = "/var/tmp/tb-cache-test-XXXXXX";
    if (mkdtemp(tmpl.data())) return tmpl;
  }
  return "";
}

// Writes `size` bytes without fsync: the pages are dirty, as the output of a stage is.
void WriteDirty(const std::string& path, size_t size) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  std::string block(1 << 20, '\0');
  for (size_t i = 0; i < block.size(); ++i) block[i] = static_cast<char>(i * 131 + 7);
  for (size_t done = 0; done < size; done += block.size())
    ASSERT_TRUE(WriteFd(fd, block.data(), std::min(block.size(), size - done), -1, path).ok());
  ::close(fd);
}

uint64_t DeviceBytesToRead(const std::string& path) {
  IoCounters before = SampleIoCounters();
  auto text = ReadFile(path);
  EXPECT_TRUE(text.ok());
  return IoDelta(before, SampleIoCounters()).read_bytes;
}

TEST(CacheControl, EvictedFileIsReadFromTheDevice) {
  if (!SampleIoCounters().proc_io) GTEST_SKIP() << "/proc/self/io not available";
  testing::TempDir tmp;
  std::string dir = BlockDeviceDir(tmp);
  if (dir.empty()) GTEST_SKIP() << "no block-device filesystem for a temporary file (temp dir and /var/tmp are not)";
  const size_t size = 24 << 20;
  std::string path = dir + "/data";
  WriteDirty(path, size);
  // Freshly written: served from the cache.
  EXPECT_LT(DeviceBytesToRead(path), size / 10);

  EvictionResult ev = EvictFromPageCache({path}, /*drop_system=*/false);
  EXPECT_TRUE(ev.problems.empty()) << ev.problems.front();
  EXPECT_EQ(ev.files, 1u);
  EXPECT_EQ(ev.bytes, size);
  EXPECT_EQ(ev.resident_bytes_after, 0u);
  EXPECT_GE(DeviceBytesToRead(path), size * 9 / 10);
  EXPECT_LT(DeviceBytesToRead(path), size / 10);  // cached again by that read
  if (dir != tmp.path()) (void)RemoveAll(dir);
}

TEST(CacheControl, ProblemsNameTheFile) {
  testing::TempDir tmp;
  ASSERT_TRUE(::mkfifo((tmp / "fifo").c_str(), 0600) == 0);
  EvictionResult ev = EvictFromPageCache({tmp / "missing", tmp / "fifo"}, false);
  EXPECT_EQ(ev.files, 0u);
  ASSERT_EQ(ev.problems.size(), 2u);
  EXPECT_NE(ev.problems[0].find(tmp / "missing"), std::string::npos) << ev.problems[0];
  EXPECT_NE(ev.problems[1].find("not a regular file"), std::string::npos) << ev.problems[1];
}

// Whole-machine drops are refused to a user without the right, and the refusal is reported.
// As root the check runs in a child process that gives up root first (so the test never
// drops the shared machine's page cache).
TEST(CacheControl, SystemDropRefusedWithoutRootIsReported) {
  testing::TempDir tmp;
  ASSERT_EQ(::chmod(tmp.path().c_str(), 0755), 0);
  ASSERT_TRUE(WriteFileAtomic(tmp / "f", "abc").ok());
  ASSERT_EQ(::chmod((tmp / "f").c_str(), 0644), 0);
  auto check = [&]() -> int {
    EvictionResult ev = EvictFromPageCache({tmp / "f"}, /*drop_system=*/true);
    if (ev.system_dropped || ev.files != 1) return 1;
    if (ev.problems.empty() || ev.problems.back().find("needs root") == std::string::npos) return 2;
    return 0;
  };
  if (::geteuid() != 0) {
    EXPECT_EQ(check(), 0);
    return;
  }
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(3);
    ::_exit(check());
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: dropped or no file, 2: refusal not reported, 3: setuid failed";
}

TEST(CacheControl, ClassifiesMemoryAndFuseFilesystems) {
  FilesystemKind shm = ClassifyFilesystem("/dev/shm");
  if (shm.name != "tmpfs") GTEST_SKIP() << "/dev/shm is " << shm.name << ", not tmpfs";
  EXPECT_TRUE(shm.in_memory);
  EXPECT_FALSE(shm.counts_device_reads);
  FilesystemKind proc = ClassifyFilesystem("/proc");
  EXPECT_FALSE(proc.counts_device_reads);
  EXPECT_NE(ClassifyFilesystem("/no/such/path").name.find("unknown"), std::string::npos);
  std::string ceph = testing::Env("TB_CEPHFS_MOUNT");
  if (!ceph.empty()) {
    FilesystemKind k = ClassifyFilesystem(ceph);
    EXPECT_FALSE(k.counts_device_reads) << k.name;
    EXPECT_FALSE(k.in_memory) << k.name;
  }
}

TEST(CacheConfig, KeysAndDefaults) {
  const std::string rest = "scenario = \"inplace\"\n[inplace]\ndir = \"/d\"\n";
  auto warm = ParseConfigText(rest, "job.toml");
  ASSERT_TRUE(warm.ok()) << warm.status().message();
  EXPECT_EQ(warm->cache, "warm");
  EXPECT_EQ(warm->cache_drop, "files");
  auto cold = ParseConfigText(rest + "[pipeline]\ncache = \"cold\"\ncache_drop = \"system\"\n", "job.toml");
  ASSERT_TRUE(cold.ok()) << cold.status().message();
  EXPECT_EQ(cold->cache, "cold");
  EXPECT_EQ(cold->cache_drop, "system");
  EXPECT_NE(ConfigToJson(*cold).find("\"cache\":\"cold\""), std::string::npos) << ConfigToJson(*cold);
  for (const char* bad : {"cache = \"lukewarm\"", "cache = \"\"", "cache_drop = \"all\""}) {
    auto r = ParseConfigText(rest + "[pipeline]\n" + bad + "\n", "job.toml");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("'pipeline.cache"), std::string::npos) << r.status().message();
  }
}

}  // namespace
}  // namespace tb::pipeline
