#include "util/fs.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>

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

std::atomic<int> g_signals{0};
void CountSignal(int) { g_signals.fetch_add(1); }

// SIGUSR1 without SA_RESTART, so a blocked read or write returns EINTR (or a short count)
// each time the signal lands; restored on destruction.
class InterruptingSignal {
 public:
  InterruptingSignal() {
    struct sigaction sa {};
    sa.sa_handler = CountSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    sigaction(SIGUSR1, &sa, &old_);
    g_signals = 0;
  }
  ~InterruptingSignal() { sigaction(SIGUSR1, &old_, nullptr); }
  // Signals `thread` until it has taken `n` of them.
  static void Hit(std::thread& thread, int n) {
    for (int seen = g_signals; seen < n; seen = g_signals) {
      pthread_kill(thread.native_handle(), SIGUSR1);
      while (g_signals == seen) std::this_thread::yield();
    }
  }

 private:
  struct sigaction old_ {};
};

TEST(ReadFd, RetriesWhenASignalInterruptsABlockedRead) {
  InterruptingSignal sig;
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  std::atomic<bool> entered{false};
  long got = -2;
  int err = 0;
  char buf[8] = {};
  std::thread reader([&] {
    entered = true;
    got = ReadFd(p[0], buf, sizeof buf);
    err = errno;
  });
  while (!entered) std::this_thread::yield();
  InterruptingSignal::Hit(reader, 5);  // the reader is blocked on an empty pipe meanwhile
  ASSERT_EQ(::write(p[1], "xyz", 3), 3);
  reader.join();
  EXPECT_EQ(got, 3) << "errno " << err;
  EXPECT_EQ(std::string(buf, 3), "xyz");
  ::close(p[0]);
  ::close(p[1]);
}

TEST(WriteFd, WritesEverythingThroughInterruptionsAndShortWrites) {
  InterruptingSignal sig;
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  std::string data(1 << 20, '\0');  // far more than a pipe holds: the writer blocks
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 131 % 251);
  Status st = Status::Internal("not run");
  std::atomic<bool> entered{false};
  std::thread writer([&] {
    entered = true;
    st = WriteFd(p[1], data.data(), data.size(), -1, "the-pipe");
    ::close(p[1]);
  });
  while (!entered) std::this_thread::yield();
  InterruptingSignal::Hit(writer, 5);
  std::string back;
  char buf[1 << 16];
  for (long n; (n = ReadFd(p[0], buf, sizeof buf)) > 0;) back.append(buf, static_cast<size_t>(n));
  writer.join();
  ::close(p[0]);
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_TRUE(back == data) << back.size() << " of " << data.size() << " bytes";
}

TEST(WriteFd, PositionedWritesAndReadsAndNamedErrors) {
  testing::TempDir dir;
  std::string path = dir / "f";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(WriteFd(fd, "world", 5, 6, path).ok());
  ASSERT_TRUE(WriteFd(fd, "hello ", 6, 0, path).ok());
  char buf[16] = {};
  EXPECT_EQ(ReadFd(fd, buf, 5, 6), 5);
  EXPECT_EQ(std::string(buf, 5), "world");
  EXPECT_EQ(ReadFd(fd, buf, sizeof buf, 11), 0);  // end of file
  ::close(fd);
  fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  Status st = WriteFd(fd, "x", 1, -1, path);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find(path), std::string::npos) << st.ToString();
  ::close(fd);
  EXPECT_EQ(ReadFd(fd, buf, 1), -1);  // closed descriptor: the error comes back
  EXPECT_EQ(errno, EBADF);
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
