// Transfers between tiers: the engine behind `tierbench cp`, the download and upload stages,
// and the staged scenario's training-input fetch. Parallel (many connections, parts of
// Options::part_size_bytes), verified (md5 / ETag), atomic at the destination.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "storage/storage.h"
#include "util/status.h"

namespace tb {
class Progress;
}  // namespace tb

namespace tb::storage {

struct TransferStats {
  uint64_t bytes = 0;
  uint64_t files = 0;
  double seconds = 0;
  // Tree copies: source entries that hold no object (FIFOs, dangling symlinks, ...), not
  // copied. The caller decides whether that is an error.
  std::vector<SkippedEntry> skipped;
  // Connections used at once (the settled number under Options::streams = auto) and why,
  // e.g. "auto: the aggregate rate stopped growing (2 streams 95.1 MB/s, 3 streams 96.0 MB/s)"
  // or "one stream: the source does not serve byte ranges".
  int streams = 1;
  std::string streams_why;
};

// What a copy reports while it runs: moved(bytes, files), increments from worker threads as
// data moves (must be thread-safe), and totals(bytes, files) once, before any byte moves, when
// the copy knows its work (after the stat or the listing; bytes 0 when a size is unknown), so
// a live view can show an ETA. Made from a callable it is `moved` alone.
struct ProgressFn {
  ProgressFn() = default;
  template <typename F, typename = std::enable_if_t<std::is_invocable_v<F&, uint64_t, uint64_t> &&
                                                    !std::is_same_v<std::decay_t<F>, ProgressFn>>>
  ProgressFn(F moved_fn) : moved(std::move(moved_fn)) {}  // NOLINT: implicit on purpose
  std::function<void(uint64_t bytes, uint64_t files)> moved, totals;
  explicit operator bool() const { return static_cast<bool>(moved); }
  void operator()(uint64_t bytes, uint64_t files) const { moved(bytes, files); }
};

// A copy's progress counted into `p` (util/progress.h): bytes and files as they move, and the
// totals once the copy knows them.
ProgressFn ProgressOf(Progress& p);

// Copies one object: src and dst are object URIs (path, file://, http(s)://, s3://).
Result<TransferStats> CopyObject(std::string_view src_uri, std::string_view dst_uri,
                                 const Options& options, const ProgressFn& progress = {});

// Of the keys a tree copy found (relative, in listing order), the positions to copy; unset:
// all of them. E.g. one rank's share of the files.
using SelectKeys = std::function<std::vector<size_t>(const std::vector<std::string>& keys)>;

// Copies every object under the src prefix to dst, keeping relative keys
// ("s3://b/p" + "/x/y" -> "<dst>/x/y"), files in parallel, large files in parts. Entries that
// hold no object are listed in TransferStats::skipped.
Result<TransferStats> CopyTree(std::string_view src_uri, std::string_view dst_uri, const Options& options,
                               const ProgressFn& progress = {}, const SelectKeys& select = {});

// The same engine over storages the caller already holds (wrapped storages, pipeline stages).
Result<TransferStats> CopyObjectBetween(Storage& src, std::string_view src_key, Storage& dst,
                                        std::string_view dst_key, const Options& options,
                                        const ProgressFn& progress = {});
// Copies every object of src.List("") to the same key in dst.
Result<TransferStats> CopyTreeBetween(Storage& src, Storage& dst, const Options& options,
                                      const ProgressFn& progress = {}, const SelectKeys& select = {});

// Where CopyObject puts `src_uri`: dst itself, or dst + "/" + the source's file name when dst
// ends with '/', is an existing local directory, or names only a bucket ("s3://b"), like
// `aws s3 cp`.
Result<std::string> ResolveCopyDestination(std::string_view src_uri, std::string_view dst_uri);

// Opens a sequential stream over one object URI (for streaming ingest).
Result<std::unique_ptr<Reader>> OpenStream(std::string_view uri, const Options& options);

}  // namespace tb::storage
