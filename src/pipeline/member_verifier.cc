#include "pipeline/member_verifier.h"

#include "util/clock.h"
#include "util/md5_multi.h"
#include "util/text.h"

namespace tb::pipeline {

namespace {
// A batch fills every SIMD lane (16 files) unless the members are large: at kBatchBytes it
// starts anyway. Large enough that full-size CIFAR batches (3 MB) still fill the lanes.
constexpr size_t kMaxQueued = 128;               // open temp files waiting to be hashed
constexpr uint64_t kMaxQueuedBytes = 128 << 20;  // member bytes held in memory meanwhile
constexpr uint64_t kBatchBytes = 64 << 20;       // a batch starts early at this many bytes
}

MemberVerifier::MemberVerifier(std::map<std::string, std::string> want, std::string manifest, size_t batch)
    : want_(std::move(want)), manifest_(std::move(manifest)),
      batch_(batch ? batch : static_cast<size_t>(Md5IsaLanes(BestMd5Isa()))) {
  worker_ = std::thread([this] { Work(); });
}

MemberVerifier::~MemberVerifier() { (void)Finish(); }

Status MemberVerifier::Add(dataset::PendingMember member) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] {
    return (queue_.size() < kMaxQueued && queued_bytes_ < kMaxQueuedBytes) || !error_.ok();
  });
  if (!error_.ok()) return error_;  // `member` is dropped: its temp file is removed
  queued_bytes_ += member.data.size();
  queue_.push_back(std::move(member));
  cv_.notify_all();
  return Status::Ok();
}

Status MemberVerifier::Finish() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    finishing_ = true;
    cv_.notify_all();
  }
  if (worker_.joinable()) worker_.join();
  std::lock_guard<std::mutex> lock(mu_);
  return error_;
}

void MemberVerifier::Work() {
  std::vector<dataset::PendingMember> batch;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      // A full batch keeps every SIMD lane busy; the tail goes when the extractor is done.
      cv_.wait(lock, [&] { return queue_.size() >= batch_ || queued_bytes_ >= kBatchBytes || finishing_; });
      if (queue_.empty() && finishing_) return;
      size_t take = std::min(queue_.size(), std::max(batch_, size_t{64}));
      for (size_t i = 0; i < take; ++i) {
        queued_bytes_ -= queue_.front().data.size();
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      cv_.notify_all();
      if (!error_.ok()) {
        batch.clear();  // after an error nothing more is committed
        continue;
      }
    }
    Process(batch);
    batch.clear();
  }
}

void MemberVerifier::Process(std::vector<dataset::PendingMember>& batch) {
  // Members that came with their bytes are hashed from memory, the others from their files.
  std::vector<std::string> paths;
  std::vector<int> fds;
  std::vector<size_t> from_file, in_memory;
  std::vector<std::string_view> messages;
  for (size_t i = 0; i < batch.size(); ++i) {
    if (!want_.count(batch[i].path)) continue;
    if (batch[i].has_data) {
      in_memory.push_back(i);
      messages.emplace_back(batch[i].data);
    } else {
      from_file.push_back(i);
      paths.push_back(batch[i].file.temp_path());
      fds.push_back(batch[i].file.fd());
    }
  }
  double t0 = NowSeconds();
  std::vector<Md5FileResult> sums(batch.size());
  if (!messages.empty()) {
    auto digests = Md5Many(messages);
    for (size_t k = 0; k < in_memory.size(); ++k) sums[in_memory[k]].digest = digests[k];
  }
  if (!fds.empty()) {
    Md5FilesOptions options;
    options.threads = 1;
    auto read = Md5Fds(fds, paths, options);
    for (size_t k = 0; k < from_file.size(); ++k) sums[from_file[k]] = std::move(read[k]);
  }
  hash_seconds_ += NowSeconds() - t0;
  std::vector<size_t> listed = in_memory;
  listed.insert(listed.end(), from_file.begin(), from_file.end());
  Status first;
  std::vector<bool> ok(batch.size(), true);
  for (size_t k = 0; k < listed.size(); ++k) {
    auto& m = batch[listed[k]];
    seen_.insert(m.path);
    const Md5FileResult& sum = sums[listed[k]];
    if (!sum.status.ok()) {
      ok[listed[k]] = false;
      if (first.ok()) first = sum.status;
      continue;
    }
    const std::string& expected = want_.at(m.path);
    std::string actual = ToHex(sum.digest);
    if (actual != expected) {
      ok[listed[k]] = false;
      mismatched_.push_back(m.path);
      if (first.ok()) {
        first = Status::Corruption(ShownName(m.path) + " differs from " + manifest_ + ": expected md5 " + expected + ", actual " +
                                   actual);
      }
    }
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    if (!ok[i]) continue;  // destroyed below: the temp file goes, the final name never appears
    batch[i].data = std::string();  // memory goes back before the rename
    Status c = batch[i].file.Commit();
    if (!c.ok()) {
      if (first.ok()) first = c;
      continue;
    }
    if (want_.count(batch[i].path)) ++verified_;
  }
  if (!first.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    if (error_.ok()) error_ = first;
    cv_.notify_all();
  }
}

}  // namespace tb::pipeline
