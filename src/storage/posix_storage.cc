// Local directory backend: large positional reads, atomic writes (temp sibling + rename),
// parallel part writes into one preallocated temp file.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

#include "storage/storage.h"
#include "util/fs.h"

namespace tb::storage {

namespace {

namespace fs = std::filesystem;

// Rejects keys that would escape the root or name nothing.
Status CheckKey(std::string_view key, const std::string& describe) {
  if (key.empty() || key.front() == '/') return Status::InvalidArgument("invalid object key for " + describe);
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    std::string_view part = key.substr(start, end - start);
    if (part == ".." || part == ".") return Status::InvalidArgument("object key escapes its root: " + describe);
    start = end + 1;
  }
  return Status::Ok();
}

class PosixReader : public Reader {
 public:
  PosixReader(int fd, std::string path, uint64_t pos, uint64_t end)
      : fd_(fd), path_(std::move(path)), pos_(pos), end_(end) {}
  ~PosixReader() override { ::close(fd_); }

  Result<size_t> Read(char* buf, size_t n) override {
    if (end_ != kToEnd) n = static_cast<size_t>(std::min<uint64_t>(n, end_ - pos_));
    if (n == 0) return size_t{0};
    long r = ReadFd(fd_, buf, n, static_cast<int64_t>(pos_));
    if (r < 0) return Status::FromErrno(errno, "read", path_);
    pos_ += static_cast<uint64_t>(r);
    return static_cast<size_t>(r);
  }

 private:
  int fd_;
  std::string path_;
  uint64_t pos_, end_;
};

class PosixWriter : public Writer {
 public:
  explicit PosixWriter(AtomicFile file) : file_(std::move(file)) {}
  Status Append(std::string_view data) override {
    if (committed_) return Status::Internal("append after commit to " + file_.final_path());
    return file_.Write(data.data(), data.size());
  }
  Status Commit() override {
    committed_ = true;
    Status s = file_.Commit();
    if (!s.ok()) file_.Abort();
    return s;
  }

 private:
  AtomicFile file_;
  bool committed_ = false;
};

class PosixParallelWriter : public ParallelWriter {
 public:
  PosixParallelWriter(AtomicFile file, uint64_t size) : file_(std::move(file)), size_(size) {}
  Status WriteAt(uint64_t offset, std::string_view data) override {
    if (offset + data.size() > size_) {
      return Status::InvalidArgument("write past the declared size of " + file_.final_path());
    }
    return WriteFd(file_.fd(), data.data(), data.size(), static_cast<int64_t>(offset), file_.final_path());
  }
  Status Commit() override {
    Status s = file_.Commit();
    if (!s.ok()) file_.Abort();
    return s;
  }

 private:
  AtomicFile file_;
  uint64_t size_;
};

// What a non-regular, non-directory entry is, for the entries a listing leaves out.
const char* SpecialKind(fs::file_type type) {
  switch (type) {
    case fs::file_type::fifo: return "FIFO";
    case fs::file_type::socket: return "socket";
    case fs::file_type::block: return "block device";
    case fs::file_type::character: return "character device";
    default: return "not a regular file";
  }
}

class PosixStorage : public Storage {
 public:
  explicit PosixStorage(std::string root) : root_(std::move(root)) {}

  std::string Describe(std::string_view key) const override { return Path(key); }
  Capabilities caps() const override {
    Capabilities c;
    c.writable = c.listable = c.ranged_reads = c.parallel_writes = c.sequential_writes = true;
    return c;
  }

  Result<ObjectInfo> Stat(std::string_view key) override {
    TB_RETURN_IF_ERROR(CheckKey(key, Describe(key)));
    std::string path = Path(key);
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return Status::FromErrno(errno, "stat", path);
    if (!S_ISREG(st.st_mode)) return Status::InvalidArgument("not a regular file: " + path);
    return ObjectInfo{std::string(key), static_cast<uint64_t>(st.st_size), ""};
  }

  Result<std::unique_ptr<Reader>> OpenRead(std::string_view key, uint64_t offset, uint64_t length) override {
    TB_RETURN_IF_ERROR(CheckKey(key, Describe(key)));
    std::string path = Path(key);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::FromErrno(errno, "open", path);
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      return Status::InvalidArgument("not a regular file: " + path);
    }
    if (offset == 0 && length == kToEnd) ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    uint64_t end = length == kToEnd ? kToEnd : offset + length;
    return std::unique_ptr<Reader>(new PosixReader(fd, std::move(path), offset, end));
  }

  Result<std::unique_ptr<Writer>> OpenWrite(std::string_view key, uint64_t) override {
    TB_ASSIGN_OR_RETURN(AtomicFile file, CreateFile(key));
    return std::unique_ptr<Writer>(new PosixWriter(std::move(file)));
  }

  Result<std::unique_ptr<ParallelWriter>> OpenParallelWrite(std::string_view key, uint64_t size_bytes,
                                                            uint64_t) override {
    TB_ASSIGN_OR_RETURN(AtomicFile file, CreateFile(key));
    if (size_bytes > 0) {
      // Reserve the blocks up front (fewer extents, early ENOSPC); fall back to a sparse size.
      // (fallocate(2), not posix_fallocate: no slow zero-filling emulation where unsupported.)
      int err = ::fallocate(file.fd(), 0, 0, static_cast<off_t>(size_bytes)) == 0 ? 0 : errno;
      if (err == ENOSPC) return Status::FromErrno(err, "preallocate", file.final_path());
      if (err != 0 && ::ftruncate(file.fd(), static_cast<off_t>(size_bytes)) != 0) {
        return Status::FromErrno(errno, "truncate", file.final_path());
      }
    }
    return std::unique_ptr<ParallelWriter>(new PosixParallelWriter(std::move(file), size_bytes));
  }

  Result<std::vector<ObjectInfo>> List(std::string_view prefix) override { return ListWithSkipped(prefix, nullptr); }

  Result<std::vector<ObjectInfo>> ListWithSkipped(std::string_view prefix,
                                                  std::vector<SkippedEntry>* skipped) override {
    std::vector<ObjectInfo> out;
    // Walk only the deepest directory the prefix names.
    std::string_view dir_part = prefix.substr(0, prefix.rfind('/') == std::string_view::npos ? 0 : prefix.rfind('/'));
    std::string start = dir_part.empty() ? root_ : Path(dir_part);
    std::error_code ec;
    if (!fs::is_directory(start, ec)) {
      if (prefix.empty() && !fs::exists(root_, ec)) return Status::NotFound("no such directory: " + root_);
      return out;
    }
    fs::recursive_directory_iterator it(start, fs::directory_options::none, ec), end;
    if (ec) return Status::FromErrno(ec.value(), "list", start);
    const size_t root_len = root_ == "/" ? 1 : root_.size() + 1;
    std::vector<SkippedEntry> left_out;
    for (; it != end; it.increment(ec)) {
      if (ec) return Status::FromErrno(ec.value(), "list", start);
      const fs::path& p = it->path();
      std::string name = p.filename().string();
      if (IsTempName(name)) continue;
      fs::file_type type = it->symlink_status(ec).type();
      if (type == fs::file_type::not_found) continue;  // removed while listing
      if (ec) return Status::FromErrno(ec.value(), "stat", p.string());
      if (type == fs::file_type::directory) continue;  // walked into
      std::string key = p.string().substr(root_len);
      if (key.compare(0, prefix.size(), prefix) != 0) continue;
      const char* kind = nullptr;
      if (type == fs::file_type::symlink) {
        fs::file_type target = fs::status(p, ec).type();
        if (target == fs::file_type::regular) type = target;
        else if (target == fs::file_type::directory) kind = "symlink to a directory (not followed)";
        else if (target == fs::file_type::not_found) kind = "dangling symlink";
        else if (ec) kind = "unresolvable symlink";  // e.g. a loop (ELOOP)
        else kind = "symlink to a special file";
        ec.clear();
      }
      if (type != fs::file_type::regular) {
        if (!kind) kind = SpecialKind(type);
        left_out.push_back(SkippedEntry{std::move(key), kind});
        continue;
      }
      uint64_t size = it->file_size(ec);
      if (ec) return Status::FromErrno(ec.value(), "stat", p.string());
      out.push_back(ObjectInfo{std::move(key), size, ""});
    }
    std::sort(out.begin(), out.end(), [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
    std::sort(left_out.begin(), left_out.end(), [](const SkippedEntry& a, const SkippedEntry& b) { return a.key < b.key; });
    if (skipped) skipped->insert(skipped->end(), left_out.begin(), left_out.end());
    return out;
  }

  Status Delete(std::string_view key) override {
    TB_RETURN_IF_ERROR(CheckKey(key, Describe(key)));
    std::string path = Path(key);
    if (::unlink(path.c_str()) != 0) return Status::FromErrno(errno, "delete", path);
    return Status::Ok();
  }

 private:
  std::string Path(std::string_view key) const {
    if (key.empty()) return root_;
    return root_ == "/" ? "/" + std::string(key) : root_ + "/" + std::string(key);
  }

  Result<AtomicFile> CreateFile(std::string_view key) {
    TB_RETURN_IF_ERROR(CheckKey(key, Describe(key)));
    std::string path = Path(key);
    TB_RETURN_IF_ERROR(MakeDirs(fs::path(path).parent_path().string()));
    return AtomicFile::Create(path);
  }

  std::string root_;
};

}  // namespace

std::unique_ptr<Storage> NewPosixStorage(std::string root) {
  if (root.empty()) root = ".";
  return std::make_unique<PosixStorage>(std::move(root));
}

}  // namespace tb::storage
