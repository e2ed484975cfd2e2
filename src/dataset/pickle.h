// The one safe pickle decoder of tierbench: a small stack machine over the opcodes of
// protocols 0-5. It reads the CIFAR batch files (numpy arrays inside pickles) and the pickle
// inside a model.pth (a PyTorch state_dict); both are untrusted input. It executes nothing.
// GLOBAL / STACK_GLOBAL are accepted only for the callables of the decode's Profile, each
// interpreted by the decoder itself:
//   kNumpy            numpy's array reconstructors, numpy.dtype, _codecs.encode, bytearray,
//                     numpy scalars (what CIFAR batches written by Python 2 or 3 hold);
//   kTorchStateDict   collections.OrderedDict, torch._utils._rebuild_tensor_v2,
//                     torch.jit._pickle.restore_type_tag and the torch.<Type>Storage classes
//                     named by persistent ids (what torch.save and libtorch's pickle_save write).
// Any other global (os.system, builtins.eval, ...) is refused with an error naming the input,
// the byte offset and the global. Every length, count and memo index the input drives is
// checked against the input's size or a fixed limit (stack depth, MARKs); truncated or corrupt
// input yields Corruption, never a crash, an over-read or an allocation the input's size does
// not bound.
//
// Byte strings and numpy array data are views into the input where possible (no copy), so
// the input must outlive the decoded values.
//
// Thread-safety: Decode() is reentrant; decoded values are immutable once returned.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace tb::dataset::pickle {

struct Value;
using ValuePtr = std::shared_ptr<Value>;

enum class Kind {
  kNone,
  kBool,
  kInt,
  kFloat,
  kBytes,    // bytes / Python 2 str / bytearray: `data`
  kStr,      // unicode text, UTF-8 in `data`
  kList,     // items
  kTuple,    // items
  kDict,     // items: key, value, key, value ... (insertion order)
  kGlobal,   // an accepted callable/class: `data` = "module.name"
  kDtype,    // numpy.dtype: `data` = type code ("u1", "i8"), byte_order
  kNdArray,  // numpy.ndarray: dtype, shape, `data` = raw element bytes (C order)
  kStorage,  // torch storage (a persistent id): `data` = type ("FloatStorage"), items[0] = key
  kTensor,   // torch tensor: int_value = storage offset, items = storage, sizes, strides
             // (sizes and strides are tuples of ints of the same length)
};

// The callables a decode accepts (see the top of this file).
enum class Profile { kNumpy, kTorchStateDict };

struct Value {
  Kind kind = Kind::kNone;
  int64_t int_value = 0;    // kBool, kInt
  double float_value = 0;   // kFloat
  std::string_view data;    // kBytes, kStr, kGlobal, kDtype, kNdArray: a view into the input
                            // or into `owned`
  std::string owned;        // backing store when `data` could not be a view
  std::vector<Value*> items;  // owned by the decode's arena
  // numpy
  char byte_order = '|';      // kDtype: '<', '>', '|' or '='
  std::vector<int64_t> shape;  // kNdArray (its dtype is items[0])
  bool fortran_order = false;

  std::string_view AsText() const { return data; }  // kBytes or kStr
  const Value* dtype() const { return kind == Kind::kNdArray && !items.empty() ? items[0] : nullptr; }
  bool IsText() const { return kind == Kind::kBytes || kind == Kind::kStr; }
  // Dict lookup by a text key, matching both str and bytes keys. nullptr if absent.
  const Value* Find(std::string_view key) const;
};

struct Decoded {
  ValuePtr root;  // shares ownership of every value of this decode
  int protocol = 0;  // from PROTO (0 if absent)
};

// Decodes one pickle from `bytes` (trailing bytes after STOP are ignored, as pickle.load
// does). `name` (the file, and the record inside it) starts every error message.
Result<Decoded> Decode(std::string_view bytes, const std::string& name, Profile profile = Profile::kNumpy);

// Element size of a numpy dtype code such as "u1", "<i8", "i4"; 0 if not an integer code
// this decoder understands.
int IntDtypeSize(std::string_view code, bool* is_signed);

const char* KindName(Kind kind);

}  // namespace tb::dataset::pickle
