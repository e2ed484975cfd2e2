// Safe extraction of .tar / .tar.gz (libarchive parses tar; gzip is inflated with ISA-L,
// see gzip_reader.h, other compressions by libarchive's filters): refuses absolute paths, ".." components,
// links pointing outside the destination, writing through an extracted symlink, device nodes
// and FIFOs; bounds the expansion ratio, total bytes, entries and the
// space left on the destination's filesystem. Members are written under temporary names and
// renamed into place when complete. Errors name the archive, the entry and the cause.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "util/fs.h"
#include "util/status.h"

namespace tb::dataset {

// A regular member written completely under a temporary name, not yet hashed nor renamed
// (see ExtractOptions::defer_member).
struct PendingMember {
  std::string path;  // relative to the destination, as in the archive (normalised)
  AtomicFile file;   // Commit() renames it into place; destroying it removes it
  uint64_t size = 0;
  bool has_data = false;  // `data` holds the member's bytes (see keep_member_bytes)
  std::string data;
};

// Real archives stay far below these limits (a CIFAR-10 tarball expands 1.05 to 1), while
// DEFLATE alone reaches about 1030 to 1 on zeros: the ratio limit stops a decompression bomb
// after a few hundred MiB at most, long before it fills the disk.
inline constexpr double kDefaultMaxExpansionRatio = 200;
inline constexpr uint64_t kExpansionAllowanceBytes = 64ull << 20;  // small archives may expand more

struct ExtractOptions {
  uint64_t max_total_bytes = 0;  // 0 = no absolute limit (the ratio and free space still apply)
  // Refuses the archive once the bytes it expands to pass this many per compressed byte read
  // so far, plus kExpansionAllowanceBytes (0 = no ratio limit).
  double max_expansion_ratio = kDefaultMaxExpansionRatio;
  // Refuses a member that would leave less free space than this on the destination's
  // filesystem: checked against its declared size before it is written, and while writing
  // (0 = no check; a full disk still fails with ENOSPC).
  uint64_t min_free_bytes = 0;
  uint64_t max_entries = 0;      // 0 = default limit (1,000,000)
  const std::function<void(uint64_t bytes, uint64_t files)>* progress = nullptr;
  // When set, every regular file is handed over here once written under its temporary name,
  // uncommitted; the receiver verifies and commits it (streaming ingest: in batches, with
  // multi-buffer MD5, on another thread). A member it drops never appears under its final
  // name; an error stops extraction.
  std::function<Status(PendingMember member)> defer_member;
  // With defer_member: members up to this size also travel in memory (PendingMember::data),
  // so the receiver can hash them without reading them back.
  uint64_t keep_member_bytes = 0;
  // Polled for every chunk read: when it becomes true, extraction stops with Status::Cancelled
  // (the member being written is removed: nothing partial appears under its final name).
  const std::atomic<bool>* cancel = nullptr;
};

struct ExtractStats {
  uint64_t files = 0;
  uint64_t bytes = 0;  // uncompressed member bytes written
};

Result<ExtractStats> ExtractArchive(const std::string& archive_path, const std::string& dest_dir,
                                    const ExtractOptions& options = {});

// Extracts an archive read from `read` (returns 0 at the end), e.g. a network stream being
// downloaded; `name` (the source URI) appears in errors. Same safety rules as above.
using ArchiveReadFn = std::function<Result<size_t>(char* buf, size_t n)>;
Result<ExtractStats> ExtractStream(const ArchiveReadFn& read, const std::string& name,
                                   const std::string& dest_dir, const ExtractOptions& options = {});

}  // namespace tb::dataset
