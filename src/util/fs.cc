#include "util/fs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>

namespace tb {

namespace fs = std::filesystem;

std::string TempSiblingPath(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  fs::path p(path);
  std::string name = "." + p.filename().string() + ".tb-tmp." + std::to_string(getpid()) + "." +
                     std::to_string(counter.fetch_add(1));
  return (p.parent_path() / name).string();
}

bool IsTempName(std::string_view filename) {
  return !filename.empty() && filename[0] == '.' && filename.find(".tb-tmp.") != std::string_view::npos;
}

Result<AtomicFile> AtomicFile::Create(const std::string& final_path) {
  std::string tmp = TempSiblingPath(final_path);
  int fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);  // readable: verified before commit
  if (fd < 0) return Status::FromErrno(errno, "create", tmp);
  return AtomicFile(fd, final_path, tmp);
}

AtomicFile::AtomicFile(AtomicFile&& o) noexcept
    : fd_(o.fd_), final_path_(std::move(o.final_path_)), temp_path_(std::move(o.temp_path_)) {
  o.fd_ = -1;
  o.temp_path_.clear();
}

AtomicFile::~AtomicFile() { Abort(); }

Status AtomicFile::Write(const void* data, size_t n) { return WriteFd(fd_, data, n, -1, final_path_); }

long ReadFd(int fd, void* buf, size_t n, int64_t offset) {
  for (;;) {
    ssize_t got = offset < 0 ? ::read(fd, buf, n) : ::pread(fd, buf, n, static_cast<off_t>(offset));
    if (got >= 0 || errno != EINTR) return static_cast<long>(got);
  }
}

Status WriteFd(int fd, const void* data, size_t n, int64_t offset, const std::string& path) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = offset < 0 ? ::write(fd, p, n) : ::pwrite(fd, p, n, static_cast<off_t>(offset));
    if (w < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(errno, "write", path);
    }
    p += w;
    n -= static_cast<size_t>(w);
    if (offset >= 0) offset += w;
  }
  return Status::Ok();
}

Status AtomicFile::Commit(bool fsync_file) {
  if (fd_ < 0) return Status::Internal("commit of closed file " + final_path_);
  if (fsync_file && ::fsync(fd_) != 0) return Status::FromErrno(errno, "fsync", final_path_);
  if (::close(fd_) != 0) {
    fd_ = -1;
    return Status::FromErrno(errno, "close", final_path_);
  }
  fd_ = -1;
  if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
    return Status::FromErrno(errno, "rename to", final_path_);
  }
  temp_path_.clear();
  return Status::Ok();
}

void AtomicFile::Abort() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!temp_path_.empty()) ::unlink(temp_path_.c_str());
  temp_path_.clear();
}

Status WriteFileAtomic(const std::string& path, std::string_view data) {
  TB_ASSIGN_OR_RETURN(AtomicFile f, AtomicFile::Create(path));
  TB_RETURN_IF_ERROR(f.Write(data.data(), data.size()));
  return f.Commit(true);
}

Result<int> OpenRegularFile(const std::string& path, struct ::stat* st_out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return Status::FromErrno(errno, "open", path);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return Status::FromErrno(err, "stat", path);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    const char* kind = S_ISDIR(st.st_mode) ? "directory" : S_ISFIFO(st.st_mode) ? "fifo"
                       : S_ISSOCK(st.st_mode) ? "socket" : S_ISCHR(st.st_mode) ? "character device"
                       : S_ISBLK(st.st_mode) ? "block device" : "special file";
    return Status::InvalidArgument(path + ": not a regular file (" + kind + ")");
  }
  // Reads of a regular file never block anyway; clear the flag so none of them can see EAGAIN.
  int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) (void)::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  if (st_out != nullptr) *st_out = st;
  return fd;
}

Result<std::string> ReadFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, "open", path);
  std::string out;
  struct stat st {};
  if (fstat(fd, &st) == 0 && st.st_size > 0) out.reserve(static_cast<size_t>(st.st_size));
  char buf[1 << 16];
  for (;;) {
    long n = ReadFd(fd, buf, sizeof buf);
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return Status::FromErrno(err, "read", path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

Status MakeDirs(const std::string& path) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) return Status::FromErrno(ec.value(), "mkdir", path);
  return Status::Ok();
}

Status RemoveAll(const std::string& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) return Status::FromErrno(ec.value(), "remove", path);
  return Status::Ok();
}

Result<uint64_t> FreeBytes(const std::string& path) {
  fs::path p(path);
  std::error_code ec;
  while (!p.empty() && !fs::exists(p, ec)) p = p.parent_path();
  if (p.empty()) p = ".";
  struct statvfs sv {};
  if (statvfs(p.c_str(), &sv) != 0) return Status::FromErrno(errno, "statvfs", p.string());
  return static_cast<uint64_t>(sv.f_bavail) * sv.f_frsize;
}

}  // namespace tb
