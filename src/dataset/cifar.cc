#include "dataset/cifar.h"

#include <algorithm>
#include <atomic>
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

Result<Batch> DecodeBatchFile(const std::string& path) {
  TB_ASSIGN_OR_RETURN(MappedFile file, MappedFile::Open(path));
  return DecodeBatchBytes(file.data(), path);
}

Result<std::vector<std::string>> ReadLabelNames(const std::string& meta_path) {
  TB_ASSIGN_OR_RETURN(MappedFile file, MappedFile::Open(meta_path));
  std::vector<std::string> names;
  if (EndsWith(meta_path, ".txt")) {
    std::istringstream in{std::string(file.data())};
    for (std::string line; std::getline(in, line);) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (!line.empty()) names.push_back(line);
    }
  } else {
    TB_ASSIGN_OR_RETURN(pickle::Decoded d, pickle::Decode(file.data(), meta_path));
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

Result<std::string> FindDatasetDir(const std::string& dir) {
  std::error_code ec;
  for (const char* sub : {"", "cifar-10-batches-py", "cifar-10-batches-bin", "cifar-100-python"}) {
    fs::path d = *sub ? fs::path(dir) / sub : fs::path(dir);
    for (const char* meta : {"batches.meta", "batches.meta.txt", "meta"}) {
      if (fs::is_regular_file(d / meta, ec)) return d.string();
    }
  }
  return Status::NotFound(dir + ": no CIFAR dataset here (looked for batches.meta in it and in " + dir +
                          "/cifar-10-batches-py)");
}

Result<std::vector<std::string>> SplitFiles(const std::string& dataset_dir, bool train) {
  std::vector<std::pair<long, std::string>> found;
  std::error_code ec;
  fs::directory_iterator it(dataset_dir, ec);
  if (ec) return Status::FromErrno(ec.value(), "list", dataset_dir);
  for (const auto& entry : it) {
    std::string name = entry.path().filename().string();
    if (IsTempName(name)) continue;
    std::string stem = EndsWith(name, ".bin") ? name.substr(0, name.size() - 4) : name;
    if (train) {
      constexpr std::string_view kPrefix = "data_batch_";
      if (stem.rfind(kPrefix, 0) == 0 && stem.size() > kPrefix.size() &&
          stem.find_first_not_of("0123456789", kPrefix.size()) == std::string::npos &&
          stem.size() - kPrefix.size() < 10) {
        found.emplace_back(std::stol(stem.substr(kPrefix.size())), entry.path().string());
      } else if (stem == "train") {
        found.emplace_back(0, entry.path().string());
      }
    } else if (stem == "test_batch" || stem == "test") {
      found.emplace_back(0, entry.path().string());
    }
  }
  if (found.empty()) {
    return Status::NotFound(dataset_dir + ": no " + (train ? "data_batch_* (training)" : "test_batch") + " files");
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> files;
  for (auto& f : found) files.push_back(std::move(f.second));
  return files;
}

Result<Split> LoadSplit(const std::string& dataset_dir, bool train, int threads) {
  TB_ASSIGN_OR_RETURN(std::vector<std::string> files, SplitFiles(dataset_dir, train));
  // Pass 1: map and decode every file (touches only the pickle structure, not the pixels).
  struct Part {
    MappedFile file;
    BatchView view;
    size_t first = 0;
  };
  std::vector<std::unique_ptr<Part>> parts(files.size());
  TB_RETURN_IF_ERROR(ParallelFor(files.size(), threads, [&](size_t i) -> Status {
    TB_ASSIGN_OR_RETURN(MappedFile f, MappedFile::Open(files[i]));
    auto part = std::make_unique<Part>(Part{std::move(f), {}, 0});
    TB_ASSIGN_OR_RETURN(part->view, DecodeBatchView(part->file.data(), files[i], false));
    parts[i] = std::move(part);
    return Status::Ok();
  }));
  Split split;
  split.files = static_cast<int>(files.size());
  for (auto& p : parts) {
    p->first = split.count;
    split.count += p->view.count();
    split.file_bytes += p->file.data().size();
  }
  split.labels.resize(split.count);
  split.pixels.resize(split.count * kImageBytes);
  // Pass 2: each file copies its pixels into its slice of the final buffer, then unmaps.
  TB_RETURN_IF_ERROR(ParallelFor(parts.size(), threads, [&](size_t i) -> Status {
    Part& p = *parts[i];
    p.view.CopyPixels(split.pixels.data() + p.first * kImageBytes);
    std::copy(p.view.labels.begin(), p.view.labels.end(), split.labels.begin() + static_cast<std::ptrdiff_t>(p.first));
    parts[i].reset();
    return Status::Ok();
  }));
  return split;
}

}  // namespace tb::dataset
