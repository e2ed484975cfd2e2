#include "dataset/pickle.h"

#include <gtest/gtest.h>

#include <deque>
#include <string>

namespace tb::dataset::pickle {
namespace {

template <size_t N>
std::string B(const char (&s)[N]) {
  return std::string(s, N - 1);
}

// Decoded values are views into the input, so the inputs are kept for the whole test run.
Result<Decoded> D(const std::string& s) {
  static std::deque<std::string> inputs;
  inputs.push_back(s);
  return Decode(inputs.back(), "test.pkl");
}

TEST(PickleTest, ScalarsAndContainers) {
  // {'a': [1, 300, 70000, -2, True, None, 1.5], b'k': (b'xy', 'z')} at protocol 2.
  std::string p = B("\x80\x02}q\x00(X\x01\x00\x00\x00" "aq\x01]q\x02(K\x01M,\x01J\x70\x11\x01\x00J\xfe\xff\xff\xff\x88NG?\xf8\x00\x00\x00\x00\x00\x00" "e"
                    "C\x01kC\x02xy\x8c\x01z\x86u.");
  auto d = D(p);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->protocol, 2);
  const Value* a = d->root->Find("a");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->kind, Kind::kList);
  ASSERT_EQ(a->items.size(), 7u);
  EXPECT_EQ(a->items[0]->int_value, 1);
  EXPECT_EQ(a->items[1]->int_value, 300);
  EXPECT_EQ(a->items[2]->int_value, 70000);
  EXPECT_EQ(a->items[3]->int_value, -2);
  EXPECT_EQ(a->items[4]->kind, Kind::kBool);
  EXPECT_EQ(a->items[5]->kind, Kind::kNone);
  EXPECT_DOUBLE_EQ(a->items[6]->float_value, 1.5);
  const Value* k = d->root->Find("k");  // bytes key matched by text
  ASSERT_NE(k, nullptr);
  ASSERT_EQ(k->kind, Kind::kTuple);
  EXPECT_EQ(k->items[0]->data, "xy");
  EXPECT_EQ(k->items[1]->kind, Kind::kStr);
}

TEST(PickleTest, MemoGetSharesValues) {
  // [x, x, x] where x = [7]: LONG_BINPUT / LONG_BINGET and BINGET.
  auto d = D(B("\x80\x02](]r\x05\x00\x00\x00K\x07" "ah\x05j\x05\x00\x00\x00" "e."));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_EQ(d->root->items.size(), 3u);  // the inner list (still on the stack), BINGET, LONG_BINGET
  EXPECT_EQ(d->root->items[0], d->root->items[1]);
  EXPECT_EQ(d->root->items[0], d->root->items[2]);
  EXPECT_EQ(d->root->items[0]->items[0]->int_value, 7);
}

TEST(PickleTest, Protocol4FrameMemoizeAndStackGlobal) {
  // {'d': numpy.dtype('u1', False, True)} with FRAME, MEMOIZE, STACK_GLOBAL, BUILD state.
  std::string body = B("}\x94\x8c\x01" "d\x94\x8c\x05numpy\x94\x8c\x05" "dtype\x94\x93\x94\x8c\x02u1\x94\x89\x88\x87\x94R\x94"
                       "(K\x03\x8c\x01<\x94NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00t\x94" "bs.");
  std::string frame(8, '\0');
  frame[0] = static_cast<char>(body.size());
  auto d = D(B("\x80\x04\x95") + frame + body);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  const Value* dt = d->root->Find("d");
  ASSERT_NE(dt, nullptr);
  EXPECT_EQ(dt->kind, Kind::kDtype);
  EXPECT_EQ(dt->data, "u1");
  EXPECT_EQ(dt->byte_order, '<');
}

TEST(PickleTest, Protocol0TextOpcodes) {
  // (dp0\nS'k'\np1\n(lp2\nI5\naL7L\naF0.5\naV\\u00e9\nasI01\n.
  auto d = D(B("(dp0\nS'k\\x41'\np1\n(lp2\nI5\naL7L\naF0.5\naV\\u00e9\nas."));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  const Value* l = d->root->Find("kA");
  ASSERT_NE(l, nullptr);
  ASSERT_EQ(l->items.size(), 4u);
  EXPECT_EQ(l->items[0]->int_value, 5);
  EXPECT_EQ(l->items[1]->int_value, 7);
  EXPECT_DOUBLE_EQ(l->items[2]->float_value, 0.5);
  EXPECT_EQ(l->items[3]->data, "\xc3\xa9");
}

TEST(PickleTest, Long1AndBinunicode8AndBytes8) {
  auto d = D(B("\x80\x04(\x8a\x02\xff\x7f\x8a\x01\xff\x8d\x02\x00\x00\x00\x00\x00\x00\x00hi\x8e\x01\x00\x00\x00\x00\x00\x00\x00Zl."));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_EQ(d->root->items.size(), 4u);
  EXPECT_EQ(d->root->items[0]->int_value, 0x7fff);
  EXPECT_EQ(d->root->items[1]->int_value, -1);
  EXPECT_EQ(d->root->items[2]->data, "hi");
  EXPECT_EQ(d->root->items[3]->data, "Z");
}

TEST(PickleTest, CodecsEncodeTurnsLatin1TextIntoBytes) {
  // _codecs.encode('\x00\xff', 'latin1') with the text UTF-8 encoded, as Python 3 writes bytes at protocol 2.
  auto d = D(B("\x80\x02" "c_codecs\nencode\nX\x03\x00\x00\x00\x00\xc3\xbfX\x06\x00\x00\x00latin1\x86R."));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->root->kind, Kind::kBytes);
  EXPECT_EQ(d->root->data, B("\x00\xff"));
  // A code point above 0xFF cannot be latin-1.
  EXPECT_FALSE(D(B("\x80\x02" "c_codecs\nencode\nX\x02\x00\x00\x00\xc4\x80X\x06\x00\x00\x00latin1\x86R.")).ok());
}

TEST(PickleTest, MaliciousGlobalsAreRefusedWithOffsetAndName) {
  struct Case {
    std::string pickle, global;
  };
  std::vector<Case> cases = {
      {B("cos\nsystem\n(S'touch /tmp/tb-pwned'\ntR."), "os.system"},
      {B("\x80\x02" "cposix\nsystem\nX\x04\x00\x00\x00true\x85R."), "posix.system"},
      {B("\x80\x04\x8c\x08" "builtins\x8c\x04" "eval\x93\x8c\x05" "1+1\x85R."), "builtins.eval"},
      {B("\x80\x02" "csubprocess\nPopen\n."), "subprocess.Popen"},
      {B("\x80\x02" "cnumpy.core.multiarray\n_reconstruct\nq\x00" "c__builtin__\napply\n."), "__builtin__.apply"},
  };
  for (const auto& c : cases) {
    auto d = D(c.pickle);
    ASSERT_FALSE(d.ok()) << c.global;
    EXPECT_EQ(d.status().code(), Code::kPermissionDenied);
    EXPECT_NE(d.status().message().find("test.pkl"), std::string::npos) << d.status().message();
    EXPECT_NE(d.status().message().find("'" + c.global + "'"), std::string::npos) << d.status().message();
    EXPECT_NE(d.status().message().find("byte offset"), std::string::npos);
  }
  // The offset is that of the GLOBAL opcode.
  auto d = D(B("\x80\x02" "cos\nsystem\n."));
  EXPECT_NE(d.status().message().find("byte offset 2:"), std::string::npos) << d.status().message();
}

TEST(PickleTest, InstantiationOpcodesAreRefused) {
  EXPECT_EQ(D(B("\x80\x02" "cnumpy\nndarray\n)\x81.")).status().code(), Code::kPermissionDenied);   // NEWOBJ
  EXPECT_EQ(D(B("(ios\nsystem\nS'id'\n.")).status().code(), Code::kPermissionDenied);            // INST
  EXPECT_EQ(D(B("\x80\x02(cnumpy\ndtype\no.")).status().code(), Code::kPermissionDenied);        // OBJ
  EXPECT_EQ(D(B("\x80\x02X\x01\x00\x00\x00xQ.")).status().code(), Code::kPermissionDenied);      // BINPERSID
  EXPECT_EQ(D(B("\x80\x02\x82\x01.")).status().code(), Code::kPermissionDenied);                 // EXT1
}

// The state_dict profile: {"w": tensor over storage "0" (FloatStorage), offset 1, size (2, 3),
// stride (1, 2)} in an OrderedDict whose attribute dict BUILD sets, as Python's torch.save writes.
std::string StateDictPickle(const std::string& storage_class = "FloatStorage") {
  std::string p =
      B("\x80\x02"
        "ccollections\nOrderedDict\nq\x00)Rq\x01(X\x01\x00\x00\x00w");
  p += B("ctorch._utils\n_rebuild_tensor_v2\nq\x02((X\x07\x00\x00\x00storage");
  p += "ctorch\n" + storage_class + "\n";
  p +=
      B("X\x01\x00\x00\x00"
        "0X\x03\x00\x00\x00"
        "cpuK\x07tQK\x01K\x02K\x03\x86K\x01K\x02\x86\x89}tRu}b.");
  return p;
}

Result<Decoded> Torch(const std::string& s) {
  static std::deque<std::string> inputs;
  inputs.push_back(s);
  return Decode(inputs.back(), "model.pth:archive/data.pkl", Profile::kTorchStateDict);
}

TEST(PickleTest, TorchProfileDecodesStorageAndTensor) {
  auto d = Torch(StateDictPickle());
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_EQ(d->root->kind, Kind::kDict);
  const Value* t = d->root->Find("w");
  ASSERT_NE(t, nullptr);
  ASSERT_EQ(t->kind, Kind::kTensor);
  EXPECT_EQ(t->int_value, 1);
  ASSERT_EQ(t->items.size(), 3u);
  EXPECT_EQ(t->items[0]->kind, Kind::kStorage);
  EXPECT_EQ(t->items[0]->data, "FloatStorage");
  EXPECT_EQ(t->items[0]->items[0]->data, "0");
  EXPECT_EQ(t->items[1]->items[1]->int_value, 3);
  EXPECT_EQ(t->items[2]->items[1]->int_value, 2);
}

// Each profile accepts only its own globals: a state_dict is refused as a CIFAR batch, numpy's
// reconstructors and made-up storage classes inside a state_dict are refused too.
TEST(PickleTest, ProfilesAcceptOnlyTheirOwnGlobals) {
  auto as_numpy = D(StateDictPickle());
  EXPECT_EQ(as_numpy.status().code(), Code::kPermissionDenied);
  EXPECT_NE(as_numpy.status().message().find("refused global 'collections.OrderedDict'"), std::string::npos)
      << as_numpy.status().message();
  auto numpy_in_torch =
      Torch(B("\x80\x02"
              "cnumpy\ndtype\nX\x02\x00\x00\x00u1\x85R."));
  EXPECT_EQ(numpy_in_torch.status().code(), Code::kPermissionDenied);
  EXPECT_NE(numpy_in_torch.status().message().find("model.pth:archive/data.pkl: pickle byte offset 2: refused "
                                                   "global 'numpy.dtype' (not part of a state_dict"),
            std::string::npos)
      << numpy_in_torch.status().message();
  for (const char* storage : {"Storage", "os.system", "Float Storage", "FloatStorage\x01"}) {
    auto d = Torch(StateDictPickle(storage));
    EXPECT_EQ(d.status().code(), Code::kPermissionDenied) << storage << ": " << d.status().ToString();
  }
  // A persistent id that is not a storage, and a storage class called directly.
  EXPECT_TRUE(Torch(B("\x80\x02X\x01\x00\x00\x00xQ.")).status().IsCorruption());
  EXPECT_TRUE(Torch(B("\x80\x02"
                      "ctorch\nFloatStorage\n)R."))
                  .status()
                  .IsCorruption());
}

// Every size and count of the state_dict path is bounded as for CIFAR batches: a memo index
// far past the input (was accepted up to 1,000,000 entries whatever the input's size) and
// tensors whose size and stride differ in rank are errors naming the input.
TEST(PickleTest, TorchProfileBoundsMemoAndTensorShapes) {
  auto memo = Torch(B("\x80\x02}r\x3f\x42\x0f\x00."));
  ASSERT_TRUE(memo.status().IsCorruption()) << memo.status().ToString();
  EXPECT_NE(memo.status().message().find("model.pth:archive/data.pkl: pickle byte offset 3: memo index 999999"),
            std::string::npos)
      << memo.status().message();
  std::string rank = StateDictPickle();
  rank.replace(rank.find(B("K\x01K\x02\x86\x89")), 6, B("K\x01\x85\x89"));  // stride (1,)
  auto d = Torch(rank);
  ASSERT_TRUE(d.status().IsCorruption()) << d.status().ToString();
  EXPECT_NE(d.status().message().find("differ in rank"), std::string::npos) << d.status().message();
}

TEST(PickleTest, TruncatedAndCorruptInputsAreErrorsNotCrashes) {
  const std::vector<std::string> bad = {
      "",
      B("\x80"),
      B("\x80\x02"),                                   // no STOP
      B("\x80\x02T\xff\xff\xff\x7f" "abc."),           // BINSTRING length past the end
      B("\x80\x02X\x10\x00\x00\x00short."),            // BINUNICODE length past the end
      B("\x80\x04\x8e\xff\xff\xff\xff\xff\xff\xff\xff."),  // BINBYTES8 huge
      B("\x80\x04\x95\x00\x00\x00\x00\x01\x00\x00\x00."),  // FRAME past the end
      B("\x80\x02h\x05."),                             // BINGET of nothing
      B("\x80\x02j\xff\xff\xff\xff."),                 // LONG_BINGET out of range
      B("\x80\x02q\x01."),                             // BINPUT on empty stack
      B("\x80\x02s."),                                 // SETITEM underflow
      B("\x80\x02K\x01K\x02" "a."),                    // APPEND to an int
      B("\x80\x02" "e."),                                 // APPENDS without MARK
      B("\x80\x02\x87."),                              // TUPLE3 underflow
      B("\x80\x02(K\x01" "d."),                        // DICT with odd items
      B("\x80\x09."),                                  // unknown protocol
      B("\x80\x02\xff."),                              // unknown opcode
      B("\x80\x02" "cnumpy\ndtype"),                   // GLOBAL without newline
      B("\x80\x02\x8a\x09\x01\x02\x03\x04\x05\x06\x07\x08\x09."),  // LONG1 > 64 bits
      B("I12x\n."),                                    // bad INT
      B("S'abc\n."),                                   // unterminated STRING
      B("\x80\x02K\x01K\x02R."),                       // REDUCE of an int
      B("\x80\x02" "cnumpy\ndtype\nK\x01\x85R."),      // dtype with a non-text code
      B("\x80\x02K\x01" "b."),                         // BUILD underflow
      B("\x80\x02" "cnumpy\ndtype\nX\x02\x00\x00\x00u1\x85RK\x01" "b."),  // BUILD dtype with bad state
  };
  for (size_t i = 0; i < bad.size(); ++i) {
    auto d = D(bad[i]);
    EXPECT_FALSE(d.ok()) << "case " << i;
    if (!d.ok()) EXPECT_NE(d.status().message().find("test.pkl"), std::string::npos) << d.status().message();
  }
}

TEST(PickleTest, EveryPrefixOfAValidPickleFailsCleanly) {
  std::string p = B("\x80\x02}q\x01(U\x04" "dataq\x02" "cnumpy.core.multiarray\n_reconstruct\nq\x03" "cnumpy\nndarray\nq\x04"
                    "K\x00\x85U\x01" "b\x87Rq\x05(K\x01K\x01M\x00\x0c\x86" "cnumpy\ndtype\nq\x06U\x02u1K\x00K\x01\x87Rq\x07"
                    "(K\x03U\x01|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89T\x00\x0c\x00\x00");
  p += std::string(3072, '\x05') + B("tbU\x06labelsq\x08]q\x09K\x03" "au.");
  auto full = Decode(p, "test.pkl");
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  const Value* arr = full->root->Find("data");
  ASSERT_EQ(arr->kind, Kind::kNdArray);
  EXPECT_EQ(arr->shape, (std::vector<int64_t>{1, 3072}));
  EXPECT_EQ(arr->dtype()->data, "u1");
  EXPECT_EQ(arr->data.size(), 3072u);
  EXPECT_EQ(arr->data.data(), p.data() + p.find(std::string(16, '\x05')));  // a view, not a copy
  for (size_t n = 0; n < p.size(); n += (n < 400 ? 1 : 97)) {
    EXPECT_FALSE(D(p.substr(0, n)).ok()) << n;
  }
}

TEST(PickleTest, IntDtypeSizes) {
  bool s = false;
  EXPECT_EQ(IntDtypeSize("u1", &s), 1);
  EXPECT_FALSE(s);
  EXPECT_EQ(IntDtypeSize("<i8", &s), 8);
  EXPECT_TRUE(s);
  EXPECT_EQ(IntDtypeSize("f4", &s), 0);
  EXPECT_EQ(IntDtypeSize("u3", &s), 0);
}

}  // namespace
}  // namespace tb::dataset::pickle
