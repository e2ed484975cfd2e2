#include "dataset/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "dataset/gzip_reader.h"
#include "util/fs.h"
#include "util/text.h"

namespace tb::dataset {

namespace {

constexpr uint64_t kDefaultMaxEntries = 1000000;
constexpr size_t kBufferBytes = 1 << 20;
constexpr uint64_t kSpaceCheckBytes = 16 << 20;  // free space is looked at every 16 MiB written

struct ArchiveCloser {
  void operator()(struct archive* a) const { archive_read_free(a); }
};

// Splits a member name into safe components: refuses absolute paths and ".." anywhere;
// drops "." and empty components. `why` receives the reason on failure.
bool SafeComponents(std::string_view name, std::vector<std::string>* parts, std::string* why) {
  parts->clear();
  if (name.empty()) {
    *why = "empty name";
    return false;
  }
  if (name[0] == '/') {
    *why = "absolute path";
    return false;
  }
  size_t i = 0;
  while (i <= name.size()) {
    size_t j = name.find('/', i);
    if (j == std::string_view::npos) j = name.size();
    std::string_view c = name.substr(i, j - i);
    if (c == "..") {
      *why = "'..' component";
      return false;
    }
    if (!c.empty() && c != ".") parts->emplace_back(c);
    i = j + 1;
  }
  return true;
}

std::string Join(const std::vector<std::string>& parts, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    if (i) out += '/';
    out += parts[i];
  }
  return out;
}

class Extractor {
 public:
  Extractor(const std::string& archive_path, const std::string& dest, const ExtractOptions& options,
            const ArchiveReadFn* read = nullptr)
      : archive_path_(archive_path), dest_(dest), options_(options), read_(read) {}

  Result<ExtractStats> Run();

 private:
  Status Refuse(const std::string& entry, const std::string& cause) const {
    return Status::PermissionDenied("extract " + archive_path_ + ": entry '" + ShownName(entry) + "': refused: " + cause);
  }
  Status Fail(const std::string& entry, const Status& s) const {
    return s.Prefix("extract " + archive_path_ + ": entry '" + ShownName(entry) + "'");
  }
  // Creates the directories of parts[0..n) under dest, refusing anything that is not a real
  // directory (an extracted symlink or a file) on the way.
  Status MakeParents(const std::string& entry, const std::vector<std::string>& parts, size_t n,
                     bool create = true);
  Status ExtractFile(struct archive* a, struct archive_entry* e, const std::string& entry,
                     const std::vector<std::string>& parts);
  Status ExtractSymlink(struct archive_entry* e, const std::string& entry, const std::vector<std::string>& parts);
  Status ExtractHardlink(struct archive_entry* e, const std::string& entry, const std::vector<std::string>& parts);

  // Opens the source (the stream, or the archive file) and looks at its first bytes: gzip is
  // inflated here with ISA-L so libarchive sees plain tar; anything else goes to libarchive.
  Status OpenSource();
  Result<size_t> ReadSource(char* buf, size_t n);
  Result<size_t> ReadDecoded(char* buf, size_t n);
  Status Cancelled() const {
    return Status::Cancelled("extract " + archive_path_ + ": interrupted");
  }
  bool cancelled() const { return options_.cancel && options_.cancel->load(); }

  // libarchive's read callback: fills in_buf_ from the (decoded) source.
  static la_ssize_t ReadCallback(struct archive* a, void* self, const void** out) {
    auto* x = static_cast<Extractor*>(self);
    if (x->in_buf_.empty()) x->in_buf_.resize(kBufferBytes);
    auto n = x->cancelled() ? Result<size_t>(x->Cancelled()) : x->ReadDecoded(x->in_buf_.data(), x->in_buf_.size());
    if (!n.ok()) {
      x->read_error_ = n.status();
      archive_set_error(a, EIO, "%s", n.status().message().c_str());
      return -1;
    }
    *out = x->in_buf_.data();
    return static_cast<la_ssize_t>(*n);
  }

  std::string Path(const std::vector<std::string>& parts, size_t n) const { return dest_ + "/" + Join(parts, n); }

  const std::string archive_path_;
  const std::string dest_;
  const ExtractOptions& options_;
  const ArchiveReadFn* read_;  // stream source, or null to read archive_path_
  Status read_error_;          // the stream's own error, reported instead of libarchive's
  uint64_t source_read_ = 0;   // compressed bytes taken from the source so far
  uint64_t next_space_check_ = 0;  // stats_.bytes at which free space is looked at again
  uint64_t decoded_ = 0;           // bytes inflated from a gzip source
  std::string current_entry_ = "(archive header)";  // for errors raised while reading
  // The expansion limit: the ratio to what was read so far plus an allowance (a bomb expands
  // from a few bytes), and the explicit total when set.
  uint64_t MaxBytes() const {
    uint64_t limit = ~uint64_t{0};
    if (options_.max_expansion_ratio > 0) {
      double ratio_limit = options_.max_expansion_ratio * static_cast<double>(source_read_) +
                           static_cast<double>(kExpansionAllowanceBytes);
      if (ratio_limit < static_cast<double>(limit)) limit = static_cast<uint64_t>(ratio_limit);
    }
    if (options_.max_total_bytes) limit = std::min(limit, options_.max_total_bytes);
    return limit;
  }
  Status ExpansionRefused(const std::string& entry, uint64_t bytes) const {
    std::string why = "archive expands past the limit of " + std::to_string(MaxBytes()) + " bytes (" +
                      std::to_string(bytes) + " bytes from " + std::to_string(source_read_) + " compressed";
    if (options_.max_expansion_ratio > 0) {
      char ratio[32];
      std::snprintf(ratio, sizeof ratio, "%g", options_.max_expansion_ratio);
      why += std::string("; at most ") + ratio + " to 1 past " + std::to_string(kExpansionAllowanceBytes >> 20) +
             " MiB: a decompression bomb";
    }
    return Refuse(entry, why + ")");
  }
  // Refuses `entry` when writing `more` bytes would leave less than min_free_bytes free.
  Status CheckSpace(const std::string& entry, uint64_t more) const {
    if (options_.min_free_bytes == 0) return Status::Ok();
    auto free_bytes = FreeBytes(dest_);
    if (!free_bytes.ok()) return Status::Ok();  // a write error will tell
    if (*free_bytes >= options_.min_free_bytes && *free_bytes - options_.min_free_bytes >= more) return Status::Ok();
    return Status::NoSpace("extract " + archive_path_ + ": entry '" + entry + "': refused: " +
                           (more ? std::to_string(more) + " more bytes" : std::string("writing on")) +
                           " would leave less than " + std::to_string(options_.min_free_bytes) +
                           " bytes of free space on " + dest_ + " (" + std::to_string(*free_bytes) + " free)");
  }
  ExtractStats stats_;
  std::vector<char> buf_;
  std::vector<char> in_buf_;  // stream input
  int file_fd_ = -1;          // the archive file when reading from a path
  std::string prefix_;        // sniffed bytes not yet handed on (plain, not gzip)
  size_t prefix_off_ = 0;
  std::unique_ptr<GzipReader> gzip_;

 public:
  ~Extractor() {
    if (file_fd_ >= 0) ::close(file_fd_);
  }
};

Result<size_t> Extractor::ReadSource(char* buf, size_t n) {
  if (read_) {
    auto got = (*read_)(buf, n);
    if (got.ok()) source_read_ += *got;
    return got;
  }
  long r = ReadFd(file_fd_, buf, n);
  if (r < 0) return Status::FromErrno(errno, "extract: read", archive_path_);
  source_read_ += static_cast<uint64_t>(r);
  return static_cast<size_t>(r);
}

Result<size_t> Extractor::ReadDecoded(char* buf, size_t n) {
  if (gzip_) {
    // Every inflated byte counts, also those libarchive skips (data of non-file entries).
    TB_ASSIGN_OR_RETURN(size_t got, gzip_->Read(buf, n));
    decoded_ += got;
    if (decoded_ > MaxBytes()) return ExpansionRefused(current_entry_, decoded_);
    return got;
  }
  if (prefix_off_ < prefix_.size()) {
    size_t k = std::min(n, prefix_.size() - prefix_off_);
    std::memcpy(buf, prefix_.data() + prefix_off_, k);
    prefix_off_ += k;
    return k;
  }
  return ReadSource(buf, n);
}

Status Extractor::OpenSource() {
  if (!read_) {
    file_fd_ = ::open(archive_path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (file_fd_ < 0) return Status::FromErrno(errno, "extract: open", archive_path_);
    posix_fadvise(file_fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
  }
  // Enough bytes to recognise a gzip header (a short read is not the end of the stream).
  std::string head(kBufferBytes, '\0');
  size_t have = 0;
  while (have < 3) {
    TB_ASSIGN_OR_RETURN(size_t k, ReadSource(head.data() + have, head.size() - have));
    if (k == 0) break;
    have += k;
  }
  head.resize(have);
  if (LooksLikeGzip(head.data(), head.size())) {
    gzip_ = std::make_unique<GzipReader>([this](char* buf, size_t n) { return ReadSource(buf, n); }, archive_path_,
                                         std::move(head));
  } else {
    prefix_ = std::move(head);
  }
  return Status::Ok();
}

Status Extractor::MakeParents(const std::string& entry, const std::vector<std::string>& parts, size_t n,
                              bool create) {
  for (size_t i = 1; i <= n; ++i) {
    std::string p = Path(parts, i);
    struct stat st {};
    if (::lstat(p.c_str(), &st) == 0) {
      if (S_ISLNK(st.st_mode)) return Refuse(entry, "would write through the extracted symlink '" + Join(parts, i) + "'");
      if (!S_ISDIR(st.st_mode)) return Refuse(entry, "'" + Join(parts, i) + "' is not a directory");
      continue;
    }
    if (errno != ENOENT || !create) return Fail(entry, Status::FromErrno(errno, "stat", p));
    if (::mkdir(p.c_str(), 0755) != 0 && errno != EEXIST) return Fail(entry, Status::FromErrno(errno, "mkdir", p));
  }
  return Status::Ok();
}

Status Extractor::ExtractFile(struct archive* a, struct archive_entry* e, const std::string& entry,
                              const std::vector<std::string>& parts) {
  TB_RETURN_IF_ERROR(MakeParents(entry, parts, parts.size() - 1));
  std::string final_path = Path(parts, parts.size());
  if (archive_entry_size_is_set(e) && archive_entry_size(e) > 0) {
    TB_RETURN_IF_ERROR(CheckSpace(entry, static_cast<uint64_t>(archive_entry_size(e))));
  }
  TB_ASSIGN_OR_RETURN(AtomicFile out, AtomicFile::Create(final_path));
  uint64_t size = 0;
  bool keep = options_.defer_member && archive_entry_size_is_set(e) && archive_entry_size(e) >= 0 &&
              static_cast<uint64_t>(archive_entry_size(e)) <= options_.keep_member_bytes;
  std::string kept;
  if (keep) kept.reserve(static_cast<size_t>(archive_entry_size(e)));
  for (;;) {
    // Per chunk, not per member: a large member must not delay an interrupt by seconds. The
    // member is still under its temporary name, which `out` removes on the way out.
    if (cancelled()) return Cancelled();
    la_ssize_t n = archive_read_data(a, buf_.data(), buf_.size());
    if (n < 0) {
      if (!read_error_.ok()) return read_error_;
      return Status::Corruption("extract " + archive_path_ + ": entry '" + ShownName(entry) + "': " + archive_error_string(a));
    }
    if (n == 0) break;
    stats_.bytes += static_cast<uint64_t>(n);
    size += static_cast<uint64_t>(n);
    if (stats_.bytes > MaxBytes()) return ExpansionRefused(entry, stats_.bytes);
    if (stats_.bytes >= next_space_check_) {  // others may be filling the disk too
      TB_RETURN_IF_ERROR(CheckSpace(entry, 0));
      next_space_check_ = stats_.bytes + kSpaceCheckBytes;
    }
    TB_RETURN_IF_ERROR(out.Write(buf_.data(), static_cast<size_t>(n)));
    if (keep) kept.append(buf_.data(), static_cast<size_t>(n));
    if (options_.progress && *options_.progress) (*options_.progress)(static_cast<uint64_t>(n), 0);
  }
  mode_t mode = (archive_entry_perm(e) & 0755) | 0600;  // never setuid/setgid/sticky
  ::fchmod(out.fd(), mode);
  if (archive_entry_mtime_is_set(e)) {
    struct timespec ts[2] = {};
    ts[0].tv_nsec = UTIME_OMIT;
    ts[1].tv_sec = archive_entry_mtime(e);
    ts[1].tv_nsec = archive_entry_mtime_nsec(e);
    ::futimens(out.fd(), ts);
  }
  if (options_.defer_member) {
    return options_.defer_member(PendingMember{Join(parts, parts.size()), std::move(out), size, keep, std::move(kept)});
  }
  TB_RETURN_IF_ERROR(out.Commit());
  return Status::Ok();
}

Status Extractor::ExtractSymlink(struct archive_entry* e, const std::string& entry,
                                 const std::vector<std::string>& parts) {
  const char* target = archive_entry_symlink(e);
  if (target == nullptr || *target == '\0') return Refuse(entry, "symlink without a target");
  std::vector<std::string> tparts;
  std::string why;
  // Links may only point down into the extracted tree: relative and without "..", so no
  // chain of links can lead outside the destination.
  if (!SafeComponents(target, &tparts, &why)) {
    return Refuse(entry, "symlink to '" + std::string(target) + "' points outside the destination (" + why + ")");
  }
  TB_RETURN_IF_ERROR(MakeParents(entry, parts, parts.size() - 1));
  std::string final_path = Path(parts, parts.size());
  std::string tmp = TempSiblingPath(final_path);
  if (::symlink(target, tmp.c_str()) != 0) return Fail(entry, Status::FromErrno(errno, "symlink", tmp));
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return Fail(entry, Status::FromErrno(err, "rename to", final_path));
  }
  return Status::Ok();
}

Status Extractor::ExtractHardlink(struct archive_entry* e, const std::string& entry,
                                  const std::vector<std::string>& parts) {
  const char* target = archive_entry_hardlink(e);
  std::vector<std::string> tparts;
  std::string why;
  if (!SafeComponents(target, &tparts, &why) || tparts.empty()) {
    return Refuse(entry, "hard link to '" + std::string(target) + "' points outside the destination (" + why + ")");
  }
  // The target must be a regular file this extraction can reach without following links.
  TB_RETURN_IF_ERROR(MakeParents(entry, tparts, tparts.size() - 1, /*create=*/false));
  std::string target_path = Path(tparts, tparts.size());
  struct stat st {};
  if (::lstat(target_path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return Refuse(entry, "hard link target '" + std::string(target) + "' is not an extracted regular file");
  }
  TB_RETURN_IF_ERROR(MakeParents(entry, parts, parts.size() - 1));
  std::string final_path = Path(parts, parts.size());
  std::string tmp = TempSiblingPath(final_path);
  if (::link(target_path.c_str(), tmp.c_str()) != 0) return Fail(entry, Status::FromErrno(errno, "link", tmp));
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return Fail(entry, Status::FromErrno(err, "rename to", final_path));
  }
  return Status::Ok();
}

Result<ExtractStats> Extractor::Run() {
  uint64_t max_entries = options_.max_entries ? options_.max_entries : kDefaultMaxEntries;
  TB_RETURN_IF_ERROR(MakeDirs(dest_));
  buf_.resize(kBufferBytes);

  TB_RETURN_IF_ERROR(OpenSource());
  std::unique_ptr<struct archive, ArchiveCloser> a(archive_read_new());
  archive_read_support_filter_all(a.get());
  archive_read_support_format_tar(a.get());
  int opened = archive_read_open(a.get(), this, nullptr, &Extractor::ReadCallback, nullptr);
  if (opened != ARCHIVE_OK) {
    if (!read_error_.ok()) return read_error_;
    return Status::Corruption("extract " + archive_path_ + ": " + archive_error_string(a.get()));
  }
  uint64_t entries = 0;
  for (;;) {
    struct archive_entry* e = nullptr;
    int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      if (!read_error_.ok()) return read_error_;
      return Status::Corruption("extract " + archive_path_ + ": after " + std::to_string(entries) +
                                " entries: " + archive_error_string(a.get()));
    }
    const char* raw_name = archive_entry_pathname(e);
    std::string entry = raw_name ? raw_name : "";
    current_entry_ = entry;
    if (++entries > max_entries) {
      return Refuse(entry, "more than " + std::to_string(max_entries) + " entries");
    }
    std::vector<std::string> parts;
    std::string why;
    if (!SafeComponents(entry, &parts, &why)) return Refuse(entry, why);
    if (parts.empty()) continue;  // "./"
    for (const auto& p : parts) {
      if (IsTempName(p)) return Refuse(entry, "name collides with tierbench temporary files");
    }
    if (archive_entry_hardlink(e) != nullptr) {
      TB_RETURN_IF_ERROR(ExtractHardlink(e, entry, parts));
      ++stats_.files;
      continue;
    }
    switch (archive_entry_filetype(e)) {
      case AE_IFREG:
        TB_RETURN_IF_ERROR(ExtractFile(a.get(), e, entry, parts));
        ++stats_.files;
        if (options_.progress && *options_.progress) (*options_.progress)(0, 1);
        break;
      case AE_IFDIR:
        TB_RETURN_IF_ERROR(MakeParents(entry, parts, parts.size()));
        break;
      case AE_IFLNK:
        TB_RETURN_IF_ERROR(ExtractSymlink(e, entry, parts));
        ++stats_.files;
        break;
      case AE_IFCHR:
      case AE_IFBLK:
        return Refuse(entry, "device node");
      case AE_IFIFO:
        return Refuse(entry, "FIFO");
      case AE_IFSOCK:
        return Refuse(entry, "socket");
      default:
        return Refuse(entry, "unsupported entry type");
    }
  }
  // The tar end marker may come before the end of the gzip stream: inflate the rest too, so
  // the last member's CRC-32 and length are checked (bounded like the members).
  if (gzip_) {
    current_entry_ = "(after the last entry)";
    for (;;) {
      if (cancelled()) return Cancelled();
      TB_ASSIGN_OR_RETURN(size_t n, ReadDecoded(buf_.data(), buf_.size()));  // counts towards MaxBytes
      if (n == 0) break;
    }
  }
  return stats_;
}

}  // namespace

Result<ExtractStats> ExtractArchive(const std::string& archive_path, const std::string& dest_dir,
                                    const ExtractOptions& options) {
  Extractor x(archive_path, dest_dir, options);
  return x.Run();
}

Result<ExtractStats> ExtractStream(const ArchiveReadFn& read, const std::string& name, const std::string& dest_dir,
                                   const ExtractOptions& options) {
  Extractor x(name, dest_dir, options, &read);
  return x.Run();
}

}  // namespace tb::dataset
