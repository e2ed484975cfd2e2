#include "train/object_source.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <list>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "dataset/cifar.h"
#include "storage/retry.h"
#include "storage/wrappers.h"
#include "util/md5.h"

namespace tb::train {
namespace {

constexpr uint64_t kDefaultMaxObjectBytes = uint64_t{4} << 30;
constexpr int kMaxReadAhead = 1024;
constexpr int kMaxProbedFiles = 100000;
constexpr const char* kDatasetFolders[] = {"", "cifar-10-batches-py/", "cifar-10-batches-bin/", "cifar-100-python/"};

using Bytes = std::shared_ptr<const std::string>;

// File bytes by name, least recently used first out, at most `limit` bytes in all.
class LruCache {
 public:
  explicit LruCache(uint64_t limit) : limit_(limit) {}
  Bytes Get(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = index_.find(name);
    if (it == index_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second);
    return it->second->second;
  }
  void Put(const std::string& name, Bytes bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    if (bytes->size() > limit_ || index_.count(name)) return;
    while (used_ + bytes->size() > limit_) {
      used_ -= order_.back().second->size();
      index_.erase(order_.back().first);
      order_.pop_back();
    }
    used_ += bytes->size();
    order_.emplace_front(name, std::move(bytes));
    index_[name] = order_.begin();
  }

 private:
  std::mutex mu_;
  uint64_t limit_, used_ = 0;
  std::list<std::pair<std::string, Bytes>> order_;
  std::unordered_map<std::string, std::list<std::pair<std::string, Bytes>>::iterator> index_;
};

class ObjectSource : public TrainSource {
 public:
  ObjectSource(std::unique_ptr<storage::Storage> storage, const SourceOptions& options)
      : counting_(new storage::CountingStorage(std::move(storage))), options_(options), cache_(options.cache_bytes) {
    if (options_.mode == "pipe") options_.read_ahead = options_.threads = 1;
    if (options_.mode != "fastfile") options_.cache_bytes = 0;
    options_.read_ahead = std::clamp(options_.read_ahead, 1, kMaxReadAhead);
    options_.threads = std::clamp(options_.threads, 1, options_.read_ahead);
  }
  ~ObjectSource() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      quit_ = true;
    }
    cv_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

  Status Open() {
    std::vector<storage::ObjectInfo> all;
    for (const char* folder : kDatasetFolders) {
      Result<std::vector<storage::ObjectInfo>> listed =
          counting_->caps().listable ? counting_->List(folder) : Probe(folder);
      if (!listed.ok() && *folder == '\0') return listed.status().Prefix("train: listing the dataset");
      if (!listed.ok()) continue;
      all = std::move(listed).value();
      for (const storage::ObjectInfo& o : all) {
        std::string name = o.key.substr(std::strlen(folder));
        if (name.find('/') != std::string::npos) continue;
        if (options_.use_listed &&
            std::find(options_.listed.begin(), options_.listed.end(), name) == options_.listed.end())
          continue;
        objects_[name] = o;
      }
      if (objects_.count("batches.meta") || objects_.count("batches.meta.txt") || objects_.count("meta")) break;
      objects_.clear();
    }
    if (objects_.empty()) {
      return Status::NotFound(where() + ": no CIFAR dataset here (looked for batches.meta in it and in " + where() +
                              "/cifar-10-batches-py)");
    }
    std::vector<std::string> names;
    for (const auto& [name, info] : objects_) names.push_back(name);
    TB_ASSIGN_OR_RETURN(files_, dataset::SplitFiles("", true, &names));
    for (int i = 0; i < options_.threads; ++i) threads_.emplace_back([this] { WorkerLoop(); });
    return Status::Ok();
  }

  std::string mode() const override { return options_.mode; }
  std::string where() const override { return counting_->Describe(""); }
  const std::vector<std::string>& files() const override { return files_; }

  Status StartEpoch(const std::vector<uint32_t>& order) override {
    for (uint32_t f : order) {
      if (f >= files_.size())
        return Status::InvalidArgument("train: file " + std::to_string(f) + " of an epoch's order");
    }
    std::unique_lock<std::mutex> lock(mu_);
    stop_ = true;  // the last epoch's reads in flight finish first
    cv_.wait(lock, [this] { return in_flight_ == 0; });
    ++generation_;
    order_ = order;
    next_issue_ = next_deliver_ = 0;
    ready_.clear();
    stop_ = false;
    lock.unlock();
    cv_.notify_all();
    return Status::Ok();
  }

  Result<bool> Next(dataset::Split* out) override {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return stop_ || next_deliver_ >= order_.size() || ready_.count(next_deliver_); });
    if (stop_ || next_deliver_ >= order_.size()) return false;
    auto it = ready_.find(next_deliver_);
    Result<dataset::Split> r = std::move(it->second);
    ready_.erase(it);
    ++next_deliver_;
    lock.unlock();
    cv_.notify_all();
    if (!r.ok()) return r.status();
    *out = std::move(r).value();
    return true;
  }

  void Stop() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
  }

  Result<dataset::Split> TestSplit() override {
    std::vector<std::string> names;
    for (const auto& [name, info] : objects_) names.push_back(name);
    TB_ASSIGN_OR_RETURN(std::vector<std::string> test, dataset::SplitFiles(where(), false, &names));
    dataset::Split split;
    for (const std::string& path : test) {
      TB_ASSIGN_OR_RETURN(dataset::Split part, Decode(path.substr(path.rfind('/') + 1), false));
      dataset::AppendSplit(&split, part);
    }
    return split;
  }

  Result<std::vector<std::string>> LabelNames() override {
    for (const char* meta : {"batches.meta", "batches.meta.txt", "meta"}) {
      if (!objects_.count(meta)) continue;
      TB_ASSIGN_OR_RETURN(Bytes bytes, Read(meta));
      return dataset::LabelNamesFromBytes(*bytes, Key(meta));
    }
    return Status::NotFound(where() + ": no batches.meta");
  }

  SourceStats Stats() const override {
    SourceStats s;
    s.bytes = counting_->bytes_read();
    s.gets = counting_->stats(storage::StorageOp::kOpenRead).ops;
    s.cache_hits = cache_hits_.load();
    s.cache_hit_bytes = cache_hit_bytes_.load();
    s.resumed = counting_->resumed_reads() + reopened_.load();
    return s;
  }

 private:
  // A tier that cannot list (HTTP): the dataset's names asked for one by one (HEAD): the
  // listed names, else batches.meta, test_batch and data_batch_1, 2, ... up to the first
  // missing one.
  Result<std::vector<storage::ObjectInfo>> Probe(const std::string& folder) {
    std::vector<storage::ObjectInfo> found;
    auto stat = [&](const std::string& name) -> Result<bool> {
      Result<storage::ObjectInfo> info = counting_->Stat(folder + name);
      if (!info.ok()) return info.status().IsNotFound() ? Result<bool>(false) : Result<bool>(info.status());
      found.push_back(*info);
      found.back().key = folder + name;
      return true;
    };
    if (options_.use_listed) {
      for (const std::string& name : options_.listed) TB_RETURN_IF_ERROR(stat(name).status());
      return found;
    }
    TB_ASSIGN_OR_RETURN(bool meta, stat("batches.meta"));
    if (!meta) return found;
    TB_RETURN_IF_ERROR(stat("test_batch").status());
    for (int i = 1; i <= kMaxProbedFiles; ++i) {
      TB_ASSIGN_OR_RETURN(bool more, stat("data_batch_" + std::to_string(i)));
      if (!more) break;
    }
    return found;
  }

  std::string Key(const std::string& name) const { return counting_->Describe(objects_.at(name).key); }

  void WorkerLoop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait(lock, [this] {
        return quit_ || (!stop_ && next_issue_ < order_.size() && next_issue_ < next_deliver_ + options_.read_ahead);
      });
      if (quit_) return;
      size_t pos = next_issue_++;
      uint64_t generation = generation_;
      const std::string& name = files_[order_[pos]];
      ++in_flight_;
      lock.unlock();
      Result<dataset::Split> r = Decode(name.substr(name.rfind('/') + 1), options_.cache_bytes > 0);
      lock.lock();
      --in_flight_;
      if (generation == generation_) ready_.emplace(pos, std::move(r));
      cv_.notify_all();
    }
  }

  // The file's images (its bytes from the cache, else read and maybe cached).
  Result<dataset::Split> Decode(const std::string& name, bool cached) {
    Bytes bytes = cached ? cache_.Get(name) : nullptr;
    if (bytes) {
      ++cache_hits_;
      cache_hit_bytes_ += bytes->size();
    } else {
      TB_ASSIGN_OR_RETURN(bytes, Read(name));
      if (cached) cache_.Put(name, bytes);
    }
    return dataset::DecodeSplitBytes(*bytes, Key(name));
  }

  // The object's bytes, resuming a read that fails in the middle from the byte it reached.
  Result<Bytes> Read(const std::string& name) {
    const storage::ObjectInfo& info = objects_.at(name);
    uint64_t limit = options_.max_object_bytes > 0 ? options_.max_object_bytes : kDefaultMaxObjectBytes;
    if (info.size_bytes > limit) {
      return Status::InvalidArgument("train: " + Key(name) + ": " + std::to_string(info.size_bytes) +
                                     " bytes, over the limit of " + std::to_string(limit) + " for one file");
    }
    auto buf = std::make_shared<std::string>(info.size_bytes, '\0');
    uint64_t got = 0;
    int retries = 0;
    // A transient failure is retried after the transfer engine's backoff (storage/retry.h).
    auto retry = [&](const Status& s) {
      if (!s.retryable() || retries >= options_.max_retries) return false;
      storage::Options backoff;
      backoff.cancel = options_.cancel;
      return storage::SleepUnlessCancelled(storage::BackoffSeconds(++retries), backoff);
    };
    while (got < info.size_bytes) {
      Result<std::unique_ptr<storage::Reader>> reader = counting_->OpenRead(info.key, got, info.size_bytes - got);
      if (!reader.ok()) {
        if (retry(reader.status())) continue;
        return reader.status().Prefix("train: reading " + Key(name));
      }
      for (;;) {
        Result<size_t> n = (*reader)->Read(buf->data() + got, info.size_bytes - got);
        if (!n.ok()) {
          if (retry(n.status())) {
            ++reopened_;
            break;  // resumed from `got`
          }
          return n.status().Prefix("train: reading " + Key(name) + " (" + std::to_string(got) + " of " +
                                   std::to_string(info.size_bytes) + " bytes delivered)");
        }
        if (*n == 0) {
          if (got < info.size_bytes) return Changed(name, "it ended at byte " + std::to_string(got));
          break;
        }
        got += *n;
        if (got == info.size_bytes) break;
      }
    }
    TB_RETURN_IF_ERROR(CheckUnchanged(name, *buf));
    return Bytes(std::move(buf));
  }

  // The bytes read are those of the listing: their md5 where the ETag is one, else the ETag
  // now (where the tier has ETags).
  Status CheckUnchanged(const std::string& name, const std::string& bytes) {
    const storage::ObjectInfo& info = objects_.at(name);
    std::string md5 = storage::Md5FromEtag(info.etag);
    if (!md5.empty()) {
      if (ToHex(Md5Of(bytes)) == md5) return Status::Ok();
      return Changed(name, "its bytes no longer have the listed md5");
    }
    if (info.etag.empty()) return Status::Ok();
    TB_ASSIGN_OR_RETURN(storage::ObjectInfo now, counting_->Stat(info.key));
    if (now.etag == info.etag && now.size_bytes == info.size_bytes) return Status::Ok();
    return Changed(name, "ETag now " + now.etag);
  }

  Status Changed(const std::string& name, const std::string& how) {
    const storage::ObjectInfo& info = objects_.at(name);
    std::string now;
    if (Result<storage::ObjectInfo> s = counting_->Stat(info.key); s.ok() && s->etag != info.etag) {
      now = ", ETag now " + s->etag;
    }
    return Status::Corruption("train: " + Key(name) + " changed since the listing taken at the start of training (" +
                              how + "; listed " + std::to_string(info.size_bytes) + " bytes, ETag " + info.etag + now +
                              ")");
  }

  std::unique_ptr<storage::CountingStorage> counting_;
  SourceOptions options_;
  LruCache cache_;
  std::map<std::string, storage::ObjectInfo> objects_;  // by name in the dataset folder
  std::vector<std::string> files_;
  std::atomic<uint64_t> cache_hits_{0}, cache_hit_bytes_{0};
  std::atomic<uint64_t> reopened_{0};  // reads this source resumed itself (Read)

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<uint32_t> order_;
  size_t next_issue_ = 0, next_deliver_ = 0;
  std::map<size_t, Result<dataset::Split>> ready_;
  int in_flight_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = true, quit_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace

Result<std::unique_ptr<TrainSource>> NewTrainSource(std::unique_ptr<storage::Storage> storage,
                                                    const SourceOptions& options) {
  if (options.mode != "file" && options.mode != "fastfile" && options.mode != "pipe") {
    return Status::InvalidArgument("train: input mode '" + options.mode + "': expected file, fastfile or pipe");
  }
  auto source = std::make_unique<ObjectSource>(std::move(storage), options);
  TB_RETURN_IF_ERROR(source->Open());
  return std::unique_ptr<TrainSource>(std::move(source));
}

Result<std::unique_ptr<TrainSource>> OpenTrainSource(const std::string& uri, const SourceOptions& options,
                                                     const storage::Options& storage_options) {
  TB_ASSIGN_OR_RETURN(std::unique_ptr<storage::Storage> storage, storage::Open(uri, storage_options));
  SourceOptions o = options;
  if (o.max_object_bytes == 0) o.max_object_bytes = storage_options.max_object_bytes;
  if (!o.cancel) o.cancel = storage_options.cancel;
  return NewTrainSource(std::move(storage), o);
}

}  // namespace tb::train
