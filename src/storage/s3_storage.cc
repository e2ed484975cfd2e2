// S3Storage: the Storage interface over S3Client.
//   Reader: parallel ranged GETs of Options::part_size_bytes, at most Options::concurrency in
//           flight, delivered in order (bounded memory: concurrency x part size).
//   Writer: buffers up to one part; a small object is one PutObject, a larger one switches to a
//           multipart upload whose parts are uploaded as they fill (at most concurrency in
//           flight); any failure, or destroying an uncommitted writer, aborts the upload.
#include "storage/s3_storage.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <cstring>
#include <deque>
#include <future>

#include "storage/retry.h"
#include "storage/s3_client.h"

namespace tb::storage {
namespace {

constexpr uint64_t kMinPartSize = 5ull << 20;
constexpr int kMaxParts = 10000;

uint64_t PartSize(const Options& o) { return std::max<uint64_t>(o.part_size_bytes, kMinPartSize); }
int Concurrency(const Options& o) { return std::max(1, o.concurrency); }

struct Buffer {
  std::unique_ptr<char[]> data;
  size_t size = 0;
};

class S3Reader : public Reader {
 public:
  S3Reader(std::shared_ptr<const S3Client> client, std::string bucket, std::string key,
           uint64_t offset, uint64_t end)
      : client_(std::move(client)), bucket_(std::move(bucket)), key_(std::move(key)),
        next_fetch_(offset), end_(end), chunk_(PartSize(client_->options())) {}
  ~S3Reader() override {
    for (auto& f : inflight_) f.wait();
  }
  uint64_t resumed() const override { return resumed_.load(); }

  Result<size_t> Read(char* buf, size_t n) override {
    if (!error_.ok()) return error_;
    while (pos_ == current_.size) {
      Fill();
      if (inflight_.empty()) return size_t{0};
      Result<Buffer> next = inflight_.front().get();
      inflight_.pop_front();
      if (!next.ok()) {
        error_ = next.status();
        return error_;
      }
      current_ = std::move(next).value();
      pos_ = 0;
      Fill();
    }
    size_t k = std::min(n, current_.size - pos_);
    std::memcpy(buf, current_.data.get() + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  // Starts fetches up to the concurrency limit.
  void Fill() {
    size_t window = static_cast<size_t>(Concurrency(client_->options()));
    while (inflight_.size() < window && next_fetch_ < end_) {
      uint64_t off = next_fetch_;
      size_t len = static_cast<size_t>(std::min<uint64_t>(chunk_, end_ - off));
      next_fetch_ += len;
      // The task may use resumed_: the destructor waits for every task in flight.
      inflight_.push_back(std::async(
          std::launch::async, [c = client_, b = bucket_, k = key_, off, len, resumed = &resumed_]() -> Result<Buffer> {
            Buffer buf{std::unique_ptr<char[]>(new char[len]), 0};
            TB_ASSIGN_OR_RETURN(buf.size, c->GetRange(b, k, off, len, buf.data.get(), resumed));
            if (buf.size != len) {
              return Status::Corruption("S3 GetObject " + S3Client::Uri(b, k) + ": range at " + std::to_string(off) +
                                        " returned " + std::to_string(buf.size) + " of " + std::to_string(len) +
                                        " bytes (object changed or truncated)");
            }
            return buf;
          }));
    }
  }

  std::shared_ptr<const S3Client> client_;
  std::string bucket_, key_;
  uint64_t next_fetch_, end_;
  uint64_t chunk_;
  std::deque<std::future<Result<Buffer>>> inflight_;
  Buffer current_;
  size_t pos_ = 0;
  Status error_;
  std::atomic<uint64_t> resumed_{0};
};

class S3Writer : public Writer {
 public:
  S3Writer(std::shared_ptr<const S3Client> client, std::string bucket, std::string key)
      : client_(std::move(client)), bucket_(std::move(bucket)), key_(std::move(key)),
        part_size_(PartSize(client_->options())) {}

  ~S3Writer() override {
    if (!committed_) Abort();
  }

  Status Append(std::string_view data) override {
    if (!error_.ok()) return error_;
    if (committed_) return Status::Internal("S3 write " + Uri() + ": Append after Commit");
    while (!data.empty()) {
      if (buffer_.size() == part_size_) {
        // More is coming: the full buffer is a non-last part.
        if (Status s = StartPart(); !s.ok()) return Fail(s);
      }
      if (buffer_.capacity() < part_size_) buffer_.reserve(part_size_);
      size_t k = std::min<size_t>(data.size(), part_size_ - buffer_.size());
      buffer_.append(data.substr(0, k));
      data.remove_prefix(k);
    }
    return Status::Ok();
  }

  Status Commit() override {
    if (!error_.ok()) return error_;
    if (committed_) return Status::Ok();
    if (upload_id_.empty()) {
      auto etag = client_->PutObject(bucket_, key_, buffer_);
      if (!etag.ok()) return Fail(etag.status());
      etag_ = *etag;
      committed_ = true;
      buffer_ = std::string();
      return Status::Ok();
    }
    if (!buffer_.empty()) {
      if (Status s = StartPart(); !s.ok()) return Fail(s);
    }
    if (Status s = WaitFor(0); !s.ok()) return Fail(s);
    auto etag = client_->CompleteMultipartUpload(bucket_, key_, upload_id_, etags_, md5s_);
    if (!etag.ok()) {
      // A Corruption (ETag mismatch) after Complete means the object exists but is wrong.
      if (etag.status().IsCorruption()) (void)client_->DeleteObject(bucket_, key_);
      return Fail(etag.status());
    }
    etag_ = *etag;
    committed_ = true;
    return Status::Ok();
  }

  std::string etag() const override { return etag_; }

 private:
  std::string Uri() const { return S3Client::Uri(bucket_, key_); }

  // Uploads the buffered data as the next part (creating the upload first if needed).
  Status StartPart() {
    if (upload_id_.empty()) {
      TB_ASSIGN_OR_RETURN(upload_id_, client_->CreateMultipartUpload(bucket_, key_));
      // Never reallocated while part uploads write their slots.
      etags_.reserve(kMaxParts);
      md5s_.reserve(kMaxParts);
    }
    if (etags_.size() >= static_cast<size_t>(kMaxParts)) {
      return Status::InvalidArgument("S3 write " + Uri() + ": more than 10000 parts; raise part size");
    }
    if (Status s = WaitFor(static_cast<size_t>(Concurrency(client_->options())) - 1); !s.ok()) return s;
    int number = static_cast<int>(etags_.size()) + 1;
    etags_.emplace_back();
    md5s_.emplace_back();
    auto part = std::make_shared<std::string>(std::move(buffer_));
    buffer_ = std::string();
    inflight_.push_back(std::async(std::launch::async, [this, part, number]() -> Status {
      Md5Digest md5 = Md5Of(*part);
      TB_ASSIGN_OR_RETURN(std::string etag,
                          client_->UploadPart(bucket_, key_, upload_id_, number, *part, md5));
      // Distinct elements per part: no lock needed; read after the future is joined.
      etags_[number - 1] = std::move(etag);
      md5s_[number - 1] = md5;
      return Status::Ok();
    }));
    return Status::Ok();
  }

  // Waits until at most `max_inflight` part uploads are running; returns the first error.
  Status WaitFor(size_t max_inflight) {
    Status first;
    while (inflight_.size() > max_inflight) {
      Status s = inflight_.front().get();
      inflight_.pop_front();
      if (!s.ok() && first.ok()) first = s;
      if (!first.ok()) max_inflight = 0;  // drain everything after a failure
    }
    return first;
  }

  Status Fail(const Status& s) {
    error_ = s;
    Abort();
    return s;
  }

  void Abort() {
    (void)WaitFor(0);
    if (!upload_id_.empty()) {
      Status s = client_->AbortMultipartUpload(bucket_, key_, upload_id_);
      (void)s;  // best effort; a leftover upload is reported by ListMultipartUploads
      upload_id_.clear();
    }
    committed_ = false;
  }

  std::shared_ptr<const S3Client> client_;
  std::string bucket_, key_;
  uint64_t part_size_;
  std::string buffer_;
  std::string upload_id_;
  std::vector<std::string> etags_;  // reserved up front in StartPart; index = part - 1
  std::vector<Md5Digest> md5s_;
  std::deque<std::future<Status>> inflight_;
  bool committed_ = false;
  std::string etag_;
  Status error_;
};

// Multipart upload whose bytes arrive from many threads (the transfer engine's parallel
// copies): part i covers [i * part_size, (i + 1) * part_size) and is UploadPart number i + 1.
// Writes may cover a part in several pieces; a part is buffered until complete, then uploaded
// by the thread that completed it (memory: the parts being filled at once).
class S3ParallelWriter : public ParallelWriter {
 public:
  S3ParallelWriter(std::shared_ptr<const S3Client> client, std::string bucket, std::string key,
                   std::string upload_id, uint64_t size_bytes, uint64_t part_size)
      : client_(std::move(client)), bucket_(std::move(bucket)), key_(std::move(key)),
        upload_id_(std::move(upload_id)), size_(size_bytes), part_size_(part_size),
        num_parts_(static_cast<size_t>((size_bytes + part_size - 1) / part_size)),
        etags_(num_parts_), md5s_(num_parts_) {}

  ~S3ParallelWriter() override {
    if (!committed_) (void)client_->AbortMultipartUpload(bucket_, key_, upload_id_);
  }

  Status WriteAt(uint64_t offset, std::string_view data) override {
    uint64_t index = offset / part_size_;
    if (data.empty()) return Status::Ok();
    if (offset + data.size() > size_ || (offset + data.size() - 1) / part_size_ != index) {
      return Status::InvalidArgument("S3 parallel write " + S3Client::Uri(bucket_, key_) + ": " +
                                     std::to_string(data.size()) + " bytes at offset " + std::to_string(offset) +
                                     " cross a part boundary or the end");
    }
    uint64_t part_start = index * part_size_;
    size_t part_len = static_cast<size_t>(std::min<uint64_t>(part_size_, size_ - part_start));
    Pending* p;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto [it, inserted] = pending_.try_emplace(index);
      if (inserted) {
        if (!etags_[index].empty()) {
          return Status::InvalidArgument("S3 parallel write " + S3Client::Uri(bucket_, key_) + ": part " +
                                         std::to_string(index + 1) + " written twice");
        }
        it->second.data.reset(new char[part_len]);
      }
      p = &it->second;
    }
    std::memcpy(p->data.get() + (offset - part_start), data.data(), data.size());
    std::unique_ptr<char[]> full;
    {
      std::lock_guard<std::mutex> lock(mu_);
      p->filled += data.size();
      if (p->filled > part_len) {
        return Status::InvalidArgument("S3 parallel write " + S3Client::Uri(bucket_, key_) + ": part " +
                                       std::to_string(index + 1) + " written twice");
      }
      if (p->filled < part_len) return Status::Ok();
      full = std::move(p->data);
      pending_.erase(index);
    }
    std::string_view part(full.get(), part_len);
    Md5Digest md5 = Md5Of(part);
    TB_ASSIGN_OR_RETURN(std::string etag, client_->UploadPart(bucket_, key_, upload_id_,
                                                              static_cast<int>(index) + 1, part, md5));
    std::lock_guard<std::mutex> lock(mu_);
    etags_[index] = std::move(etag);
    md5s_[index] = md5;
    ++parts_done_;
    return Status::Ok();
  }

  Status Commit() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (parts_done_ != num_parts_) {
        return Status::Internal("S3 parallel write " + S3Client::Uri(bucket_, key_) + ": Commit with " +
                                std::to_string(parts_done_) + " of " + std::to_string(num_parts_) + " parts");
      }
    }
    auto etag = client_->CompleteMultipartUpload(bucket_, key_, upload_id_, etags_, md5s_);
    if (!etag.ok()) {
      if (etag.status().IsCorruption()) (void)client_->DeleteObject(bucket_, key_);
      return etag.status();
    }
    committed_ = true;
    return Status::Ok();
  }

 private:
  struct Pending {
    std::unique_ptr<char[]> data;
    size_t filled = 0;
  };

  std::shared_ptr<const S3Client> client_;
  std::string bucket_, key_, upload_id_;
  uint64_t size_, part_size_;
  size_t num_parts_;
  std::mutex mu_;
  std::map<uint64_t, Pending> pending_;  // parts being filled (node-stable)
  std::vector<std::string> etags_;
  std::vector<Md5Digest> md5s_;
  size_t parts_done_ = 0;
  bool committed_ = false;
};

class S3Storage : public Storage {
 public:
  S3Storage(std::shared_ptr<const S3Client> client, std::string bucket, std::string prefix)
      : client_(std::move(client)), bucket_(std::move(bucket)), prefix_(std::move(prefix)) {}

  std::string Describe(std::string_view key) const override {
    return S3Client::Uri(bucket_, FullKey(key));
  }
  Capabilities caps() const override {
    Capabilities c;
    c.writable = c.listable = c.ranged_reads = c.parallel_writes = c.etag_is_md5 = true;
    return c;
  }

  Result<ObjectInfo> Stat(std::string_view key) override {
    TB_ASSIGN_OR_RETURN(HeadResult h, client_->HeadObject(bucket_, FullKey(key)));
    return ObjectInfo{std::string(key), h.size_bytes, h.etag};
  }

  Result<std::unique_ptr<Reader>> OpenRead(std::string_view key, uint64_t offset,
                                           uint64_t length) override {
    uint64_t end;
    if (length == kToEnd) {
      TB_ASSIGN_OR_RETURN(HeadResult h, client_->HeadObject(bucket_, FullKey(key)));
      if (offset > h.size_bytes) {
        return Status::InvalidArgument("S3 read " + Describe(key) + ": offset " + std::to_string(offset) +
                                       " beyond size " + std::to_string(h.size_bytes));
      }
      end = h.size_bytes;
    } else {
      end = offset + length;
    }
    return std::unique_ptr<Reader>(new S3Reader(client_, bucket_, FullKey(key), offset, end));
  }

  Result<std::unique_ptr<Writer>> OpenWrite(std::string_view key, uint64_t) override {
    if (key.empty()) return Status::InvalidArgument("S3 write " + Describe(key) + ": empty key");
    return std::unique_ptr<Writer>(new S3Writer(client_, bucket_, FullKey(key)));
  }

  Result<std::unique_ptr<ParallelWriter>> OpenParallelWrite(std::string_view key, uint64_t size_bytes,
                                                            uint64_t part_size_bytes) override {
    std::string full = FullKey(key);
    if (size_bytes > part_size_bytes && part_size_bytes < kMinPartSize) {
      return Status::InvalidArgument("S3 write " + Describe(key) + ": part size " + std::to_string(part_size_bytes) +
                                     " is below the S3 minimum of 5 MiB");
    }
    if (size_bytes == 0 || part_size_bytes == 0 ||
        (size_bytes + part_size_bytes - 1) / part_size_bytes > kMaxParts) {
      return Status::InvalidArgument("S3 parallel write " + Describe(key) + ": " + std::to_string(size_bytes) +
                                     " bytes in parts of " + std::to_string(part_size_bytes) +
                                     " needs 1..10000 parts");
    }
    TB_ASSIGN_OR_RETURN(std::string upload_id, client_->CreateMultipartUpload(bucket_, full));
    return std::unique_ptr<ParallelWriter>(
        new S3ParallelWriter(client_, bucket_, full, upload_id, size_bytes, part_size_bytes));
  }

  Result<std::vector<ObjectInfo>> List(std::string_view prefix) override {
    std::string root = prefix_.empty() ? "" : prefix_ + "/";
    TB_ASSIGN_OR_RETURN(auto entries, client_->ListObjectsV2(bucket_, root + std::string(prefix)));
    std::vector<ObjectInfo> out;
    out.reserve(entries.size());
    for (auto& e : entries) {
      if (!e.key.starts_with(root)) continue;
      out.push_back(ObjectInfo{e.key.substr(root.size()), e.size_bytes, std::move(e.etag)});
    }
    std::sort(out.begin(), out.end(), [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
    return out;
  }

  Status Delete(std::string_view key) override { return client_->DeleteObject(bucket_, FullKey(key)); }

 private:
  std::string FullKey(std::string_view key) const {
    if (prefix_.empty()) return std::string(key);
    if (key.empty()) return prefix_;
    return prefix_ + "/" + std::string(key);
  }

  std::shared_ptr<const S3Client> client_;
  std::string bucket_, prefix_;
};

std::string TrimSlashes(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  while (!s.empty() && s.front() == '/') s.erase(0, 1);
  return s;
}

}  // namespace

Result<std::unique_ptr<Storage>> NewS3Storage(const std::string& bucket, const std::string& prefix,
                                              const Options& options) {
  if (bucket.empty()) return Status::InvalidArgument("S3 storage: empty bucket name");
  TB_ASSIGN_OR_RETURN(std::shared_ptr<S3Client> client, S3Client::Create(options));
  return std::unique_ptr<Storage>(new S3Storage(std::move(client), bucket, TrimSlashes(prefix)));
}

std::string S3BucketOf(std::string_view uri) {
  std::string_view rest = uri.substr(5);  // after "s3://"
  return std::string(rest.substr(0, rest.find('/')));
}

Result<bool> EnsureBucket(const std::string& bucket, const Options& options, bool create) {
  TB_ASSIGN_OR_RETURN(std::shared_ptr<S3Client> client, S3Client::Create(options));
  TB_ASSIGN_OR_RETURN(bool exists, client->BucketExists(bucket));
  if (exists) return false;
  if (!create) {
    return Status::NotFound("bucket " + bucket + " does not exist (endpoint " + client->config().endpoint_url + ")");
  }
  TB_RETURN_IF_ERROR(client->CreateBucket(bucket));
  return true;
}

}  // namespace tb::storage
