// In-memory storage for unit tests: named namespaces shared by every handle with the same
// name, S3-like semantics (ETag = md5 of the data, objects appear only on Commit).
#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>

#include "storage/storage.h"
#include "util/md5.h"

namespace tb::storage {

namespace {

struct Object {
  std::shared_ptr<const std::string> data;
  std::string etag;
};

struct Namespace {
  std::mutex mu;
  std::map<std::string, Object, std::less<>> objects;

  void Put(const std::string& key, std::string data) {
    Object obj;
    obj.etag = ToHex(Md5Of(data));
    obj.data = std::make_shared<const std::string>(std::move(data));
    std::lock_guard<std::mutex> lock(mu);
    objects[key] = std::move(obj);
  }
};

std::mutex g_registry_mu;
std::map<std::string, std::shared_ptr<Namespace>>& Registry() {
  static auto* registry = new std::map<std::string, std::shared_ptr<Namespace>>;
  return *registry;
}

std::shared_ptr<Namespace> GetNamespace(const std::string& name, bool fresh) {
  std::lock_guard<std::mutex> lock(g_registry_mu);
  auto& slot = Registry()[name];
  if (!slot || fresh) slot = std::make_shared<Namespace>();
  return slot;
}

class MemoryReader : public Reader {
 public:
  MemoryReader(std::shared_ptr<const std::string> data, size_t pos, size_t end)
      : data_(std::move(data)), pos_(pos), end_(end) {}
  Result<size_t> Read(char* buf, size_t n) override {
    size_t k = std::min(n, end_ - pos_);
    std::memcpy(buf, data_->data() + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  std::shared_ptr<const std::string> data_;
  size_t pos_, end_;
};

class MemoryWriter : public Writer {
 public:
  MemoryWriter(std::shared_ptr<Namespace> ns, std::string key) : ns_(std::move(ns)), key_(std::move(key)) {}
  Status Append(std::string_view data) override {
    data_.append(data);
    return Status::Ok();
  }
  Status Commit() override {
    ns_->Put(key_, std::move(data_));
    return Status::Ok();
  }

 private:
  std::shared_ptr<Namespace> ns_;
  std::string key_, data_;
};

class MemoryParallelWriter : public ParallelWriter {
 public:
  MemoryParallelWriter(std::shared_ptr<Namespace> ns, std::string key, uint64_t size)
      : ns_(std::move(ns)), key_(std::move(key)), data_(size, '\0') {}
  Status WriteAt(uint64_t offset, std::string_view data) override {
    if (offset + data.size() > data_.size()) {
      return Status::InvalidArgument("write past the declared size of mem object " + key_);
    }
    std::memcpy(data_.data() + offset, data.data(), data.size());  // disjoint ranges: no lock
    return Status::Ok();
  }
  Status Commit() override {
    ns_->Put(key_, std::move(data_));
    return Status::Ok();
  }

 private:
  std::shared_ptr<Namespace> ns_;
  std::string key_, data_;
};

class MemoryStorage : public Storage {
 public:
  MemoryStorage(std::string name, std::string prefix, std::shared_ptr<Namespace> ns)
      : name_(std::move(name)), prefix_(std::move(prefix)), ns_(std::move(ns)) {}

  std::string Describe(std::string_view key) const override { return "mem://" + name_ + "/" + Full(key); }
  Capabilities caps() const override {
    Capabilities c;
    c.writable = c.listable = c.ranged_reads = c.parallel_writes = c.etag_is_md5 = true;
    return c;
  }

  Result<ObjectInfo> Stat(std::string_view key) override {
    std::lock_guard<std::mutex> lock(ns_->mu);
    auto it = ns_->objects.find(Full(key));
    if (it == ns_->objects.end()) return Status::NotFound("no such object: " + Describe(key));
    return ObjectInfo{std::string(key), it->second.data->size(), it->second.etag};
  }

  Result<std::unique_ptr<Reader>> OpenRead(std::string_view key, uint64_t offset, uint64_t length) override {
    std::shared_ptr<const std::string> data;
    {
      std::lock_guard<std::mutex> lock(ns_->mu);
      auto it = ns_->objects.find(Full(key));
      if (it == ns_->objects.end()) return Status::NotFound("no such object: " + Describe(key));
      data = it->second.data;
    }
    if (offset > data->size()) {
      return Status::InvalidArgument("offset " + std::to_string(offset) + " past the end of " + Describe(key));
    }
    uint64_t end = length == kToEnd ? data->size() : std::min<uint64_t>(data->size(), offset + length);
    return std::unique_ptr<Reader>(new MemoryReader(std::move(data), offset, end));
  }

  Result<std::unique_ptr<Writer>> OpenWrite(std::string_view key, uint64_t) override {
    if (key.empty()) return Status::InvalidArgument("empty key for " + Describe(key));
    return std::unique_ptr<Writer>(new MemoryWriter(ns_, Full(key)));
  }

  Result<std::unique_ptr<ParallelWriter>> OpenParallelWrite(std::string_view key, uint64_t size_bytes,
                                                            uint64_t) override {
    if (key.empty()) return Status::InvalidArgument("empty key for " + Describe(key));
    return std::unique_ptr<ParallelWriter>(new MemoryParallelWriter(ns_, Full(key), size_bytes));
  }

  Result<std::vector<ObjectInfo>> List(std::string_view prefix) override {
    std::string full = Full(prefix);
    if (prefix.empty() && !prefix_.empty()) full = prefix_ + "/";
    std::vector<ObjectInfo> out;
    std::lock_guard<std::mutex> lock(ns_->mu);
    for (auto it = ns_->objects.lower_bound(full); it != ns_->objects.end(); ++it) {
      if (it->first.compare(0, full.size(), full) != 0) break;
      std::string key = prefix_.empty() ? it->first : it->first.substr(prefix_.size() + 1);
      out.push_back(ObjectInfo{std::move(key), it->second.data->size(), it->second.etag});
    }
    return out;  // std::map iterates in key order
  }

  Status Delete(std::string_view key) override {
    std::lock_guard<std::mutex> lock(ns_->mu);
    if (ns_->objects.erase(Full(key)) == 0) return Status::NotFound("no such object: " + Describe(key));
    return Status::Ok();
  }

 private:
  std::string Full(std::string_view key) const {
    return prefix_.empty() ? std::string(key) : prefix_ + "/" + std::string(key);
  }

  std::string name_, prefix_;
  std::shared_ptr<Namespace> ns_;
};

}  // namespace

std::unique_ptr<Storage> NewMemoryStorage(std::string name) {
  auto ns = GetNamespace(name, /*fresh=*/true);
  return std::make_unique<MemoryStorage>(std::move(name), "", std::move(ns));
}

Result<std::unique_ptr<Storage>> OpenMemoryStorage(std::string_view name_and_prefix) {
  size_t slash = name_and_prefix.find('/');
  std::string name(name_and_prefix.substr(0, slash));
  std::string prefix(slash == std::string_view::npos ? "" : name_and_prefix.substr(slash + 1));
  if (name.empty()) return Status::InvalidArgument("mem:// URI has no name");
  auto ns = GetNamespace(name, /*fresh=*/false);
  return std::unique_ptr<Storage>(new MemoryStorage(std::move(name), std::move(prefix), std::move(ns)));
}

}  // namespace tb::storage
