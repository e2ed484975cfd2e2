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
  std::string path;  // relative, '/'-separated, normalised: no "", "." or ".." segment
};

// Limits no real manifest reaches (CIFAR-10's lists 8 files); input beyond them is refused
// with an error naming the manifest (and the line), never echoed whole.
inline constexpr size_t kMaxManifestBytes = size_t{64} << 20;
inline constexpr size_t kMaxManifestPathBytes = 4096;  // PATH_MAX
inline constexpr size_t kMaxManifestLineBytes = 34 + kMaxManifestPathBytes;  // "<32 hex>  <path>"
inline constexpr size_t kMaxManifestEntries = size_t{1} << 20;

// Errors name the manifest and the line number. Paths are normalised ("./a//b" is "a/b");
// an absolute path or a ".." segment is refused. A path listed twice with the same md5 is
// one entry (as md5sum -c would check it twice with one outcome); listed twice with
// different md5s it is refused, naming the path and both lines.
Result<std::vector<ManifestEntry>> ParseManifest(std::string_view text, const std::string& name);
std::string FormatManifest(const std::vector<ManifestEntry>& entries);

struct VerifyReport {
  uint64_t files = 0;
  uint64_t bytes = 0;
  std::vector<std::string> mismatched;  // paths whose md5 differs
  std::vector<std::string> missing;     // paths that could not be read
  std::vector<std::string> missing_why;  // for each of `missing`, why (e.g. "not a regular file")
  bool ok() const { return mismatched.empty() && missing.empty(); }
};

// Hashes every entry under `root` in parallel (threads 0 = all cores). An entry that is not a
// regular file (FIFO, device, directory, socket) is reported missing at once, never read. Progress is called
// from worker threads with (bytes, files) increments.
Result<VerifyReport> VerifyManifest(const std::string& root, const std::vector<ManifestEntry>& entries,
                                    int threads, const std::function<void(uint64_t, uint64_t)>& progress = {});

}  // namespace tb::dataset
