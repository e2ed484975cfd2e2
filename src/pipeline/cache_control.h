// Cold or warm reads, and where each stage's bytes came from.
//
// Under pipeline.cache = "cold" the input files of a stage that reads local files are evicted
// from the page cache before it runs: each file is flushed (fdatasync: dirty pages cannot be
// dropped), dropped (posix_fadvise DONTNEED), and checked (mincore: bytes still cached).
// pipeline.cache_drop = "system" also drops the whole machine's clean page cache through
// /proc/sys/vm/drop_caches (root only; refused otherwise, and said so). Where eviction cannot
// work or cannot be checked (tmpfs, FUSE and network filesystems, whose reads the kernel does
// not count as device reads) the stage's results say so instead of claiming a cold read.
//
// StageMeter frames one stage: inputs and eviction, counters before, counters after.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pipeline/stage.h"
#include "report/results.h"
#include "util/io_stats.h"

namespace tb::pipeline {

// The filesystem holding `path`: a name ("ext4", "tmpfs", "fuse", ...) and whether its reads
// are counted as device reads (a block-device filesystem) or held in memory.
struct FilesystemKind {
  std::string name;
  bool counts_device_reads = false;  // block-device filesystem: read_bytes is meaningful
  bool in_memory = false;            // tmpfs/ramfs: the files are the cache
};
FilesystemKind ClassifyFilesystem(const std::string& path);

struct EvictionResult {
  uint64_t files = 0, bytes = 0;      // files handled and their size
  uint64_t resident_bytes_after = 0;  // still cached afterwards (mincore)
  bool system_dropped = false;        // drop_caches written
  std::vector<std::string> problems;  // a file or step that failed, with the cause
};
// Flushes, drops and checks each file; `drop_system` also syncs and writes 1 to
// /proc/sys/vm/drop_caches. Never fails as a whole: problems are listed.
EvictionResult EvictFromPageCache(const std::vector<std::string>& files, bool drop_system);

// The local files `stage` reads (empty for network input or a stage that reads none).
std::vector<std::string> StageInputFiles(const Context& ctx, const std::string& stage);

class StageMeter {
 public:
  // Lists the stage's inputs, evicts them under cache = "cold" (logging what was done and
  // warning where it cannot be honoured), then takes the first snapshot.
  StageMeter(const Context& ctx, const std::string& stage);
  // Takes the second snapshot and fills result.io. `streamed`: the span is shared by stages
  // that ran overlapped, so the counters are theirs together.
  void Finish(report::StageResult& result, bool streamed = false) const;

 private:
  report::StageIo io_;
  bool in_memory_ = false;  // the inputs are on tmpfs/ramfs
  IoCounters before_;
};

}  // namespace tb::pipeline
