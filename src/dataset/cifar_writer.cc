#include "dataset/cifar_writer.h"

#include <algorithm>
#include <cstring>

#include "dataset/cifar.h"

namespace tb::dataset {

namespace {

constexpr size_t kBatchSize = 1000;  // cPickle and pickle.py write APPENDS/SETITEMS in 1,000s

// Emits pickle opcodes the way Python 2 cPickle (protocol 2: memo ids from 1, BINPUT) or
// Python 3 (protocol 4: MEMOIZE, unicode strings, STACK_GLOBAL) does.
class Emitter {
 public:
  explicit Emitter(int protocol) : protocol_(protocol), memo_(protocol == 2 ? 1 : 0) {}
  std::string& out() { return out_; }
  bool py3() const { return protocol_ >= 3; }

  void Op(char op) { out_.push_back(op); }
  void Raw(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }
  void Le32(uint32_t v) { Raw(&v, 4); }
  void Le64(uint64_t v) { Raw(&v, 8); }

  void Proto() {
    Op('\x80');
    Op(static_cast<char>(protocol_));
  }
  // Stores the object just written in the memo, returns its id.
  uint32_t Put() {
    uint32_t id = memo_++;
    if (py3()) {
      Op('\x94');
    } else if (id < 256) {
      Op('q');
      Op(static_cast<char>(id));
    } else {
      Op('r');
      Le32(id);
    }
    return id;
  }
  void Get(uint32_t id) {
    if (id < 256) {
      Op('h');
      Op(static_cast<char>(id));
    } else {
      Op('j');
      Le32(id);
    }
  }
  void Int(int64_t v) {
    if (v >= 0 && v < 256) {
      Op('K');
      Op(static_cast<char>(v));
    } else if (v >= 0 && v < 65536) {
      Op('M');
      uint16_t u = static_cast<uint16_t>(v);
      Raw(&u, 2);
    } else {
      Op('J');
      Le32(static_cast<uint32_t>(static_cast<int32_t>(v)));
    }
  }
  // A text value: Python 2 str (SHORT_BINSTRING / BINSTRING) or Python 3 str (unicode).
  // cPickle does not memoize strings shorter than 2 characters; `memo` says whether the
  // writer holds a second reference (which is what makes cPickle memoize).
  void Text(std::string_view s, bool memo = true) {
    if (py3()) {
      if (s.size() < 256) {
        Op('\x8c');
        Op(static_cast<char>(s.size()));
      } else {
        Op('X');
        Le32(static_cast<uint32_t>(s.size()));
      }
    } else if (s.size() < 256) {
      Op('U');
      Op(static_cast<char>(s.size()));
    } else {
      Op('T');
      Le32(static_cast<uint32_t>(s.size()));
    }
    out_.append(s);
    if (py3() || (memo && s.size() >= 2)) Put();
  }
  // A short bytes value (typecode 'b' of _reconstruct), never memoized by cPickle.
  void ShortBytes(std::string_view s) {
    if (py3()) {
      Op('C');
      Op(static_cast<char>(s.size()));
      out_.append(s);
      Put();
    } else {
      Text(s, /*memo=*/false);
    }
  }
  void Global(std::string_view module, std::string_view name) {
    if (py3()) {
      Text(module);
      Text(name);
      Op('\x93');
    } else {
      Op('c');
      out_.append(module);
      Op('\n');
      out_.append(name);
      Op('\n');
    }
    Put();
  }
  void Tuple(size_t n) {  // TUPLE1..3 (args tuples: only Python 3 memoizes them)
    Op(static_cast<char>(0x84 + n));
    if (py3()) Put();
  }
  // Batched appends of n items, as cPickle's batch_list / pickle.py's _batch_appends.
  template <typename F>
  void Batched(size_t n, char many, char one, F&& item) {
    for (size_t i = 0; i < n;) {
      size_t k = std::min(kBatchSize, n - i);
      if (k == 1) {
        item(i);
        Op(one);
      } else {
        Op('(');
        for (size_t j = 0; j < k; ++j) item(i + j);
        Op(many);
      }
      i += k;
    }
  }

 private:
  int protocol_;
  uint32_t memo_;
  std::string out_;
};

void EmitDtypeU1(Emitter& e) {
  e.Global("numpy", "dtype");
  e.Text("u1", /*memo=*/false);
  if (e.py3()) {
    e.Op('\x89');
    e.Op('\x88');
  } else {
    e.Int(0);
    e.Int(1);
  }
  e.Tuple(3);
  e.Op('R');
  e.Put();
  e.Op('(');
  e.Int(3);
  e.Text("|", /*memo=*/false);
  e.Op('N');
  e.Op('N');
  e.Op('N');
  e.Op('J');
  e.Le32(0xFFFFFFFFu);
  e.Op('J');
  e.Le32(0xFFFFFFFFu);
  e.Int(0);
  e.Op('t');
  if (e.py3()) e.Put();
  e.Op('b');
}

}  // namespace

const std::vector<std::string>& Cifar10LabelNames() {
  static const std::vector<std::string> kNames = {"airplane", "automobile", "bird",  "cat",  "deer",
                                                  "dog",      "frog",       "horse", "ship", "truck"};
  return kNames;
}

Result<EncodedBatch> EncodeBatch(const BatchContent& batch, int protocol) {
  if (protocol != 2 && protocol != 4) return Status::InvalidArgument("pickle protocol must be 2 or 4");
  size_t n = batch.labels.size();
  if (batch.pixels.size() != n * kImageBytes) {
    return Status::InvalidArgument("batch '" + batch.batch_label + "': pixel bytes do not match the label count");
  }
  if (!batch.filenames.empty() && batch.filenames.size() != n) {
    return Status::InvalidArgument("batch '" + batch.batch_label + "': filename count does not match");
  }
  Emitter e(protocol);
  e.Proto();
  e.Op('}');
  e.Put();
  e.Op('(');
  // Key order of the real files (Python 2 dict order): batch_label, labels, data, filenames.
  e.Text("batch_label");
  e.Text(batch.batch_label);
  e.Text("labels");
  e.Op(']');
  e.Put();
  e.Batched(n, 'e', 'a', [&](size_t i) { e.Int(batch.labels[i]); });
  e.Text("data");
  // numpy.core.multiarray._reconstruct(numpy.ndarray, (0,), b'b') + BUILD state.
  e.Global("numpy.core.multiarray", "_reconstruct");
  e.Global("numpy", "ndarray");
  e.Int(0);
  e.Tuple(1);
  e.ShortBytes("b");
  e.Tuple(3);
  e.Op('R');
  e.Put();
  e.Op('(');
  e.Int(1);
  e.Int(static_cast<int64_t>(n));
  e.Int(static_cast<int64_t>(kImageBytes));
  e.Tuple(2);
  EmitDtypeU1(e);
  e.Op('\x89');  // is_fortran False
  if (e.py3()) {
    if (batch.pixels.size() < 256) {
      e.Op('C');
      e.Op(static_cast<char>(batch.pixels.size()));
    } else if (batch.pixels.size() <= 0xFFFFFFFFu) {
      e.Op('B');
      e.Le32(static_cast<uint32_t>(batch.pixels.size()));
    } else {
      e.Op('\x8e');
      e.Le64(batch.pixels.size());
    }
  } else {
    if (batch.pixels.size() > 0x7FFFFFFFu) return Status::InvalidArgument("batch too large for protocol 2");
    e.Op('T');  // cPickle: BINSTRING for >= 256 bytes
    if (batch.pixels.size() < 256) {
      e.out().back() = 'U';
      e.Op(static_cast<char>(batch.pixels.size()));
    } else {
      e.Le32(static_cast<uint32_t>(batch.pixels.size()));
    }
  }
  EncodedBatch out;
  out.head = std::move(e.out());
  out.pixels = batch.pixels;
  e.out().clear();
  if (e.py3()) e.Put();  // the bytes object
  e.Op('t');
  if (e.py3()) e.Put();
  e.Op('b');
  if (!batch.filenames.empty()) {
    e.Text("filenames");
    e.Op(']');
    e.Put();
    e.Batched(n, 'e', 'a', [&](size_t i) { e.Text(batch.filenames[i]); });
  }
  e.Op('u');
  e.Op('.');
  out.tail = std::move(e.out());
  return out;
}

std::string EncodeMeta(const std::vector<std::string>& label_names, int64_t num_cases_per_batch, int protocol) {
  Emitter e(protocol == 4 ? 4 : 2);
  e.Proto();
  e.Op('}');
  e.Put();
  e.Op('(');
  // Python 2 dict order of the real batches.meta.
  e.Text("num_cases_per_batch");
  e.Int(num_cases_per_batch);
  e.Text("label_names");
  e.Op(']');
  e.Put();
  e.Batched(label_names.size(), 'e', 'a', [&](size_t i) { e.Text(label_names[i]); });
  e.Text("num_vis");
  e.Int(static_cast<int64_t>(kImageBytes));
  e.Op('u');
  e.Op('.');
  return std::move(e.out());
}

}  // namespace tb::dataset
