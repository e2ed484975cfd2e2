#include "dataset/cifar.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "dataset/mapped_file.h"
#include "dataset/pickle.h"
#include "util/fs.h"
#include "util/parallel.h"

namespace tb::dataset {

namespace {

namespace fs = std::filesystem;
using pickle::Kind;
using pickle::Value;

constexpr size_t kRecord10 = 1 + kImageBytes;  // binary CIFAR-10: label, pixels
constexpr size_t kRecord100 = 2 + kImageBytes;  // binary CIFAR-100: coarse, fine, pixels

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string BaseName(const std::string& path) { return fs::path(path).filename().string(); }

// Labels from a list of ints or an integer numpy array; each must be 0..255.
Status ReadLabels(const Value* v, const std::string& name, const char* key, std::vector<uint8_t>* out) {
  auto bad = [&](const std::string& why) { return Status::Corruption(name + ": '" + key + "' " + why); };
  out->clear();
  if (v->kind == Kind::kList || v->kind == Kind::kTuple) {
    out->reserve(v->items.size());
    for (const Value* item : v->items) {
      if (item->kind != Kind::kInt) return bad(std::string("holds a ") + pickle::KindName(item->kind) + ", not an int");
      if (item->int_value < 0 || item->int_value > 255) return bad("holds label " + std::to_string(item->int_value));
      out->push_back(static_cast<uint8_t>(item->int_value));
    }
    return Status::Ok();
  }
  if (v->kind == Kind::kNdArray) {
    const Value* dt = v->dtype();
    bool is_signed = false;
    int size = dt ? pickle::IntDtypeSize(dt->data, &is_signed) : 0;
    if (size == 0) return bad("is not an integer array (dtype " + (dt ? std::string(dt->data) : "?") + ")");
    if (size > 1 && dt->byte_order == '>') return bad("is a big-endian array");
    if (v->shape.size() != 1) return bad("is not a 1-D array");
    size_t n = static_cast<size_t>(v->shape[0]);
    if (v->data.size() != n * static_cast<size_t>(size)) return bad("array data size does not match its shape");
    out->resize(n);
    for (size_t i = 0; i < n; ++i) {
      uint64_t u = 0;
      std::memcpy(&u, v->data.data() + i * size, static_cast<size_t>(size));
      int64_t x = static_cast<int64_t>(u);
      if (is_signed && size < 8 && ((u >> (size * 8 - 1)) & 1)) x -= int64_t{1} << (size * 8);
      if (x < 0 || x > 255) return bad("holds label " + std::to_string(x));
      (*out)[i] = static_cast<uint8_t>(x);
    }
    return Status::Ok();
  }
  return bad(std::string("is a ") + pickle::KindName(v->kind) + ", not a list of ints or an integer array");
}

// The pixel data: a uint8 numpy array of N x 3072 (or any C-order shape with N leading and
// 3072 bytes per image), or raw bytes.
Status ReadPixels(const Value* v, const std::string& name, size_t count, BatchView* out) {
  auto bad = [&](const std::string& why) { return Status::Corruption(name + ": 'data' " + why); };
  std::string_view bytes;
  if (v->kind == Kind::kNdArray) {
    const Value* dt = v->dtype();
    bool is_signed = false;
    if (dt == nullptr || pickle::IntDtypeSize(dt->data, &is_signed) != 1 || is_signed) {
      return bad("is not a uint8 array (dtype " + (dt ? std::string(dt->data) : "?") + ")");
    }
    if (v->shape.empty() || static_cast<size_t>(v->shape[0]) != count) {
      return bad("has " + (v->shape.empty() ? std::string("no rows") : std::to_string(v->shape[0]) + " rows") +
                 " but there are " + std::to_string(count) + " labels");
    }
    size_t per_image = 1;
    for (size_t i = 1; i < v->shape.size(); ++i) {
      if (v->shape[i] > static_cast<int64_t>(kImageBytes)) return bad("has a wrong shape");
      per_image *= static_cast<size_t>(v->shape[i]);
    }
    if (per_image != kImageBytes) return bad("rows are " + std::to_string(per_image) + " bytes, not 3072");
    if (v->fortran_order && v->shape.size() > 1 && count > 1) return bad("is a Fortran-order array");
    bytes = v->data;
  } else if (v->kind == Kind::kBytes) {
    bytes = v->data;
  } else {
    return bad(std::string("is a ") + pickle::KindName(v->kind) + ", not a uint8 array");
  }
  if (bytes.size() != count * kImageBytes) {
    return bad("holds " + std::to_string(bytes.size()) + " bytes, expected " + std::to_string(count) + " x 3072");
  }
  out->pixels = reinterpret_cast<const uint8_t*>(bytes.data());
  out->stride = kImageBytes;
  return Status::Ok();
}

Result<BatchView> DecodePickle(std::string_view bytes, const std::string& name, bool with_filenames) {
  TB_ASSIGN_OR_RETURN(pickle::Decoded d, pickle::Decode(bytes, name));
  const Value* root = d.root.get();
  if (root->kind != Kind::kDict) {
    return Status::Corruption(name + ": pickle holds a " + pickle::KindName(root->kind) + ", not a dict");
  }
  BatchView view;
  view.format = "pickle";
  view.protocol = d.protocol;
  const Value* labels = root->Find("labels");
  if (labels == nullptr) labels = root->Find("fine_labels");
  if (labels == nullptr) return Status::Corruption(name + ": no 'labels' (or 'fine_labels') key");
  TB_RETURN_IF_ERROR(ReadLabels(labels, name, "labels", &view.labels));
  if (const Value* coarse = root->Find("coarse_labels")) {
    TB_RETURN_IF_ERROR(ReadLabels(coarse, name, "coarse_labels", &view.coarse_labels));
    if (view.coarse_labels.size() != view.labels.size()) {
      return Status::Corruption(name + ": 'coarse_labels' and 'fine_labels' differ in length");
    }
  }
  const Value* data = root->Find("data");
  if (data == nullptr) return Status::Corruption(name + ": no 'data' key");
  TB_RETURN_IF_ERROR(ReadPixels(data, name, view.labels.size(), &view));
  if (const Value* bl = root->Find("batch_label"); bl != nullptr && bl->IsText()) {
    view.batch_label = std::string(bl->data);
  }
  if (with_filenames) {
    if (const Value* fns = root->Find("filenames"); fns != nullptr && fns->kind == Kind::kList) {
      for (const Value* f : fns->items) {
        if (!f->IsText()) return Status::Corruption(name + ": 'filenames' holds a non-string");
        view.filenames.emplace_back(f->data);
      }
    }
  }
  // Pixels decoded into an owned buffer (e.g. _codecs.encode) live in the decode's arena.
  view.storage = d.root;
  return view;
}

Result<BatchView> DecodeBinary(std::string_view bytes, const std::string& name, size_t record) {
  BatchView view;
  view.format = "binary";
  size_t n = bytes.size() / record;
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  view.labels.resize(n);
  if (record == kRecord100) view.coarse_labels.resize(n);
  for (size_t i = 0; i < n; ++i) {
    if (record == kRecord100) {
      view.coarse_labels[i] = p[i * record];
      view.labels[i] = p[i * record + 1];
    } else {
      view.labels[i] = p[i * record];
    }
  }
  view.pixels = p + (record - kImageBytes);
  view.stride = record;
  (void)name;
  return view;
}

}  // namespace

void BatchView::CopyPixels(uint8_t* dest) const {
  size_t n = count();
  if (n == 0) return;
  if (stride == kImageBytes) {
    std::memcpy(dest, pixels, n * kImageBytes);
    return;
  }
  for (size_t i = 0; i < n; ++i) std::memcpy(dest + i * kImageBytes, pixels + i * stride, kImageBytes);
}

Result<BatchView> DecodeBatchView(std::string_view bytes, const std::string& name, bool with_filenames) {
  if (bytes.empty()) return Status::Corruption(name + ": empty file");
  std::string base = BaseName(name);
  bool is_bin = EndsWith(base, ".bin");
  if (!is_bin && static_cast<uint8_t>(bytes[0]) != 0x80 && bytes.size() % kRecord10 == 0 &&
      bytes[0] >= 0 && bytes[0] < 10) {
    is_bin = true;  // binary records without the .bin name (first label byte is 0..9)
  }
  if (!is_bin) return DecodePickle(bytes, name, with_filenames);
  bool cifar100 = base == "train.bin" || base == "test.bin";
  size_t record = cifar100 ? kRecord100 : kRecord10;
  if (bytes.size() % record != 0) {
    return Status::Corruption(name + ": binary CIFAR file of " + std::to_string(bytes.size()) +
                              " bytes is not a whole number of " + std::to_string(record) + "-byte records");
  }
  return DecodeBinary(bytes, name, record);
}

Result<Batch> DecodeBatchBytes(std::string_view bytes, const std::string& name) {
  TB_ASSIGN_OR_RETURN(BatchView view, DecodeBatchView(bytes, name, /*with_filenames=*/true));
  Batch b;
  b.format = std::move(view.format);
  b.protocol = view.protocol;
  b.batch_label = std::move(view.batch_label);
  b.filenames = std::move(view.filenames);
  b.pixels.resize(view.count() * kImageBytes);
  view.CopyPixels(b.pixels.data());
  b.labels = std::move(view.labels);
  b.coarse_labels = std::move(view.coarse_labels);
  return b;
}

Result<Split> DecodeSplitBytes(std::string_view bytes, const std::string& name) {
  TB_ASSIGN_OR_RETURN(BatchView view, DecodeBatchView(bytes, name, false));
  Split split;
  split.count = view.count();
  split.files = 1;
  split.file_bytes = bytes.size();
  split.pixels.resize(split.count * kImageBytes);
  view.CopyPixels(split.pixels.data());
  split.labels = std::move(view.labels);
  return split;
}

void AppendSplit(Split* to, const Split& part) {
  to->labels.insert(to->labels.end(), part.labels.begin(), part.labels.end());
  to->pixels.insert(to->pixels.end(), part.pixels.begin(), part.pixels.end());
  to->count += part.count;
  to->files += part.files;
  to->file_bytes += part.file_bytes;
}

Result<Batch> DecodeBatchFile(const std::string& path) {
  TB_ASSIGN_OR_RETURN(MappedFile file, MappedFile::Open(path));
  return DecodeBatchBytes(file.data(), path);
}

Result<std::vector<std::string>> ReadLabelNames(const std::string& meta_path) {
  TB_ASSIGN_OR_RETURN(MappedFile file, MappedFile::Open(meta_path));
  return LabelNamesFromBytes(file.data(), meta_path);
}

Result<std::vector<std::string>> LabelNamesFromBytes(std::string_view bytes, const std::string& meta_path) {
  std::vector<std::string> names;
  if (EndsWith(meta_path, ".txt")) {
    std::istringstream in{std::string(bytes)};
    for (std::string line; std::getline(in, line);) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (!line.empty()) names.push_back(line);
    }
  } else {
    TB_ASSIGN_OR_RETURN(pickle::Decoded d, pickle::Decode(bytes, meta_path));
    const Value* list = d.root->Find("label_names");
    if (list == nullptr) list = d.root->Find("fine_label_names");
    if (list == nullptr || list->kind != Kind::kList) {
      return Status::Corruption(meta_path + ": no 'label_names' (or 'fine_label_names') list");
    }
    for (const Value* v : list->items) {
      if (!v->IsText()) return Status::Corruption(meta_path + ": 'label_names' holds a non-string");
      names.emplace_back(v->data);
    }
  }
  if (names.empty()) return Status::Corruption(meta_path + ": no label names");
  return names;
}

constexpr const char* kMetaNames[] = {"batches.meta", "batches.meta.txt", "meta"};

Result<std::string> FindDatasetDir(const std::string& dir) {
  std::error_code ec;
  for (const char* sub : {"", "cifar-10-batches-py", "cifar-10-batches-bin", "cifar-100-python"}) {
    fs::path d = *sub ? fs::path(dir) / sub : fs::path(dir);
    for (const char* meta : kMetaNames) {
      if (fs::is_regular_file(d / meta, ec)) return d.string();
    }
  }
  return Status::NotFound(dir + ": no CIFAR dataset here (looked for batches.meta in it and in " + dir +
                          "/cifar-10-batches-py)");
}

Result<std::string> FindMetaFile(const std::string& dataset_dir) {
  std::error_code ec;
  for (const char* meta : kMetaNames) {
    fs::path p = fs::path(dataset_dir) / meta;
    if (fs::is_regular_file(p, ec)) return p.string();
  }
  return Status::NotFound(dataset_dir + ": no batches.meta (or batches.meta.txt, meta) to tell the number of classes");
}

Status CheckLabels(const std::vector<uint8_t>& labels, size_t classes, const std::string& file,
                   const std::string& meta_file) {
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < classes) continue;
    return Status::Corruption(file + ": label " + std::to_string(labels[i]) + " at index " + std::to_string(i) +
                              " is outside 0.." + std::to_string(classes - 1) + " (" + std::to_string(classes) +
                              " classes in " + BaseName(meta_file) + ")");
  }
  return Status::Ok();
}

Result<std::vector<std::string>> SplitFiles(const std::string& dataset_dir, bool train,
                                            const std::vector<std::string>* listed) {
  std::vector<std::string> names;
  if (listed != nullptr) {
    for (const auto& name : *listed)
      if (name.find('/') == std::string::npos) names.push_back(name);
  } else {
    std::error_code ec;
    fs::directory_iterator it(dataset_dir, ec);
    if (ec) return Status::FromErrno(ec.value(), "list", dataset_dir);
    for (const auto& entry : it) names.push_back(entry.path().filename().string());
  }
  std::vector<std::pair<long, std::string>> found;
  for (const std::string& name : names) {
    if (IsTempName(name)) continue;
    std::string path = (fs::path(dataset_dir) / name).string();
    std::string stem = EndsWith(name, ".bin") ? name.substr(0, name.size() - 4) : name;
    if (train) {
      constexpr std::string_view kPrefix = "data_batch_";
      if (stem.rfind(kPrefix, 0) == 0 && stem.size() > kPrefix.size() &&
          stem.find_first_not_of("0123456789", kPrefix.size()) == std::string::npos &&
          stem.size() - kPrefix.size() < 10) {
        found.emplace_back(std::stol(stem.substr(kPrefix.size())), path);
      } else if (stem == "train") {
        found.emplace_back(0, path);
      }
    } else if (stem == "test_batch" || stem == "test") {
      found.emplace_back(0, path);
    }
  }
  if (found.empty()) {
    return Status::NotFound(dataset_dir + ": no " + (train ? "data_batch_* (training)" : "test_batch") + " files" +
                            (listed != nullptr ? " among the files the manifest lists" : ""));
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> files;
  for (auto& f : found) files.push_back(std::move(f.second));
  return files;
}

Status RequireListed(const std::string& dataset_dir, const std::string& name, const std::vector<std::string>* listed) {
  if (listed == nullptr || std::find(listed->begin(), listed->end(), name) != listed->end()) return Status::Ok();
  return Status::NotFound((fs::path(dataset_dir) / name).string() +
                          ": not among the files the manifest lists (so not verified, not read)");
}

namespace {

constexpr size_t kHugePage = size_t{2} << 20;
constexpr size_t kMapThreshold = size_t{4} << 20;  // smaller buffers come from calloc
constexpr uint64_t kPiece = uint64_t{8} << 20;      // pass 2 reads big files in 8 MiB pieces

size_t MapSize(size_t bytes) { return (bytes + kHugePage - 1) / kHugePage * kHugePage; }

// What pass 2 checks to know it reads the file pass 1 decoded.
struct FileId {
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  timespec mtime{};
  bool operator==(const FileId& o) const {
    return dev == o.dev && ino == o.ino && size == o.size && mtime.tv_sec == o.mtime.tv_sec &&
           mtime.tv_nsec == o.mtime.tv_nsec;
  }
};

class Fd {
 public:
  Fd() = default;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  void reset(int fd) { fd_ = fd; }

 private:
  int fd_ = -1;
};

Result<FileId> OpenRegular(const std::string& path, Fd* fd) {
  struct stat st {};
  TB_ASSIGN_OR_RETURN(int f, OpenRegularFile(path, &st));
  fd->reset(f);
  return FileId{st.st_dev, st.st_ino, st.st_size, st.st_mtim};
}

// A read-only mapping of an open file, unmapped when it goes out of scope.
class Mapping {
 public:
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() {
    if (addr_ != nullptr) ::munmap(addr_, size_);
  }
  static Result<std::unique_ptr<Mapping>> Map(int fd, size_t size, const std::string& path) {
    auto m = std::unique_ptr<Mapping>(new Mapping);
    if (size == 0) return m;
    void* addr = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (addr == MAP_FAILED) return Status::FromErrno(errno, "mmap", path);
    m->addr_ = addr;
    m->size_ = size;
    return m;
  }
  std::string_view data() const { return {static_cast<const char*>(addr_), size_}; }

 private:
  Mapping() = default;
  void* addr_ = nullptr;
  size_t size_ = 0;
};

// One file of a split after pass 1.
struct Part {
  std::string path;
  FileId id;
  std::vector<uint8_t> labels;
  uint64_t pixel_offset = 0;  // where the pixels start in the file, when `direct`
  bool direct = false;        // pixels are one contiguous run of the file: pread them
  size_t first = 0;           // index of its first image in the split
};

// Address space for pass 1: every file of a split is mapped into one reserved region, and the
// region is unmapped once at the end, so that pass 1 costs one TLB flush instead of one per
// file (a munmap per file, with threads on several cores, was a third of the load's time).
// Only the pages the decoder touches (the pickle structure: head and tail) are ever mapped.
class Region {
 public:
  explicit Region(size_t size) : size_(size) {
    if (size_ == 0) return;
    void* p = ::mmap(nullptr, size_, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    base_ = p == MAP_FAILED ? nullptr : static_cast<char*>(p);
  }
  Region(const Region&) = delete;
  Region& operator=(const Region&) = delete;
  ~Region() {
    if (base_ != nullptr) ::munmap(base_, size_);
  }
  char* base() const { return base_; }  // nullptr if the reservation failed

 private:
  size_t size_;
  char* base_ = nullptr;
};

size_t PageRound(uint64_t n) {
  static const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  return static_cast<size_t>((n + page - 1) / page * page);
}

// The number of classes a split's labels must stay below, and the meta file that says so.
struct ClassCount {
  size_t count = 0;
  std::string meta_file;
};

Result<ClassCount> ReadClassCount(const std::string& dataset_dir) {
  ClassCount c;
  TB_ASSIGN_OR_RETURN(c.meta_file, FindMetaFile(dataset_dir));
  TB_ASSIGN_OR_RETURN(std::vector<std::string> names, ReadLabelNames(c.meta_file));
  c.count = names.size();
  return c;
}

// Pass 1 for one file: the safe decoder over a mapping of it (it reads the pickle structure,
// not the pixel bytes). The mapping goes into `slot` (`slot_size` bytes of the region) when the
// file fits, else it is a mapping of its own, unmapped here.
Status ScanFile(const std::string& path, char* slot, size_t slot_size, const ClassCount& classes, Part* part) {
  part->path = path;
  Fd fd;
  TB_ASSIGN_OR_RETURN(part->id, OpenRegular(path, &fd));
  size_t size = static_cast<size_t>(part->id.size);
  std::unique_ptr<Mapping> own;
  std::string_view bytes;
  if (slot != nullptr && size > 0 && size <= slot_size) {
    void* addr = ::mmap(slot, size, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd.get(), 0);
    if (addr == MAP_FAILED) return Status::FromErrno(errno, "mmap", path);
    bytes = std::string_view(slot, size);
  } else {
    TB_ASSIGN_OR_RETURN(own, Mapping::Map(fd.get(), size, path));
    bytes = own->data();
  }
  TB_ASSIGN_OR_RETURN(BatchView view, DecodeBatchView(bytes, path, /*with_filenames=*/false));
  TB_RETURN_IF_ERROR(CheckLabels(view.labels, classes.count, path, classes.meta_file));
  part->labels = std::move(view.labels);
  uintptr_t begin = reinterpret_cast<uintptr_t>(bytes.data());
  uintptr_t px = reinterpret_cast<uintptr_t>(view.pixels);
  size_t pixel_bytes = part->labels.size() * kImageBytes;
  part->direct = view.stride == kImageBytes && px >= begin && px - begin <= size && size - (px - begin) >= pixel_bytes;
  part->pixel_offset = part->direct ? px - begin : 0;
  return Status::Ok();
}

Result<std::vector<Part>> ScanSplit(const std::string& dataset_dir, bool train, int threads,
                                    const std::vector<std::string>* listed) {
  TB_ASSIGN_OR_RETURN(std::vector<std::string> files, SplitFiles(dataset_dir, train, listed));
  TB_ASSIGN_OR_RETURN(ClassCount classes, ReadClassCount(dataset_dir));
  // Slots sized from a stat of each file (a file that has grown since gets its own mapping).
  std::vector<size_t> slot_at(files.size() + 1, 0);
  for (size_t i = 0; i < files.size(); ++i) {
    struct stat st {};
    size_t size = ::stat(files[i].c_str(), &st) == 0 && S_ISREG(st.st_mode) ? PageRound(static_cast<uint64_t>(st.st_size)) : 0;
    slot_at[i + 1] = slot_at[i] + size;
  }
  Region region(slot_at.back());
  std::vector<Part> parts(files.size());
  TB_RETURN_IF_ERROR(ParallelFor(files.size(), threads, [&](size_t i) {
    char* slot = region.base() != nullptr ? region.base() + slot_at[i] : nullptr;
    return ScanFile(files[i], slot, slot_at[i + 1] - slot_at[i], classes, &parts[i]);
  }));
  size_t first = 0;
  for (Part& p : parts) {
    p.first = first;
    first += p.labels.size();
  }
  return parts;
}

Status ChangedError(const Part& p) {
  return Status::Corruption(p.path + ": the file changed while the split was being loaded");
}

Status PreadAll(int fd, uint8_t* dest, uint64_t len, uint64_t offset, const Part& p) {
  while (len > 0) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(len, uint64_t{1} << 30));
    long got = ReadFd(fd, dest, want, static_cast<int64_t>(offset));
    if (got < 0) {
      return Status::FromErrno(errno, "read", p.path);
    }
    if (got == 0) return ChangedError(p);  // shorter than when pass 1 saw it
    dest += got;
    offset += static_cast<uint64_t>(got);
    len -= static_cast<uint64_t>(got);
  }
  return Status::Ok();
}

// Pass 2 for a file that is not `direct`: decode it again (it is unchanged: same identity and
// labels) and hand the view to `use` while the mapping lives.
Status Redecode(const Part& p, int fd, const std::function<void(const BatchView&)>& use) {
  TB_ASSIGN_OR_RETURN(std::unique_ptr<Mapping> map, Mapping::Map(fd, static_cast<size_t>(p.id.size), p.path));
  TB_ASSIGN_OR_RETURN(BatchView view, DecodeBatchView(map->data(), p.path, /*with_filenames=*/false));
  if (view.labels != p.labels) return ChangedError(p);
  use(view);
  return Status::Ok();
}

Status OpenUnchanged(const Part& p, Fd* fd) {
  TB_ASSIGN_OR_RETURN(FileId id, OpenRegular(p.path, fd));
  if (!(id == p.id)) return ChangedError(p);
  return Status::Ok();
}

}  // namespace

void* AllocatePixelStorage(size_t bytes) {
  if (bytes < kMapThreshold) {
    void* p = std::calloc(bytes == 0 ? 1 : bytes, 1);
    if (p == nullptr) throw std::bad_alloc();
    return p;
  }
  size_t size = MapSize(bytes);
  void* raw = ::mmap(nullptr, size + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  uintptr_t start = reinterpret_cast<uintptr_t>(raw);
  uintptr_t aligned = (start + kHugePage - 1) & ~(kHugePage - 1);
  if (aligned > start) ::munmap(raw, aligned - start);
  uintptr_t end = start + size + kHugePage;
  if (end > aligned + size) ::munmap(reinterpret_cast<void*>(aligned + size), end - (aligned + size));
  ::madvise(reinterpret_cast<void*>(aligned), size, MADV_HUGEPAGE);
  return reinterpret_cast<void*>(aligned);
}

void FreePixelStorage(void* p, size_t bytes) {
  if (p == nullptr) return;
  if (bytes < kMapThreshold) {
    std::free(p);
  } else {
    ::munmap(p, MapSize(bytes));
  }
}

Result<Split> LoadSplit(const std::string& dataset_dir, bool train, int threads,
                        const std::vector<std::string>* listed) {
  TB_ASSIGN_OR_RETURN(std::vector<Part> parts, ScanSplit(dataset_dir, train, threads, listed));
  Split split;
  split.files = static_cast<int>(parts.size());
  for (const Part& p : parts) {
    split.count += p.labels.size();
    split.file_bytes += static_cast<uint64_t>(p.id.size);
  }
  split.labels.resize(split.count);
  for (const Part& p : parts) std::copy(p.labels.begin(), p.labels.end(), split.labels.begin() + static_cast<std::ptrdiff_t>(p.first));
  split.pixels.resize(split.count * kImageBytes);  // allocated once, not zero-filled
  // Pass 2: pieces of at most kPiece bytes (a whole file when it must be decoded again).
  struct Piece {
    size_t part;
    uint64_t from, len;
  };
  std::vector<Piece> pieces;
  for (size_t i = 0; i < parts.size(); ++i) {
    uint64_t bytes = parts[i].labels.size() * kImageBytes;
    if (!parts[i].direct) {
      pieces.push_back({i, 0, bytes});
      continue;
    }
    for (uint64_t from = 0; from < bytes; from += kPiece) pieces.push_back({i, from, std::min(kPiece, bytes - from)});
  }
  TB_RETURN_IF_ERROR(ParallelFor(pieces.size(), threads, [&](size_t k) -> Status {
    const Piece& piece = pieces[k];
    const Part& p = parts[piece.part];
    uint8_t* dest = split.pixels.data() + p.first * kImageBytes;
    Fd fd;
    TB_RETURN_IF_ERROR(OpenUnchanged(p, &fd));
    if (p.direct) return PreadAll(fd.get(), dest + piece.from, piece.len, p.pixel_offset + piece.from, p);
    return Redecode(p, fd.get(), [&](const BatchView& view) { view.CopyPixels(dest); });
  }));
  return split;
}

Result<Split> LoadSplitImages(const std::string& dataset_dir, bool train, int threads,
                              const std::function<std::vector<uint32_t>(size_t count)>& choose,
                              const std::vector<std::string>* listed) {
  TB_ASSIGN_OR_RETURN(std::vector<Part> parts, ScanSplit(dataset_dir, train, threads, listed));
  size_t total = 0;
  uint64_t file_bytes = 0;
  for (const Part& p : parts) {
    total += p.labels.size();
    file_bytes += static_cast<uint64_t>(p.id.size);
  }
  std::vector<uint32_t> indices = choose(total);
  Split split;
  split.files = static_cast<int>(parts.size());
  split.file_bytes = file_bytes;
  split.count = indices.size();
  split.labels.resize(split.count);
  split.pixels.resize(split.count * kImageBytes);
  // (part, image in the part, position in the result), grouped by part.
  struct Want {
    size_t part, image, out;
  };
  std::vector<Want> wants;
  for (size_t j = 0; j < indices.size(); ++j) {
    if (indices[j] >= total) {
      return Status::InvalidArgument(dataset_dir + ": image " + std::to_string(indices[j]) + " asked for, but the split has " +
                                     std::to_string(total));
    }
    auto it = std::upper_bound(parts.begin(), parts.end(), size_t{indices[j]},
                               [](size_t i, const Part& p) { return i < p.first; });
    size_t pi = static_cast<size_t>(it - parts.begin()) - 1;
    wants.push_back({pi, indices[j] - parts[pi].first, j});
    split.labels[j] = parts[pi].labels[indices[j] - parts[pi].first];
  }
  std::stable_sort(wants.begin(), wants.end(), [](const Want& a, const Want& b) { return a.part < b.part; });
  std::vector<std::pair<size_t, size_t>> groups;  // [begin, end) in `wants`, one per part
  for (size_t k = 0; k < wants.size(); ++k) {
    if (k == 0 || wants[k].part != wants[k - 1].part) groups.emplace_back(k, k);
    groups.back().second = k + 1;
  }
  TB_RETURN_IF_ERROR(ParallelFor(groups.size(), threads, [&](size_t g) -> Status {
    const Part& p = parts[wants[groups[g].first].part];
    Fd fd;
    TB_RETURN_IF_ERROR(OpenUnchanged(p, &fd));
    if (p.direct) {
      for (size_t k = groups[g].first; k < groups[g].second; ++k) {
        TB_RETURN_IF_ERROR(PreadAll(fd.get(), split.pixels.data() + wants[k].out * kImageBytes, kImageBytes,
                                    p.pixel_offset + wants[k].image * kImageBytes, p));
      }
      return Status::Ok();
    }
    return Redecode(p, fd.get(), [&](const BatchView& view) {
      for (size_t k = groups[g].first; k < groups[g].second; ++k) {
        std::memcpy(split.pixels.data() + wants[k].out * kImageBytes, view.pixels + wants[k].image * view.stride,
                    kImageBytes);
      }
    });
  }));
  return split;
}

}  // namespace tb::dataset
