// Storage wrappers: cross-cutting behaviour layered over any backend, so that backends stay
// free of timing, counting and test hooks.
//
//   CountingStorage      counts operations, errors, bytes and latency per operation kind
//   FaultInjectionStorage fails chosen operations and corrupts chosen bytes (tests)
//
// Both forward every call (including parallel writes) to the wrapped storage and wrap the
// Readers/Writers it returns. Thread-safe like the storage they wrap; counters are atomics.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "storage/storage.h"

namespace tb::storage {

enum class StorageOp { kStat, kOpenRead, kRead, kOpenWrite, kWrite, kCommit, kList, kDelete };
inline constexpr int kNumStorageOps = 8;
const char* StorageOpName(StorageOp op);

struct OpStats {
  uint64_t ops = 0;
  uint64_t errors = 0;
  uint64_t bytes = 0;            // kRead / kWrite only
  uint64_t latency_us_total = 0;
  uint64_t latency_us_max = 0;
};

class CountingStorage : public Storage {
 public:
  explicit CountingStorage(std::unique_ptr<Storage> inner);
  ~CountingStorage() override;

  OpStats stats(StorageOp op) const;
  uint64_t bytes_read() const { return stats(StorageOp::kRead).bytes; }
  uint64_t bytes_written() const { return stats(StorageOp::kWrite).bytes; }
  // Bodies the readers handed out resumed after a break (Reader::resumed), once each reader
  // is destroyed.
  uint64_t resumed_reads() const;

  std::string Describe(std::string_view key) const override { return inner_->Describe(key); }
  Capabilities caps() const override { return inner_->caps(); }
  Result<ObjectInfo> Stat(std::string_view key) override;
  Result<std::unique_ptr<Reader>> OpenRead(std::string_view key, uint64_t offset = 0,
                                           uint64_t length = kToEnd) override;
  Result<std::unique_ptr<Writer>> OpenWrite(std::string_view key, uint64_t size_hint = 0) override;
  Result<std::unique_ptr<ParallelWriter>> OpenParallelWrite(std::string_view key, uint64_t size_bytes,
                                                            uint64_t part_size_bytes) override;
  Result<std::vector<ObjectInfo>> List(std::string_view prefix) override;
  Result<std::vector<ObjectInfo>> ListWithSkipped(std::string_view prefix,
                                                  std::vector<SkippedEntry>* skipped) override;
  Status Delete(std::string_view key) override;

  struct Counters;  // shared with the readers/writers handed out

 private:
  std::unique_ptr<Storage> inner_;
  std::shared_ptr<Counters> counters_;
};

class FaultInjectionStorage : public Storage {
 public:
  explicit FaultInjectionStorage(std::unique_ptr<Storage> inner) : inner_(std::move(inner)) {}

  // Operations are numbered from 1 in call order, across every kind (Stat, OpenRead, each
  // Read, OpenWrite, each Append/WriteAt, Commit, List, Delete). Ops first..first+count-1
  // (only those of kind `only`, when given) fail with `status` instead of running.
  void FailOps(uint64_t first, uint64_t count, Status status, int only = -1);
  // Every read returning the byte at absolute object offset `offset` gets it bit-flipped.
  void CorruptByteAt(uint64_t offset);
  // Every OpenRead waits `seconds` before it runs (a tier's request latency); OpenReads
  // first..first+count-1 (numbered among OpenReads, from 1) wait `stall_seconds` instead.
  void DelayOpens(double seconds, uint64_t first = 0, uint64_t count = 0, double stall_seconds = 0);
  uint64_t ops_seen() const { return op_counter_.load(); }

  std::string Describe(std::string_view key) const override { return inner_->Describe(key); }
  Capabilities caps() const override { return inner_->caps(); }
  Result<ObjectInfo> Stat(std::string_view key) override;
  Result<std::unique_ptr<Reader>> OpenRead(std::string_view key, uint64_t offset = 0,
                                           uint64_t length = kToEnd) override;
  Result<std::unique_ptr<Writer>> OpenWrite(std::string_view key, uint64_t size_hint = 0) override;
  Result<std::unique_ptr<ParallelWriter>> OpenParallelWrite(std::string_view key, uint64_t size_bytes,
                                                            uint64_t part_size_bytes) override;
  Result<std::vector<ObjectInfo>> List(std::string_view prefix) override;
  Result<std::vector<ObjectInfo>> ListWithSkipped(std::string_view prefix,
                                                  std::vector<SkippedEntry>* skipped) override;
  Status Delete(std::string_view key) override;

  // Returns the injected failure for the next op of this kind, or OK (used by wrapped
  // readers/writers too).
  Status NextOp(StorageOp op);
  bool corrupt() const { return corrupt_offset_ != kNone; }
  uint64_t corrupt_offset() const { return corrupt_offset_; }

 private:
  static constexpr uint64_t kNone = ~uint64_t{0};
  std::unique_ptr<Storage> inner_;
  std::atomic<uint64_t> op_counter_{0};
  std::mutex mu_;
  uint64_t fail_first_ = 0, fail_count_ = 0;
  int fail_only_ = -1;
  Status fail_status_;
  std::atomic<uint64_t> corrupt_offset_{kNone};
  double open_delay_s_ = 0, stall_s_ = 0;
  uint64_t stall_first_ = 0, stall_count_ = 0;
  std::atomic<uint64_t> opens_{0};
};

}  // namespace tb::storage
