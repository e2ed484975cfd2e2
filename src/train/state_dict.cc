#include "train/state_dict.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <utility>

namespace tb::train {
namespace {

uint32_t U16(std::string_view b, size_t at) {
  return static_cast<uint8_t>(b[at]) | static_cast<uint8_t>(b[at + 1]) << 8;
}
uint32_t U32(std::string_view b, size_t at) { return U16(b, at) | U16(b, at + 2) << 16; }
uint64_t U64(std::string_view b, size_t at) {
  return U32(b, at) | static_cast<uint64_t>(U32(b, at + 4)) << 32;
}

// ---- a safe unpickler for state_dicts ------------------------------------------------------

// Values live in the unpickler's arena and point at each other with plain pointers: a file
// can make them share and nest arbitrarily (memo GET, a list appended to itself, tuples of
// tuples 60,000 deep), and the arena frees them all without recursion or leaks.
struct Value;
using ValuePtr = Value*;

struct Value {
  enum Kind { kNone, kBool, kInt, kFloat, kString, kTuple, kList, kDict, kGlobal, kStorage, kTensor };
  Kind kind = kNone;
  int64_t i = 0;
  double f = 0;
  std::string s;                                   // string; global "module.name"; storage type
  std::string key;                                 // storage key
  std::vector<ValuePtr> items;                     // tuple, list
  std::vector<std::pair<ValuePtr, ValuePtr>> dict; // dict (insertion order)
  StoredTensor tensor;
};

class Unpickler {
 public:
  Unpickler(std::string_view data, std::string name) : d_(data), name_(std::move(name)) {}

  Result<ValuePtr> Run() {
    while (pos_ < d_.size()) {
      size_t at = pos_;
      uint8_t op = static_cast<uint8_t>(d_[pos_++]);
      Status st = Step(op);
      if (!st.ok()) return Status::Corruption(name_ + ": pickle byte " + std::to_string(at) + ": " + st.message());
      if (done_) {
        if (stack_.size() != 1) return Error("stack holds " + std::to_string(stack_.size()) + " values at STOP");
        return stack_.back();
      }
    }
    return Error("no STOP opcode (truncated pickle)");
  }

 private:
  ValuePtr Make(Value::Kind kind) {
    arena_.push_back(std::make_unique<Value>());
    arena_.back()->kind = kind;
    return arena_.back().get();
  }
  Status Error(const std::string& m) const { return Status::Corruption(name_ + ": " + m); }
  Status Need(size_t n) const {
    return pos_ + n <= d_.size() ? Status::Ok() : Status::Corruption("truncated");
  }
  Result<std::string_view> Take(size_t n) {
    if (pos_ + n > d_.size() || pos_ + n < pos_) return Status::Corruption("truncated");
    std::string_view v = d_.substr(pos_, n);
    pos_ += n;
    return v;
  }
  Result<std::string> Line() {
    size_t nl = d_.find('\n', pos_);
    if (nl == std::string_view::npos) return Status::Corruption("unterminated GLOBAL");
    std::string v(d_.substr(pos_, nl - pos_));
    pos_ = nl + 1;
    return v;
  }
  Result<ValuePtr> Pop() {
    if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) {
      return Status::Corruption("stack underflow");
    }
    ValuePtr v = stack_.back();
    stack_.pop_back();
    return v;
  }
  Result<std::vector<ValuePtr>> PopMark() {
    if (marks_.empty()) return Status::Corruption("no MARK");
    size_t m = marks_.back();
    marks_.pop_back();
    std::vector<ValuePtr> v(stack_.begin() + m, stack_.end());
    stack_.resize(m);
    return v;
  }
  Result<ValuePtr> Top() {
    if (stack_.empty()) return Status::Corruption("stack underflow");
    return stack_.back();
  }
  void Push(ValuePtr v) { stack_.push_back(std::move(v)); }
  Status Memo(size_t index) {
    if (stack_.empty()) return Status::Corruption("PUT on an empty stack");
    if (memo_.size() <= index) {
      if (index > 1'000'000) return Status::Corruption("memo index too large");
      memo_.resize(index + 1);
    }
    memo_[index] = stack_.back();
    return Status::Ok();
  }
  Status Get(size_t index) {
    if (index >= memo_.size() || !memo_[index]) return Status::Corruption("GET of an unset memo entry");
    Push(memo_[index]);
    return Status::Ok();
  }
  Status PushString(size_t n) {
    TB_ASSIGN_OR_RETURN(std::string_view s, Take(n));
    ValuePtr v = Make(Value::kString);
    v->s = std::string(s);
    Push(v);
    return Status::Ok();
  }
  Status PushInt(int64_t i) {
    ValuePtr v = Make(Value::kInt);
    v->i = i;
    Push(v);
    return Status::Ok();
  }
  Status PushGlobal(const std::string& module, const std::string& name) {
    std::string full = module + "." + name;
    bool storage = module == "torch" && name.size() > 7 &&
                   name.compare(name.size() - 7, 7, "Storage") == 0;
    if (full != "collections.OrderedDict" && full != "torch._utils._rebuild_tensor_v2" &&
        full != "torch.jit._pickle.restore_type_tag" && !storage) {
      return Status::Corruption("refused global " + full + " (not part of a state_dict)");
    }
    ValuePtr v = Make(Value::kGlobal);
    v->s = full;
    Push(v);
    return Status::Ok();
  }
  static Result<std::vector<int64_t>> Ints(const ValuePtr& v, const char* what) {
    if (v->kind != Value::kTuple && v->kind != Value::kList) {
      return Status::Corruption(std::string(what) + " is not a tuple");
    }
    std::vector<int64_t> out;
    for (const ValuePtr& e : v->items) {
      if (e->kind != Value::kInt) return Status::Corruption(std::string(what) + " holds a non-integer");
      out.push_back(e->i);
    }
    return out;
  }
  Status Reduce() {
    TB_ASSIGN_OR_RETURN(ValuePtr args, Pop());
    TB_ASSIGN_OR_RETURN(ValuePtr fn, Pop());
    if (fn->kind != Value::kGlobal || args->kind != Value::kTuple) return Status::Corruption("bad REDUCE");
    if (fn->s == "collections.OrderedDict") {
      Push(Make(Value::kDict));
      return Status::Ok();
    }
    if (fn->s == "torch.jit._pickle.restore_type_tag") {  // (value, "Dict[str, Tensor]")
      if (args->items.size() != 2) return Status::Corruption("bad restore_type_tag arguments");
      Push(args->items[0]);
      return Status::Ok();
    }
    if (fn->s == "torch._utils._rebuild_tensor_v2") {
      const auto& a = args->items;
      if (a.size() < 4 || a[0]->kind != Value::kStorage || a[1]->kind != Value::kInt) {
        return Status::Corruption("bad _rebuild_tensor_v2 arguments");
      }
      ValuePtr t = Make(Value::kTensor);
      t->tensor.storage_type = a[0]->s;
      t->tensor.storage_key = a[0]->key;
      t->tensor.storage_offset = a[1]->i;
      TB_ASSIGN_OR_RETURN(t->tensor.sizes, Ints(a[2], "tensor size"));
      TB_ASSIGN_OR_RETURN(t->tensor.strides, Ints(a[3], "tensor stride"));
      if (t->tensor.sizes.size() != t->tensor.strides.size()) {
        return Status::Corruption("tensor size and stride differ in rank");
      }
      Push(t);
      return Status::Ok();
    }
    return Status::Corruption("refused call of " + fn->s);
  }
  Status PersistentLoad() {
    TB_ASSIGN_OR_RETURN(ValuePtr pid, Pop());
    const auto& a = pid->items;
    if (pid->kind != Value::kTuple || a.size() < 3 || a[0]->kind != Value::kString ||
        a[0]->s != "storage" || a[1]->kind != Value::kGlobal || a[2]->kind != Value::kString) {
      return Status::Corruption("unsupported persistent id (expected a torch storage)");
    }
    ValuePtr v = Make(Value::kStorage);
    v->s = a[1]->s.substr(6);  // "torch.FloatStorage" -> "FloatStorage"
    v->key = a[2]->s;
    Push(v);
    return Status::Ok();
  }
  Status SetItems(ValuePtr dict, const std::vector<ValuePtr>& kv) {
    if (dict->kind != Value::kDict) return Status::Corruption("SETITEM on a non-dict");
    if (kv.size() % 2) return Status::Corruption("odd SETITEMS");
    for (size_t i = 0; i < kv.size(); i += 2) dict->dict.emplace_back(kv[i], kv[i + 1]);
    return Status::Ok();
  }

  Status Step(uint8_t op) {
    switch (op) {
      case 0x80: return Take(1).status();                      // PROTO
      case 0x95: return Take(8).status();                      // FRAME
      case '.': done_ = true; return Status::Ok();             // STOP
      case '(': marks_.push_back(stack_.size()); return Status::Ok();
      case '}': Push(Make(Value::kDict)); return Status::Ok();
      case ']': Push(Make(Value::kList)); return Status::Ok();
      case ')': Push(Make(Value::kTuple)); return Status::Ok();
      case 'N': Push(Make(Value::kNone)); return Status::Ok();
      case 0x88: case 0x89: {
        ValuePtr v = Make(Value::kBool);
        v->i = op == 0x88;
        Push(v);
        return Status::Ok();
      }
      case 'K': { TB_ASSIGN_OR_RETURN(auto b, Take(1)); return PushInt(static_cast<uint8_t>(b[0])); }
      case 'M': { TB_ASSIGN_OR_RETURN(auto b, Take(2)); return PushInt(U16(b, 0)); }
      case 'J': { TB_ASSIGN_OR_RETURN(auto b, Take(4)); return PushInt(static_cast<int32_t>(U32(b, 0))); }
      case 0x8a: {  // LONG1
        TB_ASSIGN_OR_RETURN(auto n, Take(1));
        size_t len = static_cast<uint8_t>(n[0]);
        if (len > 8) return Status::Corruption("integer wider than 64 bits");
        TB_ASSIGN_OR_RETURN(auto b, Take(len));
        uint64_t u = 0;
        for (size_t k = 0; k < len; ++k) u |= static_cast<uint64_t>(static_cast<uint8_t>(b[k])) << (8 * k);
        if (len > 0 && len < 8 && (static_cast<uint8_t>(b[len - 1]) & 0x80)) u |= ~0ull << (8 * len);
        return PushInt(static_cast<int64_t>(u));
      }
      case 'G': {
        TB_ASSIGN_OR_RETURN(auto b, Take(8));
        uint64_t u = 0;
        for (int k = 0; k < 8; ++k) u = u << 8 | static_cast<uint8_t>(b[k]);
        ValuePtr v = Make(Value::kFloat);
        std::memcpy(&v->f, &u, 8);
        Push(v);
        return Status::Ok();
      }
      case 'X': case 'T': { TB_ASSIGN_OR_RETURN(auto n, Take(4)); return PushString(U32(n, 0)); }
      case 0x8c: case 'U': { TB_ASSIGN_OR_RETURN(auto n, Take(1)); return PushString(static_cast<uint8_t>(n[0])); }
      case 0x8d: { TB_ASSIGN_OR_RETURN(auto n, Take(8)); return PushString(U64(n, 0)); }
      case 'c': {
        TB_ASSIGN_OR_RETURN(std::string module, Line());
        TB_ASSIGN_OR_RETURN(std::string name, Line());
        return PushGlobal(module, name);
      }
      case 0x93: {  // STACK_GLOBAL
        TB_ASSIGN_OR_RETURN(ValuePtr name, Pop());
        TB_ASSIGN_OR_RETURN(ValuePtr module, Pop());
        if (name->kind != Value::kString || module->kind != Value::kString) return Status::Corruption("bad STACK_GLOBAL");
        return PushGlobal(module->s, name->s);
      }
      case 'q': { TB_ASSIGN_OR_RETURN(auto b, Take(1)); return Memo(static_cast<uint8_t>(b[0])); }
      case 'r': { TB_ASSIGN_OR_RETURN(auto b, Take(4)); return Memo(U32(b, 0)); }
      case 0x94: return Memo(memo_.size());  // MEMOIZE
      case 'h': { TB_ASSIGN_OR_RETURN(auto b, Take(1)); return Get(static_cast<uint8_t>(b[0])); }
      case 'j': { TB_ASSIGN_OR_RETURN(auto b, Take(4)); return Get(U32(b, 0)); }
      case 't': {
        TB_ASSIGN_OR_RETURN(auto items, PopMark());
        ValuePtr v = Make(Value::kTuple);
        v->items = std::move(items);
        Push(v);
        return Status::Ok();
      }
      case 0x85: case 0x86: case 0x87: {
        size_t n = op - 0x84;
        ValuePtr v = Make(Value::kTuple);
        v->items.resize(n);
        for (size_t k = n; k > 0; --k) { TB_ASSIGN_OR_RETURN(v->items[k - 1], Pop()); }
        Push(v);
        return Status::Ok();
      }
      case 'a': {
        TB_ASSIGN_OR_RETURN(ValuePtr item, Pop());
        TB_ASSIGN_OR_RETURN(ValuePtr list, Top());
        if (list->kind != Value::kList) return Status::Corruption("APPEND on a non-list");
        list->items.push_back(item);
        return Status::Ok();
      }
      case 'e': {
        TB_ASSIGN_OR_RETURN(auto items, PopMark());
        TB_ASSIGN_OR_RETURN(ValuePtr list, Top());
        if (list->kind != Value::kList) return Status::Corruption("APPENDS on a non-list");
        for (auto& i : items) list->items.push_back(i);
        return Status::Ok();
      }
      case 's': {
        TB_ASSIGN_OR_RETURN(ValuePtr value, Pop());
        TB_ASSIGN_OR_RETURN(ValuePtr key, Pop());
        TB_ASSIGN_OR_RETURN(ValuePtr dict, Top());
        return SetItems(dict, {key, value});
      }
      case 'u': {
        TB_ASSIGN_OR_RETURN(auto kv, PopMark());
        TB_ASSIGN_OR_RETURN(ValuePtr dict, Top());
        return SetItems(dict, kv);
      }
      case 'b': {  // BUILD: an OrderedDict's attributes (state_dict()._metadata) are ignored
        TB_RETURN_IF_ERROR(Pop().status());  // the state
        TB_ASSIGN_OR_RETURN(ValuePtr obj, Top());
        if (obj->kind != Value::kDict) return Status::Corruption("BUILD on a non-dict");
        return Status::Ok();
      }
      case 'R': return Reduce();
      case 'Q': return PersistentLoad();
      default: {
        char hex[8];
        std::snprintf(hex, sizeof(hex), "0x%02x", op);
        return Status::Corruption(std::string("unsupported pickle opcode ") + hex);
      }
    }
  }

  std::string_view d_;
  std::string name_;
  size_t pos_ = 0;
  bool done_ = false;
  std::vector<ValuePtr> stack_;
  std::vector<size_t> marks_;
  std::vector<ValuePtr> memo_;
  std::vector<std::unique_ptr<Value>> arena_;  // owns every Value made; freed with the unpickler
};

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
  const std::string_view* pickle = nullptr;
  for (const auto& [entry, data] : records) {
    size_t slash = entry.find('/');
    if (slash != std::string::npos && entry.substr(slash + 1) == "data.pkl") {
      prefix = entry.substr(0, slash + 1);
      pickle = &data;
      break;
    }
  }
  if (!pickle) return Status::Corruption(name + ": no <archive>/data.pkl record (not a torch.save file)");
  Unpickler unpickler(*pickle, name + ":" + prefix + "data.pkl");
  TB_ASSIGN_OR_RETURN(ValuePtr root, unpickler.Run());
  if (root->kind != Value::kDict) {
    return Status::InvalidArgument(name + ": the saved object is not a state_dict (dict of tensors)");
  }
  StateDict out;
  for (const auto& [k, v] : root->dict) {
    if (k->kind != Value::kString) return Status::InvalidArgument(name + ": a state_dict key is not a string");
    if (v->kind != Value::kTensor) return Status::InvalidArgument(name + ": '" + k->s + "' is not a tensor");
    StoredTensor t = v->tensor;
    t.name = k->s;
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
