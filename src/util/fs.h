// Local filesystem helpers. Every output is written under a temporary name in the same
// directory and renamed into place only when complete, so a crash never leaves a file that
// passes for complete. Errors name the path and the cause.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/status.h"

struct stat;

namespace tb {

// The one EINTR-safe read: read(2) at the file position (offset < 0) or pread(2) at `offset`,
// retried while a signal interrupts it. Returns the bytes read (0 at end of file) or -1 with
// errno set (never EINTR); the caller names the path in its error.
long ReadFd(int fd, void* buf, size_t n, int64_t offset = -1);
// The one EINTR-safe write: all `n` bytes with write(2) (offset < 0) or pwrite(2) from `offset`,
// continuing after short writes and interrupted calls. Errors: "write <path>: <cause>".
Status WriteFd(int fd, const void* data, size_t n, int64_t offset, const std::string& path);

// "<dir>/.<name>.tb-tmp.<pid>.<n>": a unique sibling temp name for `path`.
std::string TempSiblingPath(const std::string& path);
// True for names produced by TempSiblingPath (so cleanup and listings can skip them).
bool IsTempName(std::string_view filename);

// Writes `data` to `path` atomically (temp + fsync + rename).
Status WriteFileAtomic(const std::string& path, std::string_view data);
Result<std::string> ReadFile(const std::string& path);
// Opens an input data file read-only, refusing anything but a regular file: the open is
// non-blocking (a FIFO without a writer, or a device, never hangs it) and the check is an
// fstat of the opened descriptor (no race with a rename). Errors: "<path>: not a regular
// file (fifo)". The caller closes the returned fd; `st` (optional) receives its fstat.
Result<int> OpenRegularFile(const std::string& path, struct ::stat* st = nullptr);
// mkdir -p
Status MakeDirs(const std::string& path);
// rm -rf (no error if missing)
Status RemoveAll(const std::string& path);
// Free bytes on the filesystem holding `path` (or its nearest existing parent).
Result<uint64_t> FreeBytes(const std::string& path);

// A file being written under a temp name; Commit() renames it to its final path, the
// destructor removes it if not committed.
class AtomicFile {
 public:
  static Result<AtomicFile> Create(const std::string& final_path);
  AtomicFile(AtomicFile&& o) noexcept;
  AtomicFile& operator=(AtomicFile&&) = delete;
  ~AtomicFile();
  int fd() const { return fd_; }
  const std::string& final_path() const { return final_path_; }
  const std::string& temp_path() const { return temp_path_; }
  Status Write(const void* data, size_t n);
  Status Commit(bool fsync_file = false);
  void Abort();

 private:
  AtomicFile(int fd, std::string final_path, std::string temp_path)
      : fd_(fd), final_path_(std::move(final_path)), temp_path_(std::move(temp_path)) {}
  int fd_ = -1;
  std::string final_path_, temp_path_;
};

}  // namespace tb
