// Reproducible tarballs: POSIX ustar members with a fixed mtime, uid/gid 0 and owner names
// "root", in the order given, padded to GNU tar's 10,240-byte records; optionally gzip-
// compressed in parallel (pigz-style: fixed 4 MiB blocks deflated independently and joined
// with sync flushes into one gzip member, so the bytes do not depend on the thread count).
// Output is written under a temporary name and renamed when complete.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "util/status.h"

namespace tb::dataset {

struct TarMember {
  std::string name;         // path inside the archive ("dir/" style names for directories)
  std::string source_path;  // file whose bytes become the member (empty for directories)
  uint64_t size = 0;        // bytes of source_path (must match the file)
  bool is_dir = false;
};

struct TarOptions {
  bool gzip = true;
  int level = 6;                      // zlib level
  int64_t mtime = 1262304000;         // 2010-01-01T00:00:00Z for every member
  int threads = 0;                    // 0 = all cores
};

// Writes the archive to `out_path`; returns the md5 (hex) of the written bytes.
Result<std::string> WriteTarball(const std::string& out_path, const std::vector<TarMember>& members,
                                 const TarOptions& options);

// A ustar header block for one member (exposed for tests). Errors if the name does not fit.
Result<std::string> UstarHeader(const TarMember& member, int64_t mtime);

}  // namespace tb::dataset
