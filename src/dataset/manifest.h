// md5 manifests in md5sum format ("<32 hex>  <relative path>", "*" binary marker accepted),
// and parallel verification of a directory against one.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace tb::dataset {

struct ManifestEntry {
  std::string md5_hex;
  std::string path;  // relative, '/'-separated
};

// Errors name the manifest and the line number.
Result<std::vector<ManifestEntry>> ParseManifest(std::string_view text, const std::string& name);
std::string FormatManifest(const std::vector<ManifestEntry>& entries);

struct VerifyReport {
  uint64_t files = 0;
  uint64_t bytes = 0;
  std::vector<std::string> mismatched;  // paths whose md5 differs
  std::vector<std::string> missing;     // paths that could not be read
  bool ok() const { return mismatched.empty() && missing.empty(); }
};

// Hashes every entry under `root` in parallel (threads 0 = all cores). Progress is called
// from worker threads with (bytes, files) increments.
Result<VerifyReport> VerifyManifest(const std::string& root, const std::vector<ManifestEntry>& entries,
                                    int threads, const std::function<void(uint64_t, uint64_t)>& progress = {});

}  // namespace tb::dataset
