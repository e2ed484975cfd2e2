// Streaming ingest for the staged scenario: the tarball's bytes are hashed (integrity),
// written to scratch (download), decompressed and unpacked (extract), and each member hashed
// against the manifest (verify) in ONE pass as they arrive from the origin. Members are
// written under temporary names and renamed only once verified; the tarball is renamed into
// place only when its md5 matches. Each stage's own time is still reported; the overlap is
// reported as RunResult::overlapped_seconds. Streaming applies whenever download and extract
// are both on (pipeline.stream, default true); integrity and verify join the pass when on.
// Threads: the receiver also hashes and keeps the tarball; the unpacker inflates (ISA-L) and
// writes members; a verifier hashes members in multi-buffer batches (member_verifier.h).
#pragma once

#include <vector>

#include "pipeline/stage.h"

namespace tb::pipeline {

// True when the job asks for streaming (pipeline.stream, on by default) and the staged
// scenario runs download, integrity, extract and verify.
bool StreamingApplies(const JobConfig& cfg);

struct IngestResult {
  std::vector<report::StageResult> stages;  // download, integrity, extract, verify
  double wall_seconds = 0;
  bool fell_back = false;  // the md5 or manifest could not be read first: run sequentially
};

// Runs the pass; fills ctx.tarball_path, ctx.data_root and ctx.dataset_dir on success.
IngestResult StreamIngest(Context& ctx);

}  // namespace tb::pipeline
