// Safe extraction of .tar / .tar.gz (libarchive): refuses absolute paths, ".." components,
// links pointing outside the destination, writing through an extracted symlink, device nodes
// and FIFOs; bounds total bytes and entries. Members are written under temporary names and
// renamed into place when complete. Errors name the archive, the entry and the cause.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "util/status.h"

namespace tb::dataset {

struct ExtractOptions {
  uint64_t max_total_bytes = 0;  // 0 = derived from the archive size (generous ratio)
  uint64_t max_entries = 0;      // 0 = default limit (1,000,000)
  const std::function<void(uint64_t bytes, uint64_t files)>* progress = nullptr;
};

struct ExtractStats {
  uint64_t files = 0;
  uint64_t bytes = 0;  // uncompressed member bytes written
};

Result<ExtractStats> ExtractArchive(const std::string& archive_path, const std::string& dest_dir,
                                    const ExtractOptions& options = {});

}  // namespace tb::dataset
