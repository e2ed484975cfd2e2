// Exclusive locks between tierbench processes on what they write: a run's scratch folder, a
// model folder, a generated dataset's folder, a results file. flock(2) on a lock file, so a
// lock ends with its process however that ends (exit, crash, SIGKILL); the file records the
// holder's pid so that a refused process can name it. Never blocks: a second process is told
// at once.
//
// Lock files: "<dir>/.tierbench.lock" for a folder, "<file>.lock" beside a file. The holder
// removes its lock file on release; a lock file left by a killed process is simply taken over.
#pragma once

#include <string>

#include "util/status.h"

namespace tb {

class PathLock {
 public:
  // Locks folder `dir` (created if missing). `what` names it in messages ("scratch").
  static Result<PathLock> LockDir(const std::string& what, const std::string& dir);
  // Locks file `path` (which need not exist) through "<path>.lock".
  static Result<PathLock> LockFile(const std::string& what, const std::string& path);
  // Locks through `lock_path` itself; `target` is what the lock protects (for messages).
  // Held elsewhere: InvalidArgument "<what> <target> is in use by another tierbench process
  // (pid N since T; lock file L)"; any other failure (folder or lock file not creatable) is
  // IOError.
  static Result<PathLock> Acquire(const std::string& what, const std::string& target, const std::string& lock_path);

  PathLock(PathLock&& o) noexcept;
  PathLock& operator=(PathLock&&) = delete;
  ~PathLock();  // removes the lock file, then releases the lock
  const std::string& lock_path() const { return lock_path_; }

  // The lock file name inside a locked folder.
  static constexpr const char* kDirLockName = ".tierbench.lock";

 private:
  PathLock(int fd, std::string lock_path) : fd_(fd), lock_path_(std::move(lock_path)) {}
  int fd_ = -1;
  std::string lock_path_;
};

}  // namespace tb
