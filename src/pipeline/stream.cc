#include "pipeline/stream.h"

#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "dataset/archive.h"
#include "util/clock.h"

namespace tb::pipeline {
namespace {

constexpr size_t kChunkBytes = 1 << 20;
constexpr size_t kQueueChunks = 32;  // bounded read-ahead: 32 MiB

// A piece of the download: kChunkBytes of storage (not zero-filled), `size` of them used.
struct Chunk {
  std::unique_ptr<char[]> data;
  size_t size = 0;
  static Chunk New() { return Chunk{std::unique_ptr<char[]>(new char[kChunkBytes]), 0}; }
};

// A bounded queue of chunks between the network reader and the unpacker.
class ChunkQueue {
 public:
  void Push(Chunk chunk) {
    std::unique_lock<std::mutex> lock(mu_);
    not_full_.wait(lock, [&] { return q_.size() < kQueueChunks || closed_; });
    if (closed_) return;
    q_.push_back(std::move(chunk));
    not_empty_.notify_one();
  }
  // Ends the stream (status OK = clean end of data).
  void Close(Status status) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!done_) {
      done_ = true;
      end_status_ = std::move(status);
    }
    not_empty_.notify_all();
  }
  // Consumer gave up: unblocks the producer.
  void Abandon() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    not_full_.notify_all();
  }
  // Chunk buffers are recycled, so the reader never zero-fills a fresh megabyte per chunk.
  Chunk TakeBuffer() {
    std::lock_guard<std::mutex> lock(mu_);
    if (free_.empty()) return Chunk::New();
    Chunk b = std::move(free_.back());
    free_.pop_back();
    b.size = 0;
    return b;
  }
  void GiveBuffer(Chunk b) {
    std::lock_guard<std::mutex> lock(mu_);
    if (b.data && free_.size() < kQueueChunks) free_.push_back(std::move(b));
  }
  bool abandoned() {
    std::lock_guard<std::mutex> lock(mu_);
    return closed_;
  }
  // Next chunk; an empty one at the end of data; error when the producer failed.
  Result<Chunk> Pop() {
    std::unique_lock<std::mutex> lock(mu_);
    not_empty_.wait(lock, [&] { return !q_.empty() || done_; });
    if (!q_.empty()) {
      Chunk c = std::move(q_.front());
      q_.pop_front();
      not_full_.notify_one();
      return c;
    }
    if (!end_status_.ok()) return end_status_;
    return Chunk();
  }

 private:
  std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::deque<Chunk> q_;
  std::vector<Chunk> free_;
  bool done_ = false, closed_ = false;
  Status end_status_;
};

}  // namespace

std::unique_ptr<StreamPart> Stage::NewStreamPart() { return nullptr; }

bool StreamingApplies(const JobConfig& cfg) {
  return cfg.stream && cfg.scenario == "staged" && cfg.StageEnabled(StageId::kDownload) &&
         cfg.StageEnabled(StageId::kExtract);
}

namespace {

// The producer: reads the source in chunks, runs the taps on each, queues it for the consumer.
Status Produce(Context& ctx, storage::Reader& source, Span* source_span, const StreamWiring& wiring,
               ChunkQueue& queue) {
  for (;;) {
    if (ctx.cancelled()) return Status::Cancelled("interrupted while downloading " + ctx.cfg.origin_url);
    Chunk chunk = queue.TakeBuffer();
    size_t filled = 0;
    double t0 = NowSeconds();
    while (filled < kChunkBytes) {
      auto n = source.Read(chunk.data.get() + filled, kChunkBytes - filled);
      if (!n.ok()) return n.status();
      if (*n == 0) break;
      filled += *n;
    }
    if (source_span) source_span->Add(t0, NowSeconds());
    if (filled == 0) return Status::Ok();
    chunk.size = filled;
    for (const auto& tap : wiring.taps) {
      double t1 = NowSeconds();
      Status s = tap.fn(chunk.data.get(), filled);
      if (tap.span) tap.span->Add(t1, NowSeconds());
      TB_RETURN_IF_ERROR(s);
    }
    queue.Push(std::move(chunk));
    if (queue.abandoned()) return Status::Ok();
  }
}

}  // namespace

StreamEnd RunStreamPass(Context& ctx, const StreamWiring& wiring) {
  StreamEnd end;
  auto source = wiring.source.fn();
  if (!source.ok()) {
    end.source = source.status();
    end.cancelled = ctx.cancelled();
    return end;
  }
  ChunkQueue queue;
  Status produced;
  std::thread producer([&] {
    produced = Produce(ctx, **source, wiring.source.span, wiring, queue);
    queue.Close(produced);
  });

  // The consumer's reads; time spent waiting for the producer is not its work.
  double wait_seconds = 0;
  Status producer_error;
  Chunk pending;
  size_t pending_off = 0;
  dataset::ArchiveReadFn read = [&](char* buf, size_t n) -> Result<size_t> {
    if (pending_off == pending.size) {
      double t0 = NowSeconds();
      auto chunk = queue.Pop();
      wait_seconds += NowSeconds() - t0;
      if (!chunk.ok()) {
        producer_error = chunk.status();
        return chunk.status();
      }
      queue.GiveBuffer(std::move(pending));
      pending = std::move(chunk).value();
      pending_off = 0;
      if (pending.size == 0) return size_t{0};
    }
    size_t take = std::min(n, pending.size - pending_off);
    std::memcpy(buf, pending.data.get() + pending_off, take);
    pending_off += take;
    return take;
  };
  StreamWiring::MemberSink sink;
  if (wiring.member_sink) {
    sink = [&](dataset::PendingMember m) {
      Status s = wiring.member_sink(std::move(m));
      if (!s.ok()) end.sink_refused = true;
      return s;
    };
  }
  double consumer_start = NowSeconds();
  end.unpacked = wiring.consumer.fn(read, sink ? &sink : nullptr, wiring.keep_member_bytes);
  if (wiring.member_sink_finish) end.members = wiring.member_sink_finish();
  // Drain whatever the archive did not consume (tar padding) so the taps see every byte.
  // When unpacking failed, the download still runs to its end (as in the sequential order):
  // a corrupt tarball must be reported by integrity, the root cause, not by extract.
  if (producer_error.ok() && !ctx.cancelled() && (end.unpacked.ok() || !end.unpacked.status().IsCancelled())) {
    char sink_buf[1 << 16];
    for (;;) {
      auto n = read(sink_buf, sizeof sink_buf);
      if (!n.ok() || *n == 0) break;
    }
  }
  double consumer_end = NowSeconds();
  queue.Abandon();
  producer.join();
  if (wiring.consumer.span) {
    wiring.consumer.span->Add(consumer_start, consumer_end);
    wiring.consumer.span->busy = std::max(0.0, wiring.consumer.span->busy - wait_seconds);
  }
  end.source = produced;
  end.cancelled = ctx.cancelled() || (!end.source.ok() && end.source.IsCancelled()) ||
                  (!end.unpacked.ok() && end.unpacked.status().IsCancelled());
  return end;
}

}  // namespace tb::pipeline
