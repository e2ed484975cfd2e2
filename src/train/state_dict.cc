#include "train/state_dict.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "dataset/pickle.h"

namespace tb::train {
namespace {

uint32_t U16(std::string_view b, size_t at) {
  return static_cast<uint8_t>(b[at]) | static_cast<uint8_t>(b[at + 1]) << 8;
}
uint32_t U32(std::string_view b, size_t at) { return U16(b, at) | U16(b, at + 2) << 16; }
uint64_t U64(std::string_view b, size_t at) {
  return U32(b, at) | static_cast<uint64_t>(U32(b, at + 4)) << 32;
}

size_t ElementSize(const std::string& type) {
  if (type == "FloatStorage" || type == "IntStorage") return 4;
  if (type == "DoubleStorage" || type == "LongStorage") return 8;
  if (type == "HalfStorage" || type == "BFloat16Storage" || type == "ShortStorage") return 2;
  if (type == "ByteStorage" || type == "CharStorage" || type == "BoolStorage") return 1;
  return 0;
}

// True when the `n` bytes at `at` lie inside a buffer of `size` bytes (no wrap-around: offsets
// and lengths come from the file, up to 2^64 - 1).
bool Within(uint64_t at, uint64_t n, size_t size) { return at <= size && n <= size - at; }

// Views with more elements than their storage holds (broadcast or overlapping strides) are
// refused: a state_dict of parameters never has them, and the count is then bounded by the
// file's size.
constexpr const char* kViewTooLarge = "view has more elements than its storage holds";

namespace pickle = dataset::pickle;

std::vector<int64_t> Ints(const pickle::Value& tuple) {
  std::vector<int64_t> out;
  out.reserve(tuple.items.size());
  for (const pickle::Value* e : tuple.items) out.push_back(e->int_value);
  return out;
}

// A decoded kTensor (its storage, sizes and strides checked by the unpickler) as a
// StoredTensor without its name.
StoredTensor ToStoredTensor(const pickle::Value& tensor) {
  const pickle::Value& storage = *tensor.items[0];
  StoredTensor t;
  t.storage_type = std::string(storage.data);
  t.storage_key = std::string(storage.items[0]->data);
  t.storage_offset = tensor.int_value;
  t.sizes = Ints(*tensor.items[1]);
  t.strides = Ints(*tensor.items[2]);
  return t;
}

}  // namespace

Result<std::map<std::string, std::string_view>> ReadStoredZip(std::string_view b,
                                                              const std::string& name) {
  auto bad = [&](const std::string& m) { return Status::Corruption(name + ": zip: " + m); };
  if (b.size() < 22) return bad("too short for a zip archive");
  size_t eocd = std::string_view::npos;
  size_t lowest = b.size() > 22 + 65535 ? b.size() - 22 - 65535 : 0;
  for (size_t at = b.size() - 22 + 1; at-- > lowest;) {
    if (U32(b, at) == 0x06054b50) {
      eocd = at;
      break;
    }
  }
  if (eocd == std::string_view::npos) {
    return bad("no end of central directory (not a zip-format torch.save file; legacy "
               "pre-1.6 files are not supported)");
  }
  uint64_t entries = U16(b, eocd + 10);
  uint64_t cd_offset = U32(b, eocd + 16);
  if (cd_offset == 0xFFFFFFFF || entries == 0xFFFF) {  // zip64
    if (eocd < 20 || U32(b, eocd - 20) != 0x07064b50) return bad("zip64 locator missing");
    uint64_t z64 = U64(b, eocd - 20 + 8);
    if (!Within(z64, 56, b.size()) || U32(b, z64) != 0x06064b50) return bad("bad zip64 end record");
    entries = U64(b, z64 + 32);
    cd_offset = U64(b, z64 + 48);
  }
  std::map<std::string, std::string_view> out;
  size_t at = cd_offset;
  for (uint64_t e = 0; e < entries; ++e) {
    if (!Within(at, 46, b.size()) || U32(b, at) != 0x02014b50) return bad("bad central directory entry");
    uint32_t method = U16(b, at + 10);
    uint64_t csize = U32(b, at + 20), usize = U32(b, at + 24);
    size_t name_len = U16(b, at + 28), extra_len = U16(b, at + 30), comment_len = U16(b, at + 32);
    uint64_t local = U32(b, at + 42);
    if (!Within(at + 46, name_len + extra_len, b.size())) return bad("truncated central directory");
    std::string entry(b.substr(at + 46, name_len));
    // zip64 extra field: the 0xFFFFFFFF fields, in order usize, csize, offset.
    const size_t extra_end = at + 46 + name_len + extra_len;
    for (size_t x = at + 46 + name_len; x + 4 <= extra_end;) {
      uint32_t id = U16(b, x), len = U16(b, x + 2);
      const size_t field_end = std::min<size_t>(x + 4 + len, extra_end);
      if (id == 1) {
        size_t f = x + 4;
        if (usize == 0xFFFFFFFF && f + 8 <= field_end) usize = U64(b, f), f += 8;
        if (csize == 0xFFFFFFFF && f + 8 <= field_end) csize = U64(b, f), f += 8;
        if (local == 0xFFFFFFFF && f + 8 <= field_end) local = U64(b, f);
      }
      x += 4 + len;
    }
    if (method != 0) return bad(entry + " is compressed (method " + std::to_string(method) + ")");
    if (csize != usize) return bad(entry + ": stored sizes differ");
    if (!Within(local, 30, b.size()) || U32(b, local) != 0x04034b50) return bad(entry + ": bad local header");
    uint64_t data = local + 30 + U16(b, local + 26) + U16(b, local + 28);
    if (!Within(data, usize, b.size())) return bad(entry + ": data runs past the end of the file");
    out[entry] = b.substr(data, usize);
    at += 46 + name_len + extra_len + comment_len;
  }
  return out;
}

Result<StateDict> ParseStateDict(std::string_view file_bytes, const std::string& name) {
  TB_ASSIGN_OR_RETURN(auto records, ReadStoredZip(file_bytes, name));
  std::string prefix;
  const std::string_view* data_pkl = nullptr;
  for (const auto& [entry, data] : records) {
    size_t slash = entry.find('/');
    if (slash != std::string::npos && entry.substr(slash + 1) == "data.pkl") {
      prefix = entry.substr(0, slash + 1);
      data_pkl = &data;
      break;
    }
  }
  if (!data_pkl) return Status::Corruption(name + ": no <archive>/data.pkl record (not a torch.save file)");
  TB_ASSIGN_OR_RETURN(pickle::Decoded decoded,
                      pickle::Decode(*data_pkl, name + ":" + prefix + "data.pkl", pickle::Profile::kTorchStateDict));
  const pickle::Value* root = decoded.root.get();
  if (root->kind != pickle::Kind::kDict) {
    return Status::InvalidArgument(name + ": the saved object is not a state_dict (dict of tensors)");
  }
  StateDict out;
  for (size_t i = 0; i + 1 < root->items.size(); i += 2) {
    const pickle::Value* k = root->items[i];
    const pickle::Value* v = root->items[i + 1];
    if (!k->IsText()) return Status::InvalidArgument(name + ": a state_dict key is not a string");
    if (v->kind != pickle::Kind::kTensor) {
      return Status::InvalidArgument(name + ": '" + std::string(k->data) + "' is not a tensor");
    }
    StoredTensor t = ToStoredTensor(*v);
    t.name = std::string(k->data);
    if (!out.storages.count(t.storage_key)) {
      auto it = records.find(prefix + "data/" + t.storage_key);
      if (it == records.end()) {
        return Status::Corruption(name + ": storage record " + prefix + "data/" + t.storage_key + " missing");
      }
      out.storages[t.storage_key] = std::string(it->second);
    }
    out.tensors.push_back(std::move(t));
  }
  return out;
}

Result<std::vector<float>> TensorFloats(const StateDict& dict, const StoredTensor& t) {
  if (t.storage_type != "FloatStorage") {
    return Status::Unsupported(t.name + ": " + t.storage_type + " tensors are not supported (float32 only)");
  }
  auto it = dict.storages.find(t.storage_key);
  if (it == dict.storages.end()) return Status::Corruption(t.name + ": storage missing");
  const std::string& bytes = it->second;
  const int64_t elements = static_cast<int64_t>(bytes.size() / ElementSize(t.storage_type));
  if (t.sizes.size() != t.strides.size()) return Status::Corruption(t.name + ": size and stride differ in rank");
  bool empty = false;
  for (size_t d = 0; d < t.sizes.size(); ++d) {
    if (t.sizes[d] < 0 || t.strides[d] < 0) return Status::Corruption(t.name + ": negative size or stride");
    empty |= t.sizes[d] == 0;
  }
  if (t.storage_offset < 0) return Status::Corruption(t.name + ": negative storage offset");
  if (empty) return std::vector<float>();
  // Every product and sum below stays within int64: sizes are bounded by `elements` first.
  int64_t numel = 1, last = t.storage_offset;
  for (size_t d = 0; d < t.sizes.size(); ++d) {
    if (t.sizes[d] > elements || numel > elements / t.sizes[d]) {
      return Status::Corruption(t.name + ": " + kViewTooLarge + " (" + std::to_string(elements) + ")");
    }
    numel *= t.sizes[d];
    int64_t span = 0;
    if (__builtin_mul_overflow(t.sizes[d] - 1, t.strides[d], &span) || __builtin_add_overflow(last, span, &last)) {
      last = elements;  // past the storage
    }
  }
  if (last >= elements) {
    return Status::Corruption(t.name + ": view runs past its storage (" + std::to_string(elements) + " elements)");
  }
  std::vector<float> out(numel);
  std::vector<int64_t> idx(t.sizes.size(), 0);
  for (int64_t n = 0; n < numel; ++n) {
    int64_t off = t.storage_offset;
    for (size_t d = 0; d < idx.size(); ++d) off += idx[d] * t.strides[d];
    std::memcpy(&out[n], bytes.data() + off * 4, 4);
    for (size_t d = idx.size(); d-- > 0;) {
      if (++idx[d] < t.sizes[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

}  // namespace tb::train
