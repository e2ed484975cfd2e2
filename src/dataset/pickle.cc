#include "dataset/pickle.h"
#include "util/utf8.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <limits>

namespace tb::dataset::pickle {

namespace {

// The globals each profile accepts: a CIFAR file (numpy arrays inside pickles written by
// Python 2 or 3) and a PyTorch state_dict. Nothing else is ever accepted; none of them is
// called, the decoder interprets each.
enum class Callable {
  // numpy (Profile::kNumpy)
  kReconstruct,
  kNdArray,
  kDtype,
  kFromBuffer,
  kScalar,
  kCodecsEncode,
  kByteArray,
  // torch (Profile::kTorchStateDict)
  kOrderedDict,
  kRebuildTensor,
  kRestoreTypeTag,
  kTorchStorage,
};

struct AllowedGlobal {
  const char* name;
  Callable callable;
  Profile profile;
};

constexpr AllowedGlobal kAllowed[] = {
    {"numpy.core.multiarray._reconstruct", Callable::kReconstruct, Profile::kNumpy},
    {"numpy._core.multiarray._reconstruct", Callable::kReconstruct, Profile::kNumpy},
    {"numpy.ndarray", Callable::kNdArray, Profile::kNumpy},
    {"numpy.dtype", Callable::kDtype, Profile::kNumpy},
    {"numpy.core.numeric._frombuffer", Callable::kFromBuffer, Profile::kNumpy},
    {"numpy._core.numeric._frombuffer", Callable::kFromBuffer, Profile::kNumpy},
    {"numpy.core.multiarray.scalar", Callable::kScalar, Profile::kNumpy},
    {"numpy._core.multiarray.scalar", Callable::kScalar, Profile::kNumpy},
    {"_codecs.encode", Callable::kCodecsEncode, Profile::kNumpy},
    {"builtins.bytearray", Callable::kByteArray, Profile::kNumpy},
    {"__builtin__.bytearray", Callable::kByteArray, Profile::kNumpy},
    {"collections.OrderedDict", Callable::kOrderedDict, Profile::kTorchStateDict},
    {"torch._utils._rebuild_tensor_v2", Callable::kRebuildTensor, Profile::kTorchStateDict},
    {"torch.jit._pickle.restore_type_tag", Callable::kRestoreTypeTag, Profile::kTorchStateDict},
};

const AllowedGlobal* FindAllowed(std::string_view full, Profile profile) {
  for (const auto& g : kAllowed) {
    if (full == g.name && g.profile == profile) return &g;
  }
  return nullptr;
}

// torch.<Type>Storage ("FloatStorage", "LongStorage", ...): the class a persistent id names
// for a tensor's storage. The type is checked where the storage is read.
bool IsTorchStorage(std::string_view module, std::string_view attr) {
  constexpr std::string_view kSuffix = "Storage";
  if (module != "torch" || attr.size() <= kSuffix.size() || attr.size() > 64 || !attr.ends_with(kSuffix)) {
    return false;
  }
  for (char c : attr) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

// A tuple or list of ints (a tensor's sizes or strides).
bool IsIntTuple(const Value* v) {
  if (v->kind != Kind::kTuple && v->kind != Kind::kList) return false;
  for (const Value* e : v->items) {
    if (e->kind != Kind::kInt) return false;
  }
  return true;
}

// UTF-8 text whose code points are all <= 0xFF, encoded as latin-1 bytes (what
// _codecs.encode(text, 'latin1') returns). False on invalid UTF-8 or a code point > 0xFF.
bool Utf8ToLatin1(std::string_view in, std::string* out) {
  out->clear();
  out->reserve(in.size());
  const auto* p = reinterpret_cast<const uint8_t*>(in.data());
  const auto* end = p + in.size();
  while (p < end) {
    const uint8_t* run = p;
    while (p < end && *p < 0x80) ++p;
    out->append(reinterpret_cast<const char*>(run), static_cast<size_t>(p - run));
    if (p == end) break;
    if ((p[0] & 0xE0) != 0xC0 || end - p < 2 || (p[1] & 0xC0) != 0x80) return false;
    uint32_t cp = ((p[0] & 0x1Fu) << 6) | (p[1] & 0x3Fu);
    if (cp < 0x80 || cp > 0xFF) return false;
    out->push_back(static_cast<char>(cp));
    p += 2;
  }
  return true;
}

bool IsLatin1Name(std::string_view enc) {
  return enc == "latin1" || enc == "latin-1" || enc == "iso-8859-1" || enc == "iso8859-1" ||
         enc == "l1";
}

class Decoder {
 public:
  Decoder(std::string_view in, const std::string& name, Profile profile) : in_(in), name_(name), profile_(profile) {}

  Result<Decoded> Run();

 private:
  Status Error(size_t offset, const std::string& cause) const {
    return Status::Corruption(name_ + ": pickle byte offset " + std::to_string(offset) + ": " + cause);
  }
  Status Refuse(size_t offset, const std::string& cause) const {
    return Status::PermissionDenied(name_ + ": pickle byte offset " + std::to_string(offset) + ": " + cause);
  }

  Value* New(Kind kind) {
    arena_->emplace_back();
    Value* v = &arena_->back();
    v->kind = kind;
    return v;
  }
  Value* NewInt(int64_t i) {
    if (i >= 0 && i < 256) {
      Value*& cached = small_ints_[i];
      if (!cached) {
        cached = New(Kind::kInt);
        cached->int_value = i;
      }
      return cached;
    }
    Value* v = New(Kind::kInt);
    v->int_value = i;
    return v;
  }
  Value* NewBool(bool b) {
    Value* v = New(Kind::kBool);
    v->int_value = b ? 1 : 0;
    return v;
  }
  Value* NewView(Kind kind, std::string_view view) {
    Value* v = New(kind);
    v->data = view;
    return v;
  }
  Value* NewOwned(Kind kind, std::string text) {
    Value* v = New(kind);
    v->owned = std::move(text);
    v->data = v->owned;
    return v;
  }

  // Reads n bytes at pos_ (advancing); false if fewer remain.
  bool Take(size_t n, std::string_view* out) {
    if (n > in_.size() - pos_) return false;
    *out = in_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  template <typename T>
  bool TakeLe(T* out) {
    std::string_view b;
    if (!Take(sizeof(T), &b)) return false;
    std::memcpy(out, b.data(), sizeof(T));  // little-endian host (x86-64, arm64)
    return true;
  }
  bool TakeLine(std::string_view* out) {
    size_t nl = in_.find('\n', pos_);
    if (nl == std::string_view::npos) return false;
    *out = in_.substr(pos_, nl - pos_);
    pos_ = nl + 1;
    return true;
  }

  Status Push(Value* v) {
    if (stack_.size() >= kMaxStack) return Error(op_pos_, "stack deeper than " + std::to_string(kMaxStack));
    stack_.push_back(v);
    return Status::Ok();
  }
  Result<Value*> Pop() {
    if (stack_.size() <= MarkFloor()) return Error(op_pos_, std::string("stack underflow at opcode ") + Op());
    Value* v = stack_.back();
    stack_.pop_back();
    return v;
  }
  Result<Value*> Top() {
    if (stack_.size() <= MarkFloor()) return Error(op_pos_, std::string("stack underflow at opcode ") + Op());
    return stack_.back();
  }
  size_t MarkFloor() const { return marks_.empty() ? 0 : marks_.back(); }
  // Pops the items above the topmost MARK (and the mark).
  Result<std::vector<Value*>> PopMark() {
    if (marks_.empty()) return Error(op_pos_, std::string("opcode ") + Op() + " without MARK");
    size_t m = marks_.back();
    marks_.pop_back();
    std::vector<Value*> items(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
    stack_.resize(m);
    return items;
  }
  std::string Op() const {
    char c = in_[op_pos_];
    if (c >= 0x20 && c < 0x7f) return std::string("'") + c + "'";
    static const char kHex[] = "0123456789abcdef";
    return std::string("0x") + kHex[(c >> 4) & 15] + kHex[c & 15];
  }

  Status MemoPut(uint64_t idx, Value* v) {
    if (idx >= in_.size() + 16) return Error(op_pos_, "memo index " + std::to_string(idx) + " out of range");
    if (idx >= memo_.size()) memo_.resize(idx + 1, nullptr);
    if (memo_[idx] == nullptr) ++memo_count_;
    memo_[idx] = v;
    return Status::Ok();
  }
  Status MemoGet(uint64_t idx) {
    if (idx >= memo_.size() || memo_[idx] == nullptr) {
      return Error(op_pos_, "memo index " + std::to_string(idx) + " was never stored");
    }
    return Push(memo_[idx]);
  }

  Status PushGlobal(std::string_view module, std::string_view attr) {
    std::string full = std::string(module) + "." + std::string(attr);
    if (profile_ == Profile::kTorchStateDict && IsTorchStorage(module, attr)) {
      Value* v = NewOwned(Kind::kGlobal, std::move(full));
      v->int_value = static_cast<int64_t>(Callable::kTorchStorage);
      return Push(v);
    }
    const AllowedGlobal* g = FindAllowed(full, profile_);
    if (g == nullptr) {
      std::string shown = full.size() > 200 ? full.substr(0, 200) + "..." : full;
      return Refuse(op_pos_, "refused global '" + shown + "' (" +
                                 (profile_ == Profile::kNumpy
                                      ? "only numpy array/dtype reconstructors and _codecs.encode are accepted"
                                      : "not part of a state_dict") +
                                 "; pickle code is never executed)");
    }
    Value* v = NewView(Kind::kGlobal, g->name);
    v->int_value = static_cast<int64_t>(g->callable);
    return Push(v);
  }
  Status PersistentLoad();

  Status Reduce(Value* callable, Value* args);
  Status Build(Value* obj, Value* state);
  Status Step(uint8_t op);
  Status ParseIntLine(std::string_view line, bool long_suffix);
  Status ParseStringLine(std::string_view line);
  Status ParseUnicodeLine(std::string_view line);
  Status PushLong(std::string_view bytes);

  static constexpr size_t kMaxStack = 1 << 20;

  std::string_view in_;
  const std::string& name_;
  const Profile profile_;
  size_t pos_ = 0;
  size_t op_pos_ = 0;
  int protocol_ = 0;
  std::shared_ptr<std::deque<Value>> arena_ = std::make_shared<std::deque<Value>>();
  std::vector<Value*> stack_;
  std::vector<size_t> marks_;
  std::vector<Value*> memo_;
  size_t memo_count_ = 0;  // distinct memo entries (MEMOIZE stores at this index)
  Value* small_ints_[256] = {};
  Value* result_ = nullptr;
};

Status Decoder::Reduce(Value* callable, Value* args) {
  if (callable->kind != Kind::kGlobal) {
    return Error(op_pos_, std::string("REDUCE of a ") + KindName(callable->kind) + ", not an accepted global");
  }
  if (args->kind != Kind::kTuple) return Error(op_pos_, "REDUCE arguments are not a tuple");
  const auto& a = args->items;
  std::string fn(callable->data);
  auto bad = [&](const std::string& why) { return Error(op_pos_, fn + "(): " + why); };
  switch (static_cast<Callable>(callable->int_value)) {
    case Callable::kReconstruct: {
      // _reconstruct(numpy.ndarray, (0,), b'b'): an empty array that BUILD fills.
      if (a.size() != 3 || a[0]->kind != Kind::kGlobal ||
          static_cast<Callable>(a[0]->int_value) != Callable::kNdArray) {
        return bad("expected (numpy.ndarray, shape, typecode)");
      }
      return Push(New(Kind::kNdArray));
    }
    case Callable::kDtype: {
      if (a.empty() || !a[0]->IsText()) return bad("expected a type code");
      Value* d = New(Kind::kDtype);
      std::string_view code = a[0]->data;
      if (!code.empty() && (code[0] == '<' || code[0] == '>' || code[0] == '|' || code[0] == '=')) {
        d->byte_order = code[0];
        code.remove_prefix(1);
      } else {
        d->byte_order = '=';
      }
      d->owned = std::string(code);
      d->data = d->owned;
      return Push(d);
    }
    case Callable::kCodecsEncode: {
      if (a.size() != 2 || !a[0]->IsText() || !a[1]->IsText()) return bad("expected (text, encoding)");
      if (!IsLatin1Name(a[1]->data)) return bad("unsupported encoding '" + std::string(a[1]->data.substr(0, 40)) + "'");
      if (a[0]->kind == Kind::kBytes) return Push(NewView(Kind::kBytes, a[0]->data));
      std::string out;
      if (!Utf8ToLatin1(a[0]->data, &out)) return bad("text is not latin-1 representable UTF-8");
      return Push(NewOwned(Kind::kBytes, std::move(out)));
    }
    case Callable::kByteArray: {
      if (a.empty()) return Push(NewView(Kind::kBytes, {}));
      if (a.size() == 1 && a[0]->kind == Kind::kBytes) return Push(NewView(Kind::kBytes, a[0]->data));
      if (a.size() == 2 && a[0]->kind == Kind::kStr && a[1]->IsText() && IsLatin1Name(a[1]->data)) {
        std::string out;
        if (!Utf8ToLatin1(a[0]->data, &out)) return bad("text is not latin-1 representable UTF-8");
        return Push(NewOwned(Kind::kBytes, std::move(out)));
      }
      return bad("unsupported arguments");
    }
    case Callable::kFromBuffer: {
      // _frombuffer(buffer, dtype, shape, order) (protocol 5 numpy arrays).
      if (a.size() != 4 || a[0]->kind != Kind::kBytes || a[1]->kind != Kind::kDtype ||
          a[2]->kind != Kind::kTuple || !a[3]->IsText()) {
        return bad("expected (buffer, dtype, shape, order)");
      }
      Value* arr = New(Kind::kNdArray);
      for (Value* dim : a[2]->items) {
        if (dim->kind != Kind::kInt || dim->int_value < 0) return bad("shape is not a tuple of ints");
        arr->shape.push_back(dim->int_value);
      }
      arr->fortran_order = a[3]->data == "F";
      arr->data = a[0]->data;
      arr->items.push_back(a[1]);  // the dtype
      return Push(arr);
    }
    case Callable::kScalar: {
      // numpy.core.multiarray.scalar(dtype, raw bytes): integer scalars only.
      if (a.size() != 2 || a[0]->kind != Kind::kDtype || a[1]->kind != Kind::kBytes) {
        return bad("expected (dtype, bytes)");
      }
      bool is_signed = false;
      int size = IntDtypeSize(a[0]->data, &is_signed);
      if (size == 0 || a[1]->data.size() != static_cast<size_t>(size) || a[0]->byte_order == '>') {
        return bad("only little-endian integer scalars are supported");
      }
      uint64_t u = 0;
      std::memcpy(&u, a[1]->data.data(), static_cast<size_t>(size));
      int64_t v = static_cast<int64_t>(u);
      if (is_signed && size < 8 && (u >> (size * 8 - 1)) & 1) v -= int64_t{1} << (size * 8);
      return Push(NewInt(v));
    }
    case Callable::kNdArray:
      return bad("direct construction of numpy.ndarray is not supported");
    case Callable::kOrderedDict:  // OrderedDict(): the items follow as SETITEMS
      return Push(New(Kind::kDict));
    case Callable::kRestoreTypeTag: {  // (value, "Dict[str, Tensor]"): the value
      if (a.size() != 2) return bad("expected (value, type tag)");
      return Push(a[0]);
    }
    case Callable::kRebuildTensor: {
      // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
      if (a.size() < 4 || a[0]->kind != Kind::kStorage || a[1]->kind != Kind::kInt) {
        return bad("expected (storage, offset, size, stride, ...)");
      }
      if (!IsIntTuple(a[2]) || !IsIntTuple(a[3])) return bad("tensor size or stride is not a tuple of ints");
      if (a[2]->items.size() != a[3]->items.size()) return bad("tensor size and stride differ in rank");
      Value* t = New(Kind::kTensor);
      t->int_value = a[1]->int_value;
      t->items = {a[0], a[2], a[3]};
      return Push(t);
    }
    case Callable::kTorchStorage: return bad("a storage class is only accepted in a persistent id");
  }
  return bad("not callable");
}

// BINPERSID of ("storage", torch.<Type>Storage, key, location, numel): a tensor's storage,
// whose bytes are the record data/<key> beside the pickle. Only a state_dict has them.
Status Decoder::PersistentLoad() {
  if (profile_ != Profile::kTorchStateDict) return Refuse(op_pos_, "persistent ids are not accepted");
  TB_ASSIGN_OR_RETURN(Value * pid, Pop());
  const auto& a = pid->items;
  if (pid->kind != Kind::kTuple || a.size() < 3 || !a[0]->IsText() || a[0]->data != "storage" ||
      a[1]->kind != Kind::kGlobal || static_cast<Callable>(a[1]->int_value) != Callable::kTorchStorage ||
      !a[2]->IsText()) {
    return Error(op_pos_, "unsupported persistent id (expected a torch storage)");
  }
  Value* v = NewView(Kind::kStorage, a[1]->data.substr(a[1]->data.find('.') + 1));  // "FloatStorage"
  v->items.push_back(a[2]);
  return Push(v);
}

Status Decoder::Build(Value* obj, Value* state) {
  if (obj->kind == Kind::kDtype) {
    // (version, byteorder, subarray, names, fields, elsize, alignment, flags)
    if (state->kind != Kind::kTuple || state->items.size() < 2 || !state->items[1]->IsText() ||
        state->items[1]->data.size() != 1) {
      return Error(op_pos_, "numpy.dtype state is not (version, byteorder, ...)");
    }
    if (state->items.size() > 3 && state->items[3]->kind != Kind::kNone) {
      return Error(op_pos_, "structured numpy dtypes are not supported");
    }
    obj->byte_order = state->items[1]->data[0];
    return Status::Ok();
  }
  if (obj->kind == Kind::kNdArray) {
    // ([version,] shape, dtype, is_fortran, rawdata)
    if (state->kind != Kind::kTuple || (state->items.size() != 5 && state->items.size() != 4)) {
      return Error(op_pos_, "numpy.ndarray state is not (version, shape, dtype, is_fortran, data)");
    }
    size_t base = state->items.size() == 5 ? 1 : 0;
    Value* shape = state->items[base];
    Value* dtype = state->items[base + 1];
    Value* fortran = state->items[base + 2];
    Value* raw = state->items[base + 3];
    if (shape->kind != Kind::kTuple) return Error(op_pos_, "numpy.ndarray shape is not a tuple");
    if (dtype->kind != Kind::kDtype) return Error(op_pos_, "numpy.ndarray dtype is not a numpy.dtype");
    if (raw->kind == Kind::kList) return Error(op_pos_, "numpy object arrays are not supported");
    if (raw->kind != Kind::kBytes) return Error(op_pos_, "numpy.ndarray data is not bytes");
    obj->shape.clear();
    for (Value* dim : shape->items) {
      if (dim->kind != Kind::kInt || dim->int_value < 0) return Error(op_pos_, "numpy.ndarray shape is not ints");
      obj->shape.push_back(dim->int_value);
    }
    obj->items.assign(1, dtype);
    obj->fortran_order = fortran->kind != Kind::kNone && fortran->int_value != 0;
    obj->data = raw->data;
    return Status::Ok();
  }
  if (obj->kind == Kind::kDict && profile_ == Profile::kTorchStateDict) {
    return Status::Ok();  // an OrderedDict's attributes (a state_dict's _metadata) are ignored
  }
  return Error(op_pos_, std::string("BUILD on a ") + KindName(obj->kind) + " is not supported");
}

Status Decoder::ParseIntLine(std::string_view line, bool long_suffix) {
  if (long_suffix && !line.empty() && line.back() == 'L') line.remove_suffix(1);
  if (!long_suffix && line == "00") return Push(NewBool(false));
  if (!long_suffix && line == "01") return Push(NewBool(true));
  std::string s(line);
  if (s.empty() || s.size() > 24) return Error(op_pos_, "bad integer literal");
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || end != s.c_str() + s.size()) return Error(op_pos_, "bad or too large integer literal");
  return Push(NewInt(v));
}

Status Decoder::PushLong(std::string_view b) {
  if (b.size() > 8) return Error(op_pos_, "integer wider than 64 bits");
  uint64_t u = 0;
  for (size_t i = 0; i < b.size(); ++i) u |= static_cast<uint64_t>(static_cast<uint8_t>(b[i])) << (8 * i);
  int64_t v = static_cast<int64_t>(u);
  if (!b.empty() && b.size() < 8 && (static_cast<uint8_t>(b.back()) & 0x80)) v -= int64_t{1} << (8 * b.size());
  return Push(NewInt(v));
}

// Protocol 0 STRING: a Python repr with quotes and escapes.
Status Decoder::ParseStringLine(std::string_view line) {
  if (line.size() < 2 || (line[0] != '\'' && line[0] != '"') || line.back() != line[0]) {
    return Error(op_pos_, "STRING argument is not quoted");
  }
  line = line.substr(1, line.size() - 2);
  std::string out;
  out.reserve(line.size());
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (++i >= line.size()) return Error(op_pos_, "STRING ends in a backslash");
    char e = line[i];
    switch (e) {
      case 'n': out.push_back('\n'); break;
      case 't': out.push_back('\t'); break;
      case 'r': out.push_back('\r'); break;
      case '\\': case '\'': case '"': out.push_back(e); break;
      case 'x': {
        if (i + 2 >= line.size()) return Error(op_pos_, "bad \\x escape");
        std::string hex(line.substr(i + 1, 2));
        char* end = nullptr;
        long v = std::strtol(hex.c_str(), &end, 16);
        if (hex.size() != 2 || end != hex.c_str() + 2) return Error(op_pos_, "bad \\x escape");
        out.push_back(static_cast<char>(v));
        i += 2;
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          int v = 0, n = 0;
          while (n < 3 && i < line.size() && line[i] >= '0' && line[i] <= '7') {
            v = v * 8 + (line[i] - '0');
            ++i;
            ++n;
          }
          --i;
          out.push_back(static_cast<char>(v & 0xFF));
        } else {
          out.push_back('\\');
          out.push_back(e);
        }
    }
  }
  return Push(NewOwned(Kind::kBytes, std::move(out)));
}

// Protocol 0 UNICODE: raw-unicode-escape (\uXXXX, \UXXXXXXXX; other bytes are latin-1).
Status Decoder::ParseUnicodeLine(std::string_view line) {
  std::string out;
  out.reserve(line.size());
  for (size_t i = 0; i < line.size(); ++i) {
    uint8_t c = static_cast<uint8_t>(line[i]);
    if (c == '\\' && i + 1 < line.size() && (line[i + 1] == 'u' || line[i + 1] == 'U')) {
      size_t digits = line[i + 1] == 'u' ? 4 : 8;
      if (i + 2 + digits > line.size()) return Error(op_pos_, "bad \\u escape in UNICODE");
      std::string hex(line.substr(i + 2, digits));
      char* end = nullptr;
      unsigned long cp = std::strtoul(hex.c_str(), &end, 16);
      if (end != hex.c_str() + digits || cp > 0x10FFFF) return Error(op_pos_, "bad \\u escape in UNICODE");
      AppendUtf8(static_cast<uint32_t>(cp), &out);
      i += 1 + digits;
    } else {
      AppendUtf8(c, &out);
    }
  }
  return Push(NewOwned(Kind::kStr, std::move(out)));
}

Status Decoder::Step(uint8_t op) {
  std::string_view b;
  auto truncated = [&] { return Error(op_pos_, std::string("truncated argument of opcode ") + Op()); };
  auto need = [&](size_t n) -> Status {
    if (!Take(n, &b)) return truncated();
    return Status::Ok();
  };
  switch (op) {
    case 0x80: {  // PROTO
      TB_RETURN_IF_ERROR(need(1));
      protocol_ = static_cast<uint8_t>(b[0]);
      if (protocol_ > 5) return Error(op_pos_, "unsupported pickle protocol " + std::to_string(protocol_));
      return Status::Ok();
    }
    case 0x95: {  // FRAME: a length prefix for the following opcodes; only bounds-checked.
      uint64_t n = 0;
      if (!TakeLe(&n)) return truncated();
      if (n > in_.size() - pos_) return Error(op_pos_, "FRAME of " + std::to_string(n) + " bytes runs past the end");
      return Status::Ok();
    }
    case '(':  // MARK
      if (marks_.size() >= kMaxStack) return Error(op_pos_, "too many MARKs");
      marks_.push_back(stack_.size());
      return Status::Ok();
    case '.': {  // STOP
      TB_ASSIGN_OR_RETURN(result_, Pop());
      return Status::Ok();
    }
    case '0': {  // POP
      if (stack_.size() > MarkFloor()) {
        stack_.pop_back();
        return Status::Ok();
      }
      if (!marks_.empty()) {  // CPython: POP of a mark pops the mark
        marks_.pop_back();
        return Status::Ok();
      }
      return Error(op_pos_, "POP on an empty stack");
    }
    case '1': {  // POP_MARK
      TB_ASSIGN_OR_RETURN(auto items, PopMark());
      (void)items;
      return Status::Ok();
    }
    case '2': {  // DUP
      TB_ASSIGN_OR_RETURN(Value * v, Top());
      return Push(v);
    }
    case 'N': return Push(New(Kind::kNone));
    case 0x88: return Push(NewBool(true));
    case 0x89: return Push(NewBool(false));
    case 'K': TB_RETURN_IF_ERROR(need(1)); return Push(NewInt(static_cast<uint8_t>(b[0])));
    case 'M': {
      uint16_t v = 0;
      if (!TakeLe(&v)) return truncated();
      return Push(NewInt(v));
    }
    case 'J': {
      int32_t v = 0;
      if (!TakeLe(&v)) return truncated();
      return Push(NewInt(v));
    }
    case 0x8a: {  // LONG1
      TB_RETURN_IF_ERROR(need(1));
      TB_RETURN_IF_ERROR(need(static_cast<uint8_t>(b[0])));
      return PushLong(b);
    }
    case 0x8b: {  // LONG4
      int32_t n = 0;
      if (!TakeLe(&n)) return truncated();
      if (n < 0) return Error(op_pos_, "negative LONG4 length");
      TB_RETURN_IF_ERROR(need(static_cast<size_t>(n)));
      return PushLong(b);
    }
    case 'I': {
      if (!TakeLine(&b)) return truncated();
      return ParseIntLine(b, false);
    }
    case 'L': {
      if (!TakeLine(&b)) return truncated();
      return ParseIntLine(b, true);
    }
    case 'F': {
      if (!TakeLine(&b)) return truncated();
      std::string s(b);
      char* end = nullptr;
      double d = std::strtod(s.c_str(), &end);
      if (s.empty() || end != s.c_str() + s.size()) return Error(op_pos_, "bad FLOAT literal");
      Value* v = New(Kind::kFloat);
      v->float_value = d;
      return Push(v);
    }
    case 'G': {  // BINFLOAT: big-endian double
      TB_RETURN_IF_ERROR(need(8));
      uint64_t u = 0;
      for (int i = 0; i < 8; ++i) u = (u << 8) | static_cast<uint8_t>(b[i]);
      Value* v = New(Kind::kFloat);
      std::memcpy(&v->float_value, &u, 8);
      return Push(v);
    }
    case 'S': {
      if (!TakeLine(&b)) return truncated();
      return ParseStringLine(b);
    }
    case 'V': {
      if (!TakeLine(&b)) return truncated();
      return ParseUnicodeLine(b);
    }
    case 'T':    // BINSTRING (Python 2 str): 4-byte signed length
    case 'X':    // BINUNICODE
    case 'B': {  // BINBYTES
      uint32_t n = 0;
      if (!TakeLe(&n)) return truncated();
      if (op == 'T' && static_cast<int32_t>(n) < 0) return Error(op_pos_, "negative BINSTRING length");
      if (!Take(n, &b)) return Error(op_pos_, "length " + std::to_string(n) + " runs past the end of the input");
      return Push(NewView(op == 'X' ? Kind::kStr : Kind::kBytes, b));
    }
    case 'U':     // SHORT_BINSTRING
    case 'C':     // SHORT_BINBYTES
    case 0x8c: {  // SHORT_BINUNICODE
      TB_RETURN_IF_ERROR(need(1));
      size_t n = static_cast<uint8_t>(b[0]);
      if (!Take(n, &b)) return Error(op_pos_, "length " + std::to_string(n) + " runs past the end of the input");
      return Push(NewView(op == 0x8c ? Kind::kStr : Kind::kBytes, b));
    }
    case 0x8d:    // BINUNICODE8
    case 0x8e:    // BINBYTES8
    case 0x96: {  // BYTEARRAY8
      uint64_t n = 0;
      if (!TakeLe(&n)) return truncated();
      if (n > in_.size() - pos_) return Error(op_pos_, "length " + std::to_string(n) + " runs past the end of the input");
      Take(static_cast<size_t>(n), &b);
      return Push(NewView(op == 0x8d ? Kind::kStr : Kind::kBytes, b));
    }
    case 0x98:  // READONLY_BUFFER: no-op on an in-band buffer
      return Top().status();
    case ')': return Push(New(Kind::kTuple));
    case ']': return Push(New(Kind::kList));
    case '}': return Push(New(Kind::kDict));
    case 0x8f: return Push(New(Kind::kList));  // EMPTY_SET (kept as a list)
    case 0x85:
    case 0x86:
    case 0x87: {  // TUPLE1..3
      size_t n = op - 0x84u;
      if (stack_.size() < MarkFloor() + n) return Error(op_pos_, std::string("stack underflow at opcode ") + Op());
      Value* t = New(Kind::kTuple);
      t->items.assign(stack_.end() - static_cast<std::ptrdiff_t>(n), stack_.end());
      stack_.resize(stack_.size() - n);
      return Push(t);
    }
    case 't':     // TUPLE
    case 'l':     // LIST
    case 0x91: {  // FROZENSET
      TB_ASSIGN_OR_RETURN(auto items, PopMark());
      Value* v = New(op == 't' ? Kind::kTuple : Kind::kList);
      v->items = std::move(items);
      return Push(v);
    }
    case 'd': {  // DICT
      TB_ASSIGN_OR_RETURN(auto items, PopMark());
      if (items.size() % 2) return Error(op_pos_, "DICT with an odd number of items");
      Value* v = New(Kind::kDict);
      v->items = std::move(items);
      return Push(v);
    }
    case 'a': {  // APPEND
      TB_ASSIGN_OR_RETURN(Value * item, Pop());
      TB_ASSIGN_OR_RETURN(Value * list, Top());
      if (list->kind != Kind::kList) return Error(op_pos_, std::string("APPEND to a ") + KindName(list->kind));
      list->items.push_back(item);
      return Status::Ok();
    }
    case 'e':     // APPENDS
    case 0x90: {  // ADDITEMS
      TB_ASSIGN_OR_RETURN(auto items, PopMark());
      TB_ASSIGN_OR_RETURN(Value * list, Top());
      if (list->kind != Kind::kList) return Error(op_pos_, std::string("APPENDS to a ") + KindName(list->kind));
      list->items.insert(list->items.end(), items.begin(), items.end());
      return Status::Ok();
    }
    case 's': {  // SETITEM
      TB_ASSIGN_OR_RETURN(Value * value, Pop());
      TB_ASSIGN_OR_RETURN(Value * key, Pop());
      TB_ASSIGN_OR_RETURN(Value * dict, Top());
      if (dict->kind != Kind::kDict) return Error(op_pos_, std::string("SETITEM on a ") + KindName(dict->kind));
      dict->items.push_back(key);
      dict->items.push_back(value);
      return Status::Ok();
    }
    case 'u': {  // SETITEMS
      TB_ASSIGN_OR_RETURN(auto items, PopMark());
      if (items.size() % 2) return Error(op_pos_, "SETITEMS with an odd number of items");
      TB_ASSIGN_OR_RETURN(Value * dict, Top());
      if (dict->kind != Kind::kDict) return Error(op_pos_, std::string("SETITEMS on a ") + KindName(dict->kind));
      dict->items.insert(dict->items.end(), items.begin(), items.end());
      return Status::Ok();
    }
    case 'q': {
      TB_RETURN_IF_ERROR(need(1));
      TB_ASSIGN_OR_RETURN(Value * v, Top());
      return MemoPut(static_cast<uint8_t>(b[0]), v);
    }
    case 'r': {
      uint32_t idx = 0;
      if (!TakeLe(&idx)) return truncated();
      TB_ASSIGN_OR_RETURN(Value * v, Top());
      return MemoPut(idx, v);
    }
    case 'p': {
      if (!TakeLine(&b)) return truncated();
      std::string s(b);
      char* end = nullptr;
      unsigned long long idx = std::strtoull(s.c_str(), &end, 10);
      if (s.empty() || end != s.c_str() + s.size()) return Error(op_pos_, "bad PUT index");
      TB_ASSIGN_OR_RETURN(Value * v, Top());
      return MemoPut(idx, v);
    }
    case 0x94: {  // MEMOIZE
      TB_ASSIGN_OR_RETURN(Value * v, Top());
      return MemoPut(memo_count_, v);
    }
    case 'h': TB_RETURN_IF_ERROR(need(1)); return MemoGet(static_cast<uint8_t>(b[0]));
    case 'j': {
      uint32_t idx = 0;
      if (!TakeLe(&idx)) return truncated();
      return MemoGet(idx);
    }
    case 'g': {
      if (!TakeLine(&b)) return truncated();
      std::string s(b);
      char* end = nullptr;
      unsigned long long idx = std::strtoull(s.c_str(), &end, 10);
      if (s.empty() || end != s.c_str() + s.size()) return Error(op_pos_, "bad GET index");
      return MemoGet(idx);
    }
    case 'c': {  // GLOBAL "module\nname\n"
      std::string_view module, attr;
      if (!TakeLine(&module) || !TakeLine(&attr)) return truncated();
      return PushGlobal(module, attr);
    }
    case 0x93: {  // STACK_GLOBAL
      TB_ASSIGN_OR_RETURN(Value * attr, Pop());
      TB_ASSIGN_OR_RETURN(Value * module, Pop());
      if (module->kind != Kind::kStr || attr->kind != Kind::kStr) {
        return Error(op_pos_, "STACK_GLOBAL arguments are not strings");
      }
      return PushGlobal(module->data, attr->data);
    }
    case 'R': {  // REDUCE
      TB_ASSIGN_OR_RETURN(Value * args, Pop());
      TB_ASSIGN_OR_RETURN(Value * callable, Pop());
      return Reduce(callable, args);
    }
    case 'b': {  // BUILD
      TB_ASSIGN_OR_RETURN(Value * state, Pop());
      TB_ASSIGN_OR_RETURN(Value * obj, Top());
      return Build(obj, state);
    }
    case 0x81:  // NEWOBJ
    case 0x92:  // NEWOBJ_EX
    case 'i':   // INST
    case 'o':   // OBJ
      return Refuse(op_pos_, "opcode " + Op() + " (object instantiation) is not accepted");
    case 'Q':  // BINPERSID
      return PersistentLoad();
    case 'P':  // PERSID (protocol 0 text ids)
      return Refuse(op_pos_, "persistent ids are not accepted");
    case 0x82:
    case 0x83:
    case 0x84:
      return Refuse(op_pos_, "extension registry opcodes are not accepted");
    case 0x97:
      return Error(op_pos_, "out-of-band buffers (NEXT_BUFFER) are not supported");
    default:
      return Error(op_pos_, "unknown opcode " + Op());
  }
}

Result<Decoded> Decoder::Run() {
  while (result_ == nullptr) {
    if (pos_ >= in_.size()) {
      return Error(pos_, in_.empty() ? "empty input" : "truncated: input ends before STOP");
    }
    op_pos_ = pos_;
    uint8_t op = static_cast<uint8_t>(in_[pos_++]);
    TB_RETURN_IF_ERROR(Step(op));
  }
  Decoded d;
  d.protocol = protocol_;
  // The arena keeps every value alive as long as the root is referenced.
  d.root = ValuePtr(arena_, result_);
  return d;
}

}  // namespace

const Value* Value::Find(std::string_view key) const {
  if (kind != Kind::kDict) return nullptr;
  for (size_t i = 0; i + 1 < items.size(); i += 2) {
    if (items[i]->IsText() && items[i]->data == key) return items[i + 1];
  }
  return nullptr;
}

int IntDtypeSize(std::string_view code, bool* is_signed) {
  if (!code.empty() && (code[0] == '<' || code[0] == '|' || code[0] == '=')) code.remove_prefix(1);
  if (code.size() != 2 || (code[0] != 'u' && code[0] != 'i')) return 0;
  *is_signed = code[0] == 'i';
  switch (code[1]) {
    case '1': return 1;
    case '2': return 2;
    case '4': return 4;
    case '8': return 8;
    default: return 0;
  }
}

const char* KindName(Kind kind) {
  switch (kind) {
    case Kind::kNone: return "None";
    case Kind::kBool: return "bool";
    case Kind::kInt: return "int";
    case Kind::kFloat: return "float";
    case Kind::kBytes: return "bytes";
    case Kind::kStr: return "str";
    case Kind::kList: return "list";
    case Kind::kTuple: return "tuple";
    case Kind::kDict: return "dict";
    case Kind::kGlobal: return "global";
    case Kind::kDtype: return "numpy.dtype";
    case Kind::kNdArray: return "numpy.ndarray";
    case Kind::kStorage: return "torch storage";
    case Kind::kTensor: return "torch tensor";
  }
  return "?";
}

Result<Decoded> Decode(std::string_view bytes, const std::string& name, Profile profile) {
  Decoder d(bytes, name, profile);
  return d.Run();
}

}  // namespace tb::dataset::pickle
