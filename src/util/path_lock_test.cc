#include "util/path_lock.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "util/fs.h"
#include "util/testing.h"

namespace tb {
namespace {

namespace fs = std::filesystem;

TEST(PathLock, SecondLockIsRefusedNamingTheHolder) {
  testing::TempDir dir;
  std::string scratch = dir / "scratch";
  auto first = PathLock::LockDir("scratch", scratch);  // creates the folder
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->lock_path(), scratch + "/.tierbench.lock");
  // Another open of the lock file (as another process would make) cannot take it.
  auto second = PathLock::LockDir("scratch", scratch);
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(second.status().IsInvalidArgument());
  const std::string& m = second.status().message();
  EXPECT_NE(m.find("scratch " + scratch + " is in use"), std::string::npos) << m;
  EXPECT_NE(m.find("pid " + std::to_string(::getpid())), std::string::npos) << m;
  EXPECT_NE(m.find(first->lock_path()), std::string::npos) << m;
}

TEST(PathLock, ReleaseRemovesTheLockFileAndFreesThePath) {
  testing::TempDir dir;
  std::string out = dir / "r.json";
  {
    auto lock = PathLock::LockFile("results file", out);
    ASSERT_TRUE(lock.ok()) << lock.status().ToString();
    EXPECT_EQ(lock->lock_path(), out + ".lock");
    EXPECT_TRUE(fs::exists(out + ".lock"));
  }
  EXPECT_FALSE(fs::exists(out + ".lock"));
  EXPECT_TRUE(PathLock::LockFile("results file", out).ok());
}

// A child process takes the lock and reports through a pipe; the parent is refused while it
// lives, and gets the lock once the child is killed (SIGKILL: no destructor runs, the stale
// lock file stays and is taken over).
TEST(PathLock, AnotherProcessIsRefusedUntilTheHolderDies) {
  testing::TempDir dir;
  std::string scratch = dir / "scratch";
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(ready[0]);
    auto lock = PathLock::LockDir("scratch", scratch);
    char c = lock.ok() ? 'y' : 'n';
    if (::write(ready[1], &c, 1) != 1) ::_exit(3);
    for (;;) ::pause();
  }
  ::close(ready[1]);
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ::close(ready[0]);
  ASSERT_EQ(c, 'y');

  auto refused = PathLock::LockDir("scratch", scratch);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("pid " + std::to_string(child)), std::string::npos)
      << refused.status().message();

  ASSERT_EQ(::kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(fs::exists(scratch + "/.tierbench.lock"));  // left behind by the killed holder
  auto taken = PathLock::LockDir("scratch", scratch);
  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  auto again = PathLock::LockDir("scratch", scratch);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.status().message().find("pid " + std::to_string(::getpid())), std::string::npos);
}

// A lock held by a process that wrote no pid, or wrote garbage, is still a lock; the message
// carries only what parses as a pid.
TEST(PathLock, ForeignHolderWithHostileLockFile) {
  testing::TempDir dir;
  std::string target = dir / "r.json";
  std::string lock_path = target + ".lock";
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  auto refused = PathLock::LockFile("results file", target);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("pid unknown"), std::string::npos) << refused.status().message();
  std::string hostile = "pid=42\x1b[2J; rm -rf / since=\xff\xfe\n";
  ASSERT_EQ(::write(fd, hostile.data(), hostile.size()), static_cast<ssize_t>(hostile.size()));
  auto refused_again = PathLock::LockFile("results file", target);
  ASSERT_FALSE(refused_again.ok());
  const std::string& m = refused_again.status().message();
  EXPECT_NE(m.find("(pid 42;"), std::string::npos) << m;
  EXPECT_EQ(m.find('\x1b'), std::string::npos) << m;
  EXPECT_EQ(m.find("rm -rf"), std::string::npos) << m;
  ::close(fd);
  EXPECT_TRUE(PathLock::LockFile("results file", target).ok());
}

TEST(PathLock, SymlinkedLockFileIsNotFollowed) {
  testing::TempDir dir;
  ASSERT_TRUE(WriteFileAtomic(dir / "precious", "keep").ok());
  fs::create_symlink(dir / "precious", dir / "r.json.lock");
  EXPECT_FALSE(PathLock::LockFile("results file", dir / "r.json").ok());
  auto kept = ReadFile(dir / "precious");
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(*kept, "keep");
}

}  // namespace
}  // namespace tb
