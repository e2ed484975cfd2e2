#include "storage/wrappers.h"

#include <chrono>
#include <thread>

namespace tb::storage {

const char* StorageOpName(StorageOp op) {
  static const char* kNames[kNumStorageOps] = {"stat", "open_read", "read", "open_write",
                                               "write", "commit", "list", "delete"};
  return kNames[static_cast<int>(op)];
}

// ---------------------------------------------------------------------------------------------
// CountingStorage

struct CountingStorage::Counters {
  struct Slot {
    std::atomic<uint64_t> ops{0}, errors{0}, bytes{0}, latency_us_total{0}, latency_us_max{0};
  };
  std::array<Slot, kNumStorageOps> slots;
  std::atomic<uint64_t> resumed{0};

  void Record(StorageOp op, bool ok, uint64_t bytes, std::chrono::steady_clock::time_point start) {
    uint64_t us = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count());
    Slot& s = slots[static_cast<int>(op)];
    s.ops.fetch_add(1, std::memory_order_relaxed);
    if (!ok) s.errors.fetch_add(1, std::memory_order_relaxed);
    s.bytes.fetch_add(bytes, std::memory_order_relaxed);
    s.latency_us_total.fetch_add(us, std::memory_order_relaxed);
    uint64_t prev = s.latency_us_max.load(std::memory_order_relaxed);
    while (us > prev && !s.latency_us_max.compare_exchange_weak(prev, us)) {
    }
  }
};

namespace {

using Clock = std::chrono::steady_clock;
using Counters = CountingStorage::Counters;

class CountingReader : public Reader {
 public:
  CountingReader(std::unique_ptr<Reader> inner, std::shared_ptr<Counters> c)
      : inner_(std::move(inner)), c_(std::move(c)) {}
  ~CountingReader() override { c_->resumed.fetch_add(inner_->resumed(), std::memory_order_relaxed); }
  Result<size_t> Read(char* buf, size_t n) override {
    auto start = Clock::now();
    Result<size_t> r = inner_->Read(buf, n);
    c_->Record(StorageOp::kRead, r.ok(), r.ok() ? *r : 0, start);
    return r;
  }
  uint64_t resumed() const override { return inner_->resumed(); }

 private:
  std::unique_ptr<Reader> inner_;
  std::shared_ptr<Counters> c_;
};

class CountingWriter : public Writer {
 public:
  CountingWriter(std::unique_ptr<Writer> inner, std::shared_ptr<Counters> c)
      : inner_(std::move(inner)), c_(std::move(c)) {}
  Status Append(std::string_view data) override {
    auto start = Clock::now();
    Status s = inner_->Append(data);
    c_->Record(StorageOp::kWrite, s.ok(), s.ok() ? data.size() : 0, start);
    return s;
  }
  Status Commit() override {
    auto start = Clock::now();
    Status s = inner_->Commit();
    c_->Record(StorageOp::kCommit, s.ok(), 0, start);
    return s;
  }
  std::string etag() const override { return inner_->etag(); }

 private:
  std::unique_ptr<Writer> inner_;
  std::shared_ptr<Counters> c_;
};

class CountingParallelWriter : public ParallelWriter {
 public:
  CountingParallelWriter(std::unique_ptr<ParallelWriter> inner, std::shared_ptr<Counters> c)
      : inner_(std::move(inner)), c_(std::move(c)) {}
  Status WriteAt(uint64_t offset, std::string_view data) override {
    auto start = Clock::now();
    Status s = inner_->WriteAt(offset, data);
    c_->Record(StorageOp::kWrite, s.ok(), s.ok() ? data.size() : 0, start);
    return s;
  }
  Status Commit() override {
    auto start = Clock::now();
    Status s = inner_->Commit();
    c_->Record(StorageOp::kCommit, s.ok(), 0, start);
    return s;
  }

 private:
  std::unique_ptr<ParallelWriter> inner_;
  std::shared_ptr<Counters> c_;
};

}  // namespace

CountingStorage::CountingStorage(std::unique_ptr<Storage> inner)
    : inner_(std::move(inner)), counters_(std::make_shared<Counters>()) {}
CountingStorage::~CountingStorage() = default;

uint64_t CountingStorage::resumed_reads() const { return counters_->resumed.load(); }

OpStats CountingStorage::stats(StorageOp op) const {
  const Counters::Slot& s = counters_->slots[static_cast<int>(op)];
  return OpStats{s.ops.load(), s.errors.load(), s.bytes.load(), s.latency_us_total.load(), s.latency_us_max.load()};
}

Result<ObjectInfo> CountingStorage::Stat(std::string_view key) {
  auto start = Clock::now();
  auto r = inner_->Stat(key);
  counters_->Record(StorageOp::kStat, r.ok(), 0, start);
  return r;
}

Result<std::unique_ptr<Reader>> CountingStorage::OpenRead(std::string_view key, uint64_t offset, uint64_t length) {
  auto start = Clock::now();
  auto r = inner_->OpenRead(key, offset, length);
  counters_->Record(StorageOp::kOpenRead, r.ok(), 0, start);
  if (!r.ok()) return r.status();
  return std::unique_ptr<Reader>(new CountingReader(std::move(*r), counters_));
}

Result<std::unique_ptr<Writer>> CountingStorage::OpenWrite(std::string_view key, uint64_t size_hint) {
  auto start = Clock::now();
  auto r = inner_->OpenWrite(key, size_hint);
  counters_->Record(StorageOp::kOpenWrite, r.ok(), 0, start);
  if (!r.ok()) return r.status();
  return std::unique_ptr<Writer>(new CountingWriter(std::move(*r), counters_));
}

Result<std::unique_ptr<ParallelWriter>> CountingStorage::OpenParallelWrite(std::string_view key, uint64_t size_bytes,
                                                                           uint64_t part_size_bytes) {
  auto start = Clock::now();
  auto r = inner_->OpenParallelWrite(key, size_bytes, part_size_bytes);
  counters_->Record(StorageOp::kOpenWrite, r.ok(), 0, start);
  if (!r.ok()) return r.status();
  return std::unique_ptr<ParallelWriter>(new CountingParallelWriter(std::move(*r), counters_));
}

Result<std::vector<ObjectInfo>> CountingStorage::List(std::string_view prefix) {
  return ListWithSkipped(prefix, nullptr);
}

Result<std::vector<ObjectInfo>> CountingStorage::ListWithSkipped(std::string_view prefix,
                                                                 std::vector<SkippedEntry>* skipped) {
  auto start = Clock::now();
  auto r = inner_->ListWithSkipped(prefix, skipped);
  counters_->Record(StorageOp::kList, r.ok(), 0, start);
  return r;
}

Status CountingStorage::Delete(std::string_view key) {
  auto start = Clock::now();
  Status s = inner_->Delete(key);
  counters_->Record(StorageOp::kDelete, s.ok(), 0, start);
  return s;
}

// ---------------------------------------------------------------------------------------------
// FaultInjectionStorage

namespace {

class FaultReader : public Reader {
 public:
  FaultReader(std::unique_ptr<Reader> inner, FaultInjectionStorage* owner, uint64_t offset)
      : inner_(std::move(inner)), owner_(owner), pos_(offset) {}
  Result<size_t> Read(char* buf, size_t n) override {
    TB_RETURN_IF_ERROR(owner_->NextOp(StorageOp::kRead));
    TB_ASSIGN_OR_RETURN(size_t got, inner_->Read(buf, n));
    if (owner_->corrupt()) {
      uint64_t at = owner_->corrupt_offset();
      if (at >= pos_ && at < pos_ + got) buf[at - pos_] ^= 0x01;
    }
    pos_ += got;
    return got;
  }
  uint64_t resumed() const override { return inner_->resumed(); }

 private:
  std::unique_ptr<Reader> inner_;
  FaultInjectionStorage* owner_;
  uint64_t pos_;
};

class FaultWriter : public Writer {
 public:
  FaultWriter(std::unique_ptr<Writer> inner, FaultInjectionStorage* owner) : inner_(std::move(inner)), owner_(owner) {}
  Status Append(std::string_view data) override {
    TB_RETURN_IF_ERROR(owner_->NextOp(StorageOp::kWrite));
    return inner_->Append(data);
  }
  Status Commit() override {
    TB_RETURN_IF_ERROR(owner_->NextOp(StorageOp::kCommit));
    return inner_->Commit();
  }
  std::string etag() const override { return inner_->etag(); }

 private:
  std::unique_ptr<Writer> inner_;
  FaultInjectionStorage* owner_;
};

class FaultParallelWriter : public ParallelWriter {
 public:
  FaultParallelWriter(std::unique_ptr<ParallelWriter> inner, FaultInjectionStorage* owner)
      : inner_(std::move(inner)), owner_(owner) {}
  Status WriteAt(uint64_t offset, std::string_view data) override {
    TB_RETURN_IF_ERROR(owner_->NextOp(StorageOp::kWrite));
    return inner_->WriteAt(offset, data);
  }
  Status Commit() override {
    TB_RETURN_IF_ERROR(owner_->NextOp(StorageOp::kCommit));
    return inner_->Commit();
  }

 private:
  std::unique_ptr<ParallelWriter> inner_;
  FaultInjectionStorage* owner_;
};

}  // namespace

void FaultInjectionStorage::FailOps(uint64_t first, uint64_t count, Status status, int only) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_first_ = first;
  fail_count_ = count;
  fail_only_ = only;
  fail_status_ = std::move(status);
}

void FaultInjectionStorage::CorruptByteAt(uint64_t offset) { corrupt_offset_ = offset; }

void FaultInjectionStorage::DelayOpens(double seconds, uint64_t first, uint64_t count, double stall_seconds) {
  open_delay_s_ = seconds;
  stall_first_ = first;
  stall_count_ = count;
  stall_s_ = stall_seconds;
}

Status FaultInjectionStorage::NextOp(StorageOp op) {
  std::lock_guard<std::mutex> lock(mu_);
  if (fail_only_ >= 0 && static_cast<int>(op) != fail_only_) return Status::Ok();
  uint64_t n = op_counter_.fetch_add(1) + 1;
  if (fail_count_ > 0 && n >= fail_first_ && n < fail_first_ + fail_count_) {
    return fail_status_.Prefix(std::string("injected fault in ") + StorageOpName(op) + " #" + std::to_string(n));
  }
  return Status::Ok();
}

Result<ObjectInfo> FaultInjectionStorage::Stat(std::string_view key) {
  TB_RETURN_IF_ERROR(NextOp(StorageOp::kStat));
  return inner_->Stat(key);
}

Result<std::unique_ptr<Reader>> FaultInjectionStorage::OpenRead(std::string_view key, uint64_t offset,
                                                                uint64_t length) {
  TB_RETURN_IF_ERROR(NextOp(StorageOp::kOpenRead));
  uint64_t n = opens_.fetch_add(1) + 1;
  double wait = stall_count_ > 0 && n >= stall_first_ && n < stall_first_ + stall_count_ ? stall_s_ : open_delay_s_;
  if (wait > 0) std::this_thread::sleep_for(std::chrono::duration<double>(wait));
  TB_ASSIGN_OR_RETURN(auto reader, inner_->OpenRead(key, offset, length));
  return std::unique_ptr<Reader>(new FaultReader(std::move(reader), this, offset));
}

Result<std::unique_ptr<Writer>> FaultInjectionStorage::OpenWrite(std::string_view key, uint64_t size_hint) {
  TB_RETURN_IF_ERROR(NextOp(StorageOp::kOpenWrite));
  TB_ASSIGN_OR_RETURN(auto writer, inner_->OpenWrite(key, size_hint));
  return std::unique_ptr<Writer>(new FaultWriter(std::move(writer), this));
}

Result<std::unique_ptr<ParallelWriter>> FaultInjectionStorage::OpenParallelWrite(std::string_view key,
                                                                                 uint64_t size_bytes,
                                                                                 uint64_t part_size_bytes) {
  TB_RETURN_IF_ERROR(NextOp(StorageOp::kOpenWrite));
  TB_ASSIGN_OR_RETURN(auto writer, inner_->OpenParallelWrite(key, size_bytes, part_size_bytes));
  return std::unique_ptr<ParallelWriter>(new FaultParallelWriter(std::move(writer), this));
}

Result<std::vector<ObjectInfo>> FaultInjectionStorage::List(std::string_view prefix) {
  return ListWithSkipped(prefix, nullptr);
}

Result<std::vector<ObjectInfo>> FaultInjectionStorage::ListWithSkipped(std::string_view prefix,
                                                                       std::vector<SkippedEntry>* skipped) {
  TB_RETURN_IF_ERROR(NextOp(StorageOp::kList));
  return inner_->ListWithSkipped(prefix, skipped);
}

Status FaultInjectionStorage::Delete(std::string_view key) {
  TB_RETURN_IF_ERROR(NextOp(StorageOp::kDelete));
  return inner_->Delete(key);
}

}  // namespace tb::storage
