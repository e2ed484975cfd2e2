#include "util/path_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "util/clock.h"
#include "util/fs.h"

namespace tb {
namespace {

// "pid N since T" from a lock file's first line (only digits and timestamp characters are
// kept: the file may have been written by anyone).
std::string DescribeHolder(int fd) {
  char buf[256];
  ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return "pid unknown";
  std::string text(buf, static_cast<size_t>(n));
  auto field = [&](const std::string& key, const std::string& allowed) {
    size_t at = text.find(key + "=");
    std::string v;
    if (at == std::string::npos) return v;
    for (size_t i = at + key.size() + 1; i < text.size() && v.size() < 40; ++i) {
      if (allowed.find(text[i]) == std::string::npos) break;
      v += text[i];
    }
    return v;
  };
  std::string pid = field("pid", "0123456789");
  std::string since = field("since", "0123456789-:.TZ");
  if (pid.empty()) return "pid unknown";
  return "pid " + pid + (since.empty() ? "" : " since " + since);
}

// A lock that could not be taken for a reason other than another holder: never
// InvalidArgument, which means "in use" to callers.
Status Failed(const std::string& what, const Status& cause) {
  return Status::IOError(what + ": cannot lock: " + cause.message());
}

}  // namespace

Result<PathLock> PathLock::LockDir(const std::string& what, const std::string& dir) {
  if (Status made = MakeDirs(dir); !made.ok()) return Failed(what, made);
  return Acquire(what, dir, dir + "/" + kDirLockName);
}

Result<PathLock> PathLock::LockFile(const std::string& what, const std::string& path) {
  return Acquire(what, path, path + ".lock");
}

Result<PathLock> PathLock::Acquire(const std::string& what, const std::string& target, const std::string& lock_path) {
  // The holder unlinks its lock file before releasing, so a lock taken on a file that is no
  // longer (or no more the same file) at lock_path is stale: open it again.
  for (int attempt = 0; attempt < 100; ++attempt) {
    int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) return Failed(what, Status::FromErrno(errno, "open lock file", lock_path));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int err = errno;
      if (err == EINTR) {
        ::close(fd);
        continue;
      }
      if (err != EWOULDBLOCK) {
        ::close(fd);
        return Failed(what, Status::FromErrno(err, "lock", lock_path));
      }
      std::string holder = DescribeHolder(fd);
      ::close(fd);
      return Status::InvalidArgument(what + " " + target + " is in use by another tierbench process (" + holder +
                                     "; lock file " + lock_path + "): wait for it to finish or choose another " +
                                     what);
    }
    struct stat held {}, named {};
    if (::fstat(fd, &held) != 0 || ::stat(lock_path.c_str(), &named) != 0 || held.st_dev != named.st_dev ||
        held.st_ino != named.st_ino) {
      ::close(fd);
      continue;
    }
    // The holder's pid is for messages only: a full disk must not stop the run here.
    std::string line = "pid=" + std::to_string(::getpid()) + " since=" + UtcTimestamp() + "\n";
    if (::ftruncate(fd, 0) == 0) (void)!::pwrite(fd, line.data(), line.size(), 0);
    return PathLock(fd, lock_path);
  }
  return Status::IOError(what + ": lock file " + lock_path + " keeps being replaced");
}

PathLock::PathLock(PathLock&& o) noexcept : fd_(o.fd_), lock_path_(std::move(o.lock_path_)) { o.fd_ = -1; }

PathLock::~PathLock() {
  if (fd_ < 0) return;
  ::unlink(lock_path_.c_str());
  ::close(fd_);
}

}  // namespace tb
