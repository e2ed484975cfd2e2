// Local filesystem helpers. Every output is written under a temporary name in the same
// directory and renamed into place only when complete, so a crash never leaves a file that
// passes for complete. Errors name the path and the cause.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/status.h"

struct stat;

namespace tb {

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
