// The streamed pass for the staged scenario: the tarball's bytes are kept (download), hashed
// (integrity), unpacked (extract) and each member hashed against the manifest (verify) in ONE
// pass as they arrive from the origin. It is a composition of the same stage objects the
// sequential order runs: each stage that can take part offers a StreamPart, which plugs its
// work into the pass (StreamWiring) and, after the pass, gives its own outcome. The runner
// (runner.h) wires the parts, runs the pass and frames each stage's result as it does for
// any stage (status, skip after a failure, rate, log lines, spans).
//
// Threads: the producer reads the origin and runs the byte taps (download keeps the tarball,
// integrity hashes it); the caller's thread unpacks (extract, ISA-L inflate) and hands members
// to the member sink (verify, which hashes them in multi-buffer batches on its own thread,
// member_verifier.h). A bounded queue of 1 MiB chunks joins producer and unpacker.
//
// Nothing half-ingested passes for complete: members are renamed into place only once
// verified, the tarball only once its checks (integrity) passed, and when any part's outcome
// is not ok every part's Discard() removes what the pass left.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "dataset/archive.h"
#include "pipeline/stage.h"
#include "storage/storage.h"

namespace tb::pipeline {

// A stage's wall span and busy time on the steady clock (util/clock.h NowSeconds). Each Span
// is updated by one thread at a time.
struct Span {
  double start = 0, end = 0;  // first start, last end (0, 0: never worked)
  double busy = 0;            // sum of the worked intervals
  void Add(double t0, double t1) {
    if (start == 0 || t0 < start) start = t0;
    if (t1 > end) end = t1;
    busy += t1 - t0;
  }
};

// How the pass ended, for each part's verdict.
struct StreamEnd {
  Status source;                                                          // the producer: open, read, a tap's error
  Result<dataset::ExtractStats> unpacked = Status::Cancelled("not run");  // the consumer
  bool sink_refused = false;  // the unpacker stopped because the member sink said so
  Status members;             // the member sink's end (all members checked)
  bool cancelled = false;     // the cancel flag was seen
};

// What the parts plug into the pass. Each hook names the Span its work is timed in.
struct StreamWiring {
  template <typename Fn>
  struct Hook {
    Fn fn;
    Span* span = nullptr;
  };
  // The origin (one part: download).
  Hook<std::function<Result<std::unique_ptr<storage::Reader>>()>> source;
  // Every chunk, in order, on the producer thread (download keeps it, integrity hashes it).
  std::vector<Hook<std::function<Status(const char*, size_t)>>> taps;
  // Gates on committing the source's copy (integrity: the md5 matches); run by the source's part.
  std::vector<std::function<Status()>> source_checks;
  // The consumer (one part: extract): unpacks what `read` returns, handing members to `sink`
  // when set.
  using MemberSink = std::function<Status(dataset::PendingMember)>;
  Hook<std::function<Result<dataset::ExtractStats>(const dataset::ArchiveReadFn& read, const MemberSink* sink,
                                                   uint64_t keep_member_bytes)>>
      consumer;
  // Members as they are written (one part: verify); finish waits until all are checked.
  MemberSink member_sink;
  std::function<Status()> member_sink_finish;
  uint64_t keep_member_bytes = 0;
};

class StreamPart {
 public:
  virtual ~StreamPart() = default;
  // Before the pass: plugs in. An error means the pass cannot run (e.g. the expected md5 or
  // the manifest is unreadable): the stages then run one after another and report it there.
  virtual Status Wire(Context& ctx, StreamWiring& wiring) = 0;
  // After the pass, in pipeline order, while the earlier parts were ok: this stage's outcome.
  // Fills bytes, files and detail_json of `result`.
  virtual Status Finish(Context& ctx, const StreamEnd& end, report::StageResult& result) = 0;
  // The pass did not complete: remove what this part left behind.
  virtual void Discard(Context&) {}
  // The part's span and busy time: the pass adds the hooks' work; a part whose work runs on a
  // thread of its own (verify) sets it itself. One thread each, so busy <= span.
  Span span;
};

// True when the job asks for streaming (pipeline.stream, on by default) and the staged
// scenario runs download and extract.
bool StreamingApplies(const JobConfig& cfg);

// Runs the pass over the wired hooks (source and consumer must be set).
StreamEnd RunStreamPass(Context& ctx, const StreamWiring& wiring);

}  // namespace tb::pipeline
