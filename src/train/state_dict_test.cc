#include "train/state_dict.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "train/stored_zip_testing.h"
#include "util/fs.h"
#include "util/testing.h"

namespace tb::train {
namespace {

using testing::PutLe16;
using testing::PutLe32;

// The stored zip torch.save writes, with 3 bytes of extra field like its alignment padding.
std::string Zip(const std::vector<std::pair<std::string, std::string_view>>& records) {
  return testing::StoredZip(records, 3);
}

std::string Str(const std::string& s) {  // SHORT_BINUNICODE... as BINUNICODE ('X')
  std::string out = "X";
  PutLe32(&out, s.size());
  return out + s;
}

// {"w": tensor 2x3 (a transposed view of a 7-float storage, offset 1)} in an OrderedDict with
// an attribute dict, laid out as Python's protocol 2 writes it.
std::string TensorPickle(const std::string& global = "torch._utils\n_rebuild_tensor_v2\n") {
  using namespace std::string_literals;
  std::string p = "\x80\x02"s;
  p += "ccollections\nOrderedDict\nq\x00)Rq\x01("s;
  p += Str("w") + "c" + global + "q\x02(("s;
  p += Str("storage") + "ctorch\nFloatStorage\nq\x03"s + Str("0") + Str("cpu") + "K\x07tQ"s;
  p += "K\x01K\x02K\x03\x86K\x01K\x02\x86\x89"s;
  p += "ccollections\nOrderedDict\n)Rtq\x04R"s;
  p += "u}b."s;  // SETITEMS; BUILD with an (ignored) attribute dict; STOP
  return p;
}

std::string Floats(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4);
}

TEST(StateDict, ReadsAnOrderedDictWithAStridedView) {
  std::string pkl = TensorPickle();
  // Storage of 7 floats; the view: offset 1, size (2, 3), stride (1, 2).
  std::string file = Zip({{"archive/data.pkl", pkl},
                          {"archive/data/0", Floats({0, 1, 2, 3, 4, 5, 6})},
                          {"archive/version", "3\n"}});
  Result<StateDict> d = ParseStateDict(file, "mem.pth");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_EQ(d->tensors.size(), 1u);
  const StoredTensor& t = d->tensors[0];
  EXPECT_EQ(t.name, "w");
  EXPECT_EQ(t.storage_type, "FloatStorage");
  EXPECT_EQ(t.sizes, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(t.strides, (std::vector<int64_t>{1, 2}));
  Result<std::vector<float>> v = TensorFloats(*d, t);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v, (std::vector<float>{1, 3, 5, 2, 4, 6}));
}

TEST(StateDict, RefusesForeignGlobalsAndBrokenFiles) {
  std::string evil = TensorPickle("os\nsystem\n");
  Result<StateDict> d = ParseStateDict(Zip({{"a/data.pkl", evil}}), "evil.pth");
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("refused global 'os.system'"), std::string::npos) << d.status().message();

  EXPECT_NE(ParseStateDict("PK junk", "j.pth").status().message().find("j.pth"), std::string::npos);
  std::string pkl = TensorPickle();
  d = ParseStateDict(Zip({{"archive/data.pkl", pkl}}), "nodata.pth");
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("archive/data/0 missing"), std::string::npos);
  d = ParseStateDict(Zip({{"archive/data.pkl", pkl.substr(0, pkl.size() - 5)}}), "cut.pth");
  EXPECT_TRUE(d.status().IsCorruption());
  // A storage too small for the view.
  d = ParseStateDict(Zip({{"archive/data.pkl", pkl}, {"archive/data/0", Floats({0, 1, 2})}}), "s.pth");
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(TensorFloats(*d, d->tensors[0]).status().IsCorruption());
}

// {"w": a tensor over storage "0" whose size and stride tuples are the pickle ops given}.
std::string ViewPickle(const std::string& sizes, const std::string& strides) {
  using namespace std::string_literals;
  std::string p = "\x80\x02}("s + Str("w") + "ctorch._utils\n_rebuild_tensor_v2\n(("s;
  p += Str("storage") + "ctorch\nFloatStorage\n"s + Str("0") + Str("cpu") + "K\x10tQK\x00"s;
  p += "("s + sizes + "t("s + strides + "t\x89}tRu."s;
  return p;
}

// Files built to break the reader (found by the state_dict fuzz target; its corpus keeps
// them as regress_*) fail with a Status: no leak, stack overflow, huge allocation, integer
// overflow or read outside the file.
TEST(StateDict, HostileStructuresFailCleanly) {
  using namespace std::string_literals;
  // A list appended to itself through the memo: a cycle (was a leak).
  Result<StateDict> d = ParseStateDict(Zip({{"a/data.pkl", "\x80\x02]q\x00h\x00" "a."s}}), "cycle.pth");
  EXPECT_TRUE(d.status().IsInvalidArgument()) << d.status().ToString();
  // Tuples nested 60,000 deep (was a stack overflow freeing them).
  d = ParseStateDict(Zip({{"a/data.pkl", "\x80\x02N"s + std::string(60000, '\x85') + "."}}), "deep.pth");
  EXPECT_TRUE(d.status().IsInvalidArgument()) << d.status().ToString();
  // A 2^30 x 2^30 broadcast view of 16 floats (was a 4 EiB allocation), and sizes whose
  // product overflows int64 (was undefined behaviour).
  const std::string storage = Floats(std::vector<float>(16, 1.0f));
  for (const auto& [sizes, strides] : std::vector<std::pair<std::string, std::string>>{
           {"J\x00\x00\x00\x40J\x00\x00\x00\x40"s, "K\x00K\x00"s},
           {"\x8a\x08"s + std::string("\x00\x00\x00\x00\x00\x00\x00\x40", 8) + "K\x04", "K\x00K\x00"s},
           {"K\x04"s, "\x8a\x08"s + std::string("\x00\x00\x00\x00\x00\x00\x00\x40", 8)}}) {
    d = ParseStateDict(Zip({{"a/data.pkl", ViewPickle(sizes, strides)}, {"a/data/0", storage}}), "view.pth");
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    Result<std::vector<float>> v = TensorFloats(*d, d->tensors[0]);
    EXPECT_TRUE(v.status().IsCorruption()) << v.status().ToString();
  }
  // A 4x4 view of the same 16 floats still reads.
  d = ParseStateDict(Zip({{"a/data.pkl", ViewPickle("K\x04K\x04", "K\x04K\x01")}, {"a/data/0", storage}}), "ok.pth");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(TensorFloats(*d, d->tensors[0])->size(), 16u);
  // A zip64 local-header offset near 2^64 (was a read before the buffer after wrapping).
  std::string cd;
  PutLe32(&cd, 0x02014b50);
  for (int i = 0; i < 6; ++i) PutLe16(&cd, i < 2 ? 20 : 0);
  PutLe32(&cd, 0); PutLe32(&cd, 0); PutLe32(&cd, 0);
  PutLe16(&cd, 10); PutLe16(&cd, 12); PutLe16(&cd, 0); PutLe16(&cd, 0); PutLe16(&cd, 0); PutLe32(&cd, 0);
  PutLe32(&cd, 0xFFFFFFFF);
  cd += "a/data.pkl";
  PutLe16(&cd, 1); PutLe16(&cd, 8); PutLe32(&cd, 0xFFFFFFF0); PutLe32(&cd, 0xFFFFFFFF);  // zip64: offset
  std::string file = cd;
  PutLe32(&file, 0x06054b50); PutLe16(&file, 0); PutLe16(&file, 0); PutLe16(&file, 1); PutLe16(&file, 1);
  PutLe32(&file, static_cast<uint32_t>(cd.size())); PutLe32(&file, 0); PutLe16(&file, 0);
  d = ParseStateDict(file, "wrap.pth");
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("bad local header"), std::string::npos) << d.status().ToString();
}

// The fuzz target's seeds are valid model files: torch_save_linear.pth is Python torch 1.13's
// torch.save(nn.Linear(3, 2).state_dict()) after torch.manual_seed(0); the others come from
// tests/fuzz/make_state_dict_seeds.py (torch.save's layout and libtorch's pickle_save form).
TEST(StateDict, ReadsTheFuzzSeeds) {
  const std::string dir = std::string(TB_SOURCE_DIR) + "/tests/fuzz/corpus/state_dict/";
  Result<std::string> real = ReadFile(dir + "torch_save_linear.pth");
  ASSERT_TRUE(real.ok()) << real.status().ToString();
  Result<StateDict> linear = ParseStateDict(*real, "torch_save_linear.pth");
  ASSERT_TRUE(linear.ok()) << linear.status().ToString();
  ASSERT_EQ(linear->tensors.size(), 2u);
  EXPECT_EQ(linear->tensors[0].name, "weight");
  EXPECT_EQ(linear->tensors[0].sizes, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(linear->tensors[1].name, "bias");
  Result<std::vector<float>> bias = TensorFloats(*linear, linear->tensors[1]);
  ASSERT_TRUE(bias.ok());
  ASSERT_EQ(bias->size(), 2u);
  EXPECT_NEAR((*bias)[0], -0.0114f, 1e-4);
  EXPECT_NEAR((*bias)[1], 0.4578f, 1e-4);

  for (const char* name : {"python_ordered_dict.pth", "libtorch_pickle_save.pth"}) {
    std::string path = dir + name;
    Result<std::string> bytes = ReadFile(path);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    Result<StateDict> d = ParseStateDict(*bytes, name);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    ASSERT_EQ(d->tensors.size(), 2u) << name;
    EXPECT_EQ(d->tensors[0].name, "fc.weight");
    EXPECT_EQ(d->tensors[1].name, "fc.bias");
    // fc.weight is a transposed 2x3 view of storage 0 (0.5 * i) at offset 1.
    Result<std::vector<float>> w = TensorFloats(*d, d->tensors[0]);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    EXPECT_EQ(*w, (std::vector<float>{0.5, 1.5, 2.5, 1.0, 2.0, 3.0}));
    Result<std::vector<float>> b = TensorFloats(*d, d->tensors[1]);
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(*b, (std::vector<float>{1.0, -2.0, 3.5}));
  }
}

// The real thing: Python's default torch.save(net.state_dict()) and a plain dict.
TEST(StateDict, ReadsFilesWrittenByPythonTorch) {
  TB_REQUIRE_PEER(std::system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") == 0,
                  "/usr/bin/python3 with torch");
  tb::testing::TempDir tmp;
  std::string script = tmp / "save.py";
  ASSERT_TRUE(WriteFileAtomic(script, R"(
import sys, torch, torch.nn as nn
torch.manual_seed(0)
net = nn.Sequential(nn.Conv2d(3, 6, 5), nn.Linear(4, 2))
torch.save(net.state_dict(), sys.argv[1] + "/ordered.pth")
torch.save({k: v.t() if v.dim() == 2 else v for k, v in net.state_dict().items()}, sys.argv[1] + "/plain.pth")
with open(sys.argv[1] + "/values.txt", "w") as f:
    for k, v in net.state_dict().items():
        f.write("%s %s\n" % (k, " ".join(repr(float(x)) for x in v.flatten())))
)").ok());
  ASSERT_EQ(std::system(("/usr/bin/python3 " + script + " " + tmp.path()).c_str()), 0);
  Result<StateDict> d = ParseStateDict(*ReadFile(tmp / "ordered.pth"), "ordered.pth");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_EQ(d->tensors.size(), 4u);
  EXPECT_EQ(d->tensors[0].name, "0.weight");
  EXPECT_EQ(d->tensors[0].sizes, (std::vector<int64_t>{6, 3, 5, 5}));
  EXPECT_EQ(d->tensors[3].name, "1.bias");
  std::string values = *ReadFile(tmp / "values.txt");
  std::vector<float> w = *TensorFloats(*d, d->tensors[2]);  // 1.weight, 2x4
  ASSERT_EQ(w.size(), 8u);
  size_t line = values.find("1.weight ");
  ASSERT_NE(line, std::string::npos);
  EXPECT_FLOAT_EQ(std::stof(values.substr(line + 9)), w[0]);

  Result<StateDict> plain = ParseStateDict(*ReadFile(tmp / "plain.pth"), "plain.pth");
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  std::vector<float> wt = *TensorFloats(*plain, plain->tensors[2]);  // the transposed view
  EXPECT_EQ(plain->tensors[2].sizes, (std::vector<int64_t>{4, 2}));
  EXPECT_EQ(wt[0], w[0]);
  EXPECT_EQ(wt[1], w[4]);
  EXPECT_EQ(wt[2], w[1]);
}

}  // namespace
}  // namespace tb::train
