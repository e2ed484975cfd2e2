// The copy engine. Every object becomes one job; a job is either streamed (reader -> writer)
// or, for a large object from a ranged-capable source, split into parts of
// Options::part_size_bytes fetched on separate connections, and then either
//   - written in place through a ParallelWriter (S3 multipart, memory), or
//   - for destinations that prefer sequential writes (local files): "ordered" — parts are
//     fetched in parallel into a bounded window of buffers and appended in file order by
//     whichever worker completes the part next in line (one writer at a time), so the file
//     is written like `curl -o` writes it, and the md5 can be checked on the fly.
// All parts of all jobs form one work list served by Options::concurrency workers, so a tree
// of small files and a single huge file both keep every connection busy; large jobs go first
// so that they do not form the tail. A StreamGate admits the work items in list order and
// bounds how many run at once: Options::streams, or under "auto" a number found by measuring
// (doubled while the aggregate rate still grows, and probed again later). Destinations are atomic
// (commit only after every byte arrived and the checks passed; a failed job leaves nothing
// under its final name).
#include "storage/transfer.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <vector>

#include "storage/retry.h"
#include "util/clock.h"
#include "util/md5.h"
#include "util/parallel.h"
#include "util/progress.h"

namespace tb::storage {

namespace {

constexpr size_t kStreamBufferBytes = 1 << 20;

// An object larger than Options::max_object_bytes (announced or as read so far) is refused.
Status CheckObjectSize(const std::string& what, uint64_t bytes, const Options& o) {
  if (o.max_object_bytes == 0 || bytes <= o.max_object_bytes) return Status::Ok();
  std::string source = o.max_object_source.empty() ? "" : " (" + o.max_object_source + ")";
  return Status::InvalidArgument(what + ": " + std::to_string(bytes) + " bytes exceed the limit of " +
                                 std::to_string(o.max_object_bytes) + " bytes" + source);
}
// Ordered copies keep at most this many bytes of fetched-but-unwritten parts per job
// (and at least two parts).
constexpr uint64_t kOrderedWindowBytes = 256ull << 20;

enum class Mode { kStreamed, kParts, kOrdered };

struct Job {
  std::string src_key, dst_key;
  ObjectInfo info;
  Mode mode = Mode::kStreamed;
  uint64_t num_parts = 1;  // > 1: parallel parts (kParts or kOrdered)
  std::mutex mu;
  std::unique_ptr<ParallelWriter> writer;  // kParts, opened by the first part
  std::atomic<uint64_t> parts_left{0};
  // kOrdered (guarded by mu): parts [next_write, next_write + window) may hold a buffer.
  std::condition_variable cv;        // next_write advanced, or the job failed
  std::unique_ptr<Writer> seq;       // opened by the first part
  uint64_t window = 2;
  uint64_t next_write = 0;           // the next part to append
  bool writing = false;              // a worker is appending (outside mu)
  std::map<uint64_t, std::unique_ptr<char[]>> ready;  // fetched, waiting for their turn
  std::vector<std::unique_ptr<char[]>> spare;         // buffers to reuse (no page faults)
  Status failed;                     // first error: the job is dead, the writer dropped
  bool hash = false;
  Md5 md5;                           // of the bytes appended so far (when hash)
};

// How many work items run at once, admitted strictly in list order (so the earliest parts of
// an ordered job always hold a stream and its window keeps moving). Fixed, or under auto
// found by measuring the aggregate rate in steps: each step runs until every stream finished
// two items (and at least kMinPhaseItems) and at least kMinPhaseSeconds passed. The search
// starts at one stream (four for a tree of several objects, Copier::AutoStart) and doubles while a step adds at
// least kGrowth to the rate; a step that adds less is measured once more, and only when the better of the two still
// adds less does the search settle (undoing the step when it lost more than kGrowth). A settled count is held, then
// probed again by doubling - after kHoldSeconds, twice as long after each probe that did not pay - so a passing
// slowdown (a stalled request, a busy server) met early in a long copy does not pin the rest of it to one stream, as it
// once pinned a 1,283-file tree.
class StreamGate {
 public:
  // grow: auto, from `start` streams up to max_streams; else max_streams from the start, `why`
  // says who chose it.
  StreamGate(int max_streams, bool grow, int start, std::string why)
      : max_(std::max(1, max_streams)), grow_(grow && max_ > 1), allowed_(grow_ ? std::clamp(start, 1, max_) : max_) {
    if (!grow_) why_ = std::move(why);
  }

  // Waits until `item` is next in line and a stream is free. False: the copy failed or was
  // cancelled meanwhile (the item is not run).
  bool Acquire(size_t item, const Options& options) {
    std::unique_lock<std::mutex> lock(mu_);
    while (!aborted_ && !(item == next_ && active_ < allowed_)) {
      if (IsCancelled(options)) return false;
      cv_.wait_for(lock, std::chrono::milliseconds(200));
    }
    if (aborted_) return false;
    if (next_ == 0) StartPhase(0);
    ++next_;
    peak_ = std::max(peak_, ++active_);
    cv_.notify_all();
    return true;
  }

  // An item ended; `moved` = bytes moved by the whole copy so far.
  void Release(uint64_t moved, bool ok) {
    std::lock_guard<std::mutex> lock(mu_);
    --active_;
    if (!ok) aborted_ = true;
    ++done_in_phase_;
    if (grow_ && ok) Measure(moved);
    cv_.notify_all();
  }

  int streams() const { return std::min(allowed_, peak_); }
  std::string why() const {
    if (!why_.empty()) return why_;
    return "auto: the copy ended while the rate still grew (" + std::to_string(streams()) + " streams)";
  }

 private:
  static constexpr double kGrowth = 0.10;
  static constexpr double kMinPhaseSeconds = 0.2;
  static constexpr uint64_t kMinPhaseItems = 4;
  static constexpr double kHoldSeconds = 1.0, kMaxHoldSeconds = 30.0;

  static std::string Rate(int streams, double bytes_per_s) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%d stream%s %.1f MB/s", streams, streams == 1 ? "" : "s", bytes_per_s / 1e6);
    return buf;
  }

  void StartPhase(uint64_t moved) {
    phase_start_ = NowSeconds();
    phase_bytes_ = moved;
    done_in_phase_ = 0;
  }

  void Measure(uint64_t moved) {
    uint64_t items = std::max<uint64_t>(2 * static_cast<uint64_t>(allowed_), kMinPhaseItems);
    double dt = NowSeconds() - phase_start_;
    if (done_in_phase_ < items || dt < (searching_ ? kMinPhaseSeconds : hold_s_)) return;
    double rate = static_cast<double>(moved - phase_bytes_) / dt;
    if (!searching_) {  // the hold ended: its rate is the baseline of a probe with twice the streams
      Step(rate, moved);
      return;
    }
    if (remeasured_) rate = std::max(rate, first_rate_);
    bool grew = prev_rate_ == 0 || rate >= prev_rate_ * (1 + kGrowth);
    if (!grew && !remeasured_) {  // once more at this count before deciding
      remeasured_ = true;
      first_rate_ = rate;
      StartPhase(moved);
      return;
    }
    remeasured_ = false;
    if (grew) {
      Step(rate, moved);
      return;
    }
    std::string both = Rate(prev_allowed_, prev_rate_) + ", " + Rate(allowed_, rate);
    if (rate < prev_rate_ * (1 - kGrowth)) {
      allowed_ = prev_allowed_;
      why_ = "auto: more streams were slower (" + both + ")";
    } else {
      why_ = "auto: the aggregate rate stopped growing (" + both + ")";
    }
    Hold(moved, probed_ ? 2 * hold_s_ : kHoldSeconds);
  }

  // `rate` at allowed_ streams is the best yet: double them, or hold at the limit.
  void Step(double rate, uint64_t moved) {
    if (allowed_ == max_) {
      why_ = "auto: the rate grew up to the limit of s3.concurrency (" + Rate(allowed_, rate) + ")";
      Hold(moved, kMaxHoldSeconds);
      return;
    }
    probed_ = !searching_;
    searching_ = true;
    prev_rate_ = rate;
    prev_allowed_ = allowed_;
    allowed_ = std::min(max_, 2 * allowed_);
    StartPhase(moved);
  }

  void Hold(uint64_t moved, double seconds) {
    searching_ = false;
    hold_s_ = std::min(seconds, kMaxHoldSeconds);
    StartPhase(moved);
  }

  std::mutex mu_;
  std::condition_variable cv_;
  const int max_;
  const bool grow_;
  int allowed_, prev_allowed_ = 1, active_ = 0, peak_ = 0;
  size_t next_ = 0;
  bool aborted_ = false, searching_ = true, remeasured_ = false;
  bool probed_ = false;  // the running search began as a probe after a hold
  double phase_start_ = 0, prev_rate_ = 0, first_rate_ = 0, hold_s_ = kHoldSeconds;
  uint64_t phase_bytes_ = 0, done_in_phase_ = 0;
  std::string why_;
};

struct WorkItem {
  size_t job;
  uint64_t part;
};

class Copier {
 public:
  Copier(Storage& src, Storage& dst, const Options& options, const ProgressFn& progress)
      : src_(src), dst_(dst), options_(options), progress_(progress) {
    part_size_ = std::max<uint64_t>(options_.part_size_bytes, 64 << 10);
    int concurrency = std::max(1, options_.concurrency);
    max_streams_ = options_.streams > 0 ? std::min(options_.streams, concurrency) : concurrency;
  }

  void Add(std::string src_key, std::string dst_key, ObjectInfo info) {
    auto job = std::make_unique<Job>();
    job->src_key = std::move(src_key);
    job->dst_key = std::move(dst_key);
    job->info = std::move(info);
    Capabilities sc = src_.caps(), dc = dst_.caps();
    std::string single;  // why this object moves as one stream
    if (!sc.ranged_reads || !job->info.ranged_reads) {
      single = "the source does not serve byte ranges";
    } else if (job->info.size_bytes == kToEnd) {
      single = "the size is not known in advance";
    } else if (job->info.size_bytes <= part_size_) {
      single = "no larger than one part (" + std::to_string(part_size_) + " bytes)";
    } else if (max_streams_ == 1) {
      single = options_.streams == 1 ? "net.streams = 1" : "s3.concurrency = 1";
    } else if (dc.sequential_writes && dc.writable) {
      job->mode = Mode::kOrdered;
    } else if (dc.parallel_writes) {
      job->mode = Mode::kParts;
    } else {
      single = "the destination takes one stream";
    }
    if (!single.empty() && single_why_.empty()) single_why_ = "one stream: " + single;
    job->num_parts = job->mode == Mode::kStreamed ? 1 : (job->info.size_bytes + part_size_ - 1) / part_size_;
    job->parts_left = job->num_parts;
    job->window = std::clamp<uint64_t>(2 * static_cast<uint64_t>(options_.concurrency), 2,
                                       std::max<uint64_t>(2, kOrderedWindowBytes / part_size_));
    jobs_.push_back(std::move(job));
  }

  Result<TransferStats> Run() {
    double start = NowSeconds();
    // Largest jobs first (their parts in order): a big file started last would be the tail.
    std::vector<size_t> order(jobs_.size());
    for (size_t j = 0; j < order.size(); ++j) order[j] = j;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return Weight(*jobs_[a]) > Weight(*jobs_[b]);
    });
    if (progress_.totals) {
      uint64_t bytes = 0;
      for (const auto& job : jobs_) bytes += job->info.size_bytes == kToEnd ? 0 : job->info.size_bytes;
      progress_.totals(bytes, jobs_.size());
    }
    items_.clear();
    for (size_t j : order) {
      for (uint64_t p = 0; p < jobs_[j]->num_parts; ++p) items_.push_back({j, p});
    }
    std::string fixed = options_.streams > 0 ? "net.streams = " + std::to_string(options_.streams) : "";
    if (max_streams_ < std::max(1, options_.streams)) fixed += " (at most s3.concurrency)";
    if (options_.streams <= 0 && max_streams_ == 1) fixed = "one stream: s3.concurrency = 1";
    StreamGate gate(max_streams_, options_.streams <= 0, AutoStart(), fixed);
    Status s = ParallelFor(items_.size(), std::max(1, options_.concurrency), [&](size_t i) {
      if (IsCancelled(options_)) return Status::Cancelled("copy cancelled");
      // Not admitted: an earlier item failed (its error is the copy's) or the copy was cancelled.
      if (!gate.Acquire(i, options_)) {
        return IsCancelled(options_) ? Status::Cancelled("copy cancelled") : Status::Ok();
      }
      Status r = CopyItem(items_[i]);
      gate.Release(moved_.load(), r.ok());
      return r;
    });
    if (!s.ok()) return s;
    TransferStats stats;
    for (const auto& job : jobs_) stats.bytes += job->info.size_bytes;
    stats.files = jobs_.size();
    if (jobs_.size() == 1 && jobs_[0]->mode == Mode::kStreamed) {
      stats.streams_why = single_why_;
    } else if (!items_.empty()) {
      stats.streams = std::max(1, gate.streams());
      stats.streams_why = gate.why();
    }
    stats.seconds = NowSeconds() - start;
    return stats;
  }

 private:
  // Where auto streams start: a tree of several objects starts at kTreeStart streams - its
  // small objects are bound by request latency, and its steps mix large parts with small
  // objects, so a rate measured at one stream on the first (largest) parts says little about
  // the rest (the search still doubles from there and undoes a step that was slower); a single
  // object starts at one.
  int AutoStart() const {
    static constexpr int kTreeStart = 4;
    static constexpr size_t kTreeObjects = 8;
    return jobs_.size() >= kTreeObjects ? kTreeStart : 1;
  }

  Status CopyItem(const WorkItem& item) {
    Job& job = *jobs_[item.job];
    switch (job.mode) {
      case Mode::kOrdered: return CopyOrderedPart(job, item.part);
      case Mode::kParts: return WithRetries(job, [&] { return CopyPart(job, item.part); });
      case Mode::kStreamed: break;
    }
    return WithRetries(job, [&] { return CopyStreamed(job); });
  }

  // Counts bytes that arrived (for the stream gate's rate) and reports them.
  void Moved(uint64_t n) {
    moved_ += n;
    if (progress_) progress_(n, 0);
  }

  template <typename Fn>
  Status WithRetries(const Job& job, Fn fn) {
    for (int attempt = 1;; ++attempt) {
      Status s = fn();
      if (s.ok() || !s.retryable() || attempt > options_.max_retries || IsCancelled(options_)) {
        return s.ok() ? s : s.Prefix("copy " + src_.Describe(job.src_key) + " -> " + dst_.Describe(job.dst_key));
      }
      if (!SleepUnlessCancelled(BackoffSeconds(attempt), options_)) return Status::Cancelled("copy cancelled");
    }
  }

  // Reads exactly `len` bytes from `reader` into buf (a short source is an error).
  Status ReadFully(Reader& reader, const Job& job, char* buf, uint64_t len, uint64_t offset) {
    uint64_t got = 0;
    while (got < len) {
      if (IsCancelled(options_)) return Status::Cancelled("copy cancelled");
      TB_ASSIGN_OR_RETURN(size_t n, reader.Read(buf + got, static_cast<size_t>(len - got)));
      if (n == 0) {
        return Status::Corruption(src_.Describe(job.src_key) + " ended at byte " + std::to_string(offset + got) +
                                  ", expected " + std::to_string(offset + len));
      }
      got += n;
      Moved(n);
    }
    return Status::Ok();
  }

  Status CopyPart(Job& job, uint64_t part) {
    uint64_t offset = part * part_size_;
    uint64_t len = std::min(part_size_, job.info.size_bytes - offset);
    ParallelWriter* writer;
    {
      std::lock_guard<std::mutex> lock(job.mu);
      if (!job.writer) {
        TB_ASSIGN_OR_RETURN(job.writer, dst_.OpenParallelWrite(job.dst_key, job.info.size_bytes, part_size_));
      }
      writer = job.writer.get();
    }
    TB_ASSIGN_OR_RETURN(auto reader, src_.OpenRead(job.src_key, offset, len));
    // Chunks small enough to stay in cache between the socket and the page cache.
    thread_local std::vector<char> buf;
    buf.resize(kStreamBufferBytes);
    for (uint64_t done = 0; done < len;) {
      uint64_t chunk = std::min<uint64_t>(buf.size(), len - done);
      TB_RETURN_IF_ERROR(ReadFully(*reader, job, buf.data(), chunk, offset + done));
      TB_RETURN_IF_ERROR(writer->WriteAt(offset + done, std::string_view(buf.data(), chunk)));
      done += chunk;
    }
    if (job.parts_left.fetch_sub(1) != 1) return Status::Ok();
    // Last part: commit, then check what we can.
    std::unique_ptr<ParallelWriter> done;
    {
      std::lock_guard<std::mutex> lock(job.mu);
      done = std::move(job.writer);
    }
    TB_RETURN_IF_ERROR(done->Commit());
    if (progress_) progress_(0, 1);
    std::string src_md5 = SourceMd5(job);
    if (src_md5.empty()) return Status::Ok();  // sizes checked part by part
    return VerifyByReadBack(job, src_md5);
  }

  Status CopyStreamed(Job& job) {
    std::string src_md5 = SourceMd5(job);
    bool hash = !src_md5.empty() || dst_.caps().etag_is_md5;
    // A known size bounds the read (and spares S3 a HEAD before the GET).
    TB_ASSIGN_OR_RETURN(auto reader, src_.OpenRead(job.src_key, 0, job.info.size_bytes));
    TB_ASSIGN_OR_RETURN(auto writer, dst_.OpenWrite(job.dst_key, job.info.size_bytes));
    thread_local std::vector<char> buf;
    size_t want = static_cast<size_t>(std::clamp<uint64_t>(job.info.size_bytes, 1, kStreamBufferBytes));
    if (buf.size() < want) buf.resize(want);
    Md5 md5;
    uint64_t total = 0;
    for (;;) {
      if (IsCancelled(options_)) return Status::Cancelled("copy cancelled");
      TB_ASSIGN_OR_RETURN(size_t n, reader->Read(buf.data(), buf.size()));
      if (n == 0) break;
      if (hash) md5.Update(buf.data(), n);
      total += n;
      TB_RETURN_IF_ERROR(CheckObjectSize(src_.Describe(job.src_key), total, options_));
      TB_RETURN_IF_ERROR(writer->Append(std::string_view(buf.data(), n)));
      Moved(n);
    }
    if (job.info.size_bytes != kToEnd && total != job.info.size_bytes) {
      return Status::Corruption(src_.Describe(job.src_key) + ": read " + std::to_string(total) +
                                " bytes, expected " + std::to_string(job.info.size_bytes));
    }
    std::string got_md5 = hash ? ToHex(md5.Finish()) : "";
    if (!src_md5.empty() && got_md5 != src_md5) {
      return Status::Corruption(src_.Describe(job.src_key) + ": md5 of the data read " + got_md5 +
                                " differs from the source ETag " + src_md5);
    }
    TB_RETURN_IF_ERROR(writer->Commit());
    std::string dst_md5 = dst_.caps().etag_is_md5 ? Md5FromEtag(writer->etag()) : "";
    if (!dst_md5.empty() && dst_md5 != got_md5) {
      (void)dst_.Delete(job.dst_key);
      return Status::Corruption(dst_.Describe(job.dst_key) + ": destination ETag " + dst_md5 +
                                " differs from the md5 of the data sent " + got_md5);
    }
    if (job.info.size_bytes == kToEnd) job.info.size_bytes = total;
    if (progress_) progress_(0, 1);
    return Status::Ok();
  }

  // Sort key for scheduling: bytes, unknown sizes last among the big ones.
  static uint64_t Weight(const Job& job) { return job.info.size_bytes == kToEnd ? 0 : job.info.size_bytes; }

  // One part of an ordered job: wait for room in the window, fetch the part into a buffer
  // (with retries), then hand it to the writer role (see the top of the file).
  Status CopyOrderedPart(Job& job, uint64_t part) {
    uint64_t offset = part * part_size_;
    uint64_t len = std::min(part_size_, job.info.size_bytes - offset);
    std::unique_ptr<char[]> buf;
    {
      std::unique_lock<std::mutex> lock(job.mu);
      // Parts are handed out in order, so every part before this one is being fetched or
      // waits to be written: the window always moves (or the job fails).
      while (job.failed.ok() && part >= job.next_write + job.window) {
        if (IsCancelled(options_)) return Status::Cancelled("copy cancelled");
        job.cv.wait_for(lock, std::chrono::milliseconds(200));
      }
      if (!job.failed.ok()) return job.failed;
      if (!job.seq) {
        std::string src_md5 = SourceMd5(job);
        job.hash = !src_md5.empty();
        Result<std::unique_ptr<Writer>> w = dst_.OpenWrite(job.dst_key, job.info.size_bytes);
        if (!w.ok()) return FailOrdered(job, lock, w.status());
        job.seq = std::move(w).value();
      }
      if (!job.spare.empty()) {
        buf = std::move(job.spare.back());
        job.spare.pop_back();
      }
    }
    if (!buf) buf.reset(new char[part_size_]);
    Status fetched = WithRetries(job, [&]() -> Status {
      TB_ASSIGN_OR_RETURN(auto reader, src_.OpenRead(job.src_key, offset, len));
      return ReadFully(*reader, job, buf.get(), len, offset);
    });
    std::unique_lock<std::mutex> lock(job.mu);
    if (!fetched.ok()) return FailOrdered(job, lock, fetched);
    if (!job.failed.ok()) return job.failed;
    job.ready.emplace(part, std::move(buf));
    if (job.writing) return Status::Ok();  // the worker appending will take it
    job.writing = true;
    while (job.failed.ok()) {
      auto it = job.ready.find(job.next_write);
      if (it == job.ready.end()) break;
      std::unique_ptr<char[]> data = std::move(it->second);
      job.ready.erase(it);
      uint64_t p = job.next_write;
      uint64_t p_len = std::min(part_size_, job.info.size_bytes - p * part_size_);
      Writer* writer = job.seq.get();
      lock.unlock();
      std::string_view bytes(data.get(), static_cast<size_t>(p_len));
      if (job.hash) job.md5.Update(bytes.data(), bytes.size());  // only the writer role touches md5
      Status w = writer->Append(bytes);
      lock.lock();
      job.spare.push_back(std::move(data));
      if (!w.ok()) {
        job.writing = false;
        return FailOrdered(job, lock, w.Prefix("copy " + src_.Describe(job.src_key) + " -> " +
                                               dst_.Describe(job.dst_key)));
      }
      ++job.next_write;
      job.cv.notify_all();
    }
    job.writing = false;
    if (!job.failed.ok()) return FailOrdered(job, lock, job.failed);  // drops the writer
    if (job.next_write != job.num_parts) return Status::Ok();
    // Every part appended: check, then commit (this worker alone gets here).
    std::unique_ptr<Writer> writer = std::move(job.seq);
    job.spare.clear();
    lock.unlock();
    std::string src_md5 = SourceMd5(job);
    if (job.hash) {
      std::string got = ToHex(job.md5.Finish());
      if (got != src_md5) {
        writer.reset();  // uncommitted: removed
        return Status::Corruption(src_.Describe(job.src_key) + ": md5 of the data read " + got +
                                  " differs from the source ETag " + src_md5 + " (destination not written)");
      }
    }
    Status c = writer->Commit();
    if (!c.ok()) return c.Prefix("copy " + src_.Describe(job.src_key) + " -> " + dst_.Describe(job.dst_key));
    if (progress_) progress_(0, 1);
    return Status::Ok();
  }

  // Marks an ordered job failed: wakes its waiters, drops the uncommitted writer (nothing
  // appears under the final name) once no worker is appending through it.
  Status FailOrdered(Job& job, std::unique_lock<std::mutex>& lock, Status s) {
    if (job.failed.ok()) job.failed = s;
    std::unique_ptr<Writer> drop;
    if (!job.writing) drop = std::move(job.seq);
    job.ready.clear();
    job.spare.clear();
    job.cv.notify_all();
    lock.unlock();
    drop.reset();
    return s;
  }

  std::string SourceMd5(const Job& job) const {
    return src_.caps().etag_is_md5 ? Md5FromEtag(job.info.etag) : "";
  }

  // Parallel parts cannot be hashed in order on the fly: read the committed object back.
  Status VerifyByReadBack(const Job& job, const std::string& src_md5) {
    Md5 md5;
    TB_ASSIGN_OR_RETURN(auto reader, dst_.OpenRead(job.dst_key));
    std::vector<char> buf(kStreamBufferBytes);
    for (;;) {
      TB_ASSIGN_OR_RETURN(size_t n, reader->Read(buf.data(), buf.size()));
      if (n == 0) break;
      md5.Update(buf.data(), n);
    }
    std::string got = ToHex(md5.Finish());
    if (got == src_md5) return Status::Ok();
    (void)dst_.Delete(job.dst_key);
    return Status::Corruption(dst_.Describe(job.dst_key) + ": md5 " + got + " differs from the source ETag " +
                              src_md5 + " (destination removed)");
  }

  Storage& src_;
  Storage& dst_;
  const Options& options_;
  const ProgressFn& progress_;
  uint64_t part_size_;
  int max_streams_ = 1;
  std::string single_why_;  // the first object that moves as one stream, and why
  std::atomic<uint64_t> moved_{0};
  std::vector<std::unique_ptr<Job>> jobs_;
  std::vector<WorkItem> items_;
};

bool IsLocalUri(std::string_view uri) { return uri.find("://") == std::string_view::npos || uri.rfind("file://", 0) == 0; }

std::string LocalPathOf(std::string_view uri) {
  return std::string(uri.rfind("file://", 0) == 0 ? uri.substr(7) : uri);
}

// A Reader that keeps its Storage alive.
class OwningReader : public Reader {
 public:
  OwningReader(std::unique_ptr<Storage> storage, std::unique_ptr<Reader> reader, std::string what,
               const Options& options)
      : storage_(std::move(storage)), reader_(std::move(reader)), what_(std::move(what)), options_(options) {}
  Result<size_t> Read(char* buf, size_t n) override {
    TB_ASSIGN_OR_RETURN(size_t got, reader_->Read(buf, n));
    total_ += got;
    TB_RETURN_IF_ERROR(CheckObjectSize(what_, total_, options_));
    return got;
  }

 private:
  std::unique_ptr<Storage> storage_;
  std::unique_ptr<Reader> reader_;
  std::string what_;
  Options options_;
  uint64_t total_ = 0;
};

}  // namespace

Result<std::string> ResolveCopyDestination(std::string_view src_uri, std::string_view dst_uri) {
  TB_ASSIGN_OR_RETURN(ObjectRef src, SplitObjectUri(src_uri));
  std::string name = src.key.substr(src.key.rfind('/') + 1);
  std::string dst(dst_uri);
  if (dst.empty()) return Status::InvalidArgument("empty destination");
  bool is_dir = dst.back() == '/';
  if (!is_dir && IsLocalUri(dst)) {
    struct stat st {};
    is_dir = ::stat(LocalPathOf(dst).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  }
  if (!is_dir && dst.rfind("s3://", 0) == 0 && dst.find('/', 5) == std::string::npos) is_dir = true;
  if (!is_dir) return dst;
  if (dst.back() != '/') dst += '/';
  return dst + name;
}

ProgressFn ProgressOf(Progress& p) {
  ProgressFn fn([&p](uint64_t bytes, uint64_t files) { p.Add(bytes, files); });
  fn.totals = [&p](uint64_t bytes, uint64_t files) { p.SetTotals(bytes, files); };
  return fn;
}

Result<TransferStats> CopyObject(std::string_view src_uri, std::string_view dst_uri, const Options& options,
                                 const ProgressFn& progress) {
  TB_ASSIGN_OR_RETURN(ObjectRef src_ref, SplitObjectUri(src_uri));
  TB_ASSIGN_OR_RETURN(std::string dst_uri_final, ResolveCopyDestination(src_uri, dst_uri));
  TB_ASSIGN_OR_RETURN(ObjectRef dst_ref, SplitObjectUri(dst_uri_final));
  TB_ASSIGN_OR_RETURN(auto src, Open(src_ref.root, options));
  TB_ASSIGN_OR_RETURN(auto dst, Open(dst_ref.root, options));
  return CopyObjectBetween(*src, src_ref.key, *dst, dst_ref.key, options, progress);
}

Result<TransferStats> CopyObjectBetween(Storage& src, std::string_view src_key, Storage& dst,
                                        std::string_view dst_key, const Options& options,
                                        const ProgressFn& progress) {
  Result<ObjectInfo> info = src.Stat(src_key);
  if (!info.ok()) {
    if (info.status().code() != Code::kUnsupported) return info.status();
    // No size known (e.g. an HTTP server without Content-Length): stream it unchecked.
    ObjectInfo unknown{std::string(src_key), kToEnd, ""};
    unknown.ranged_reads = false;
    info = unknown;
  }
  if (info->size_bytes != kToEnd) TB_RETURN_IF_ERROR(CheckObjectSize(src.Describe(src_key), info->size_bytes, options));
  Copier copier(src, dst, options, progress);
  copier.Add(std::string(src_key), std::string(dst_key), *info);
  return copier.Run();
}

Result<TransferStats> CopyTreeBetween(Storage& src, Storage& dst, const Options& options, const ProgressFn& progress,
                                      const SelectKeys& select) {
  std::vector<SkippedEntry> skipped;
  TB_ASSIGN_OR_RETURN(std::vector<ObjectInfo> objects, src.ListWithSkipped("", &skipped));
  if (select) {
    std::vector<std::string> keys;
    for (const ObjectInfo& obj : objects) keys.push_back(obj.key);
    std::vector<ObjectInfo> chosen;
    for (size_t i : select(keys))
      if (i < objects.size()) chosen.push_back(std::move(objects[i]));
    objects = std::move(chosen);
  }
  Copier copier(src, dst, options, progress);
  for (ObjectInfo& obj : objects) {
    std::string key = obj.key;
    copier.Add(key, key, std::move(obj));
  }
  TB_ASSIGN_OR_RETURN(TransferStats stats, copier.Run());
  stats.skipped = std::move(skipped);
  return stats;
}

Result<TransferStats> CopyTree(std::string_view src_uri, std::string_view dst_uri, const Options& options,
                               const ProgressFn& progress, const SelectKeys& select) {
  TB_ASSIGN_OR_RETURN(auto src, Open(src_uri, options));
  TB_ASSIGN_OR_RETURN(auto dst, Open(dst_uri, options));
  return CopyTreeBetween(*src, *dst, options, progress, select);
}

Result<std::unique_ptr<Reader>> OpenStream(std::string_view uri, const Options& options) {
  TB_ASSIGN_OR_RETURN(ObjectRef ref, SplitObjectUri(uri));
  TB_ASSIGN_OR_RETURN(auto storage, Open(ref.root, options));
  TB_ASSIGN_OR_RETURN(auto reader, storage->OpenRead(ref.key));
  std::string what = storage->Describe(ref.key);
  return std::unique_ptr<Reader>(new OwningReader(std::move(storage), std::move(reader), std::move(what), options));
}

}  // namespace tb::storage
