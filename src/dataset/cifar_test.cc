#include "dataset/cifar.h"

#include <gtest/gtest.h>

#include "dataset/cifar_writer.h"
#include "util/fs.h"
#include "util/testing.h"

namespace tb::dataset {
namespace {

// A protocol-2 batch of n images whose pixels encode (image, byte) and labels i % 10.
std::string MakePickle(size_t n, uint8_t label_base = 0, int protocol = 2) {
  static std::string pixels;
  pixels.resize(n * kImageBytes);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<char>((i / kImageBytes * 31 + i) & 0xFF);
  BatchContent b;
  b.batch_label = "training batch 1 of 1";
  for (size_t i = 0; i < n; ++i) b.labels.push_back(static_cast<uint8_t>((label_base + i) % 10));
  b.pixels = pixels;
  auto e = EncodeBatch(b, protocol);
  EXPECT_TRUE(e.ok());
  return e->head + std::string(e->pixels) + e->tail;
}

void Replace(std::string* s, const std::string& from, const std::string& to) {
  size_t at = s->find(from);
  ASSERT_NE(at, std::string::npos) << from;
  s->replace(at, from.size(), to);
}

TEST(CifarTest, DecodesPickleBatch) {
  std::string p = MakePickle(3);
  auto b = DecodeBatchBytes(p, "data_batch_1");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->format, "pickle");
  EXPECT_EQ(b->count(), 3u);
  EXPECT_EQ(b->labels, (std::vector<uint8_t>{0, 1, 2}));
  EXPECT_EQ(b->pixels[kImageBytes + 5], static_cast<uint8_t>(31 + kImageBytes + 5));
}

TEST(CifarTest, DecodesBytesIntoASplitAndAppends) {
  std::string p = MakePickle(3, 4);
  auto one = DecodeSplitBytes(p, "mem://x/data_batch_1");
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(one->count, 3u);
  EXPECT_EQ(one->files, 1);
  EXPECT_EQ(one->file_bytes, p.size());
  EXPECT_EQ(one->labels, (std::vector<uint8_t>{4, 5, 6}));
  Split both;
  AppendSplit(&both, *one);
  AppendSplit(&both, *one);
  EXPECT_EQ(both.count, 6u);
  EXPECT_EQ(both.files, 2);
  EXPECT_EQ(both.file_bytes, 2 * p.size());
  ASSERT_EQ(both.pixels.size(), 6 * kImageBytes);
  EXPECT_EQ(both.pixels[4 * kImageBytes + 5], static_cast<uint8_t>(31 + kImageBytes + 5));
  auto bad = DecodeSplitBytes(p.substr(0, 40), "mem://x/data_batch_2");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("mem://x/data_batch_2"), std::string::npos) << bad.status().message();
}

TEST(CifarTest, DecodesBinaryRecordsCifar10And100) {
  std::string bin;
  for (int i = 0; i < 3; ++i) {
    bin.push_back(static_cast<char>(7 - i));
    bin += std::string(kImageBytes, static_cast<char>(i));
  }
  auto b = DecodeBatchBytes(bin, "cifar-10-batches-bin/data_batch_1.bin");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->format, "binary");
  EXPECT_EQ(b->labels, (std::vector<uint8_t>{7, 6, 5}));
  EXPECT_EQ(b->pixels[2 * kImageBytes], 2);
  std::string bin100;
  for (int i = 0; i < 2; ++i) {
    bin100.push_back(static_cast<char>(i));       // coarse
    bin100.push_back(static_cast<char>(50 + i));  // fine
    bin100 += std::string(kImageBytes, static_cast<char>(9));
  }
  auto c = DecodeBatchBytes(bin100, "cifar-100-binary/train.bin");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->labels, (std::vector<uint8_t>{50, 51}));
  EXPECT_EQ(c->coarse_labels, (std::vector<uint8_t>{0, 1}));
  EXPECT_FALSE(DecodeBatchBytes(bin.substr(1), "data_batch_1.bin").ok());
}

TEST(CifarTest, RejectsWrongDtypeShapeAndCounts) {
  {
    std::string p = MakePickle(2);
    Replace(&p, "U\x02u1", "U\x02" "f4");
    auto b = DecodeBatchBytes(p, "f.pkl");
    ASSERT_FALSE(b.ok());
    EXPECT_NE(b.status().message().find("uint8"), std::string::npos) << b.status().message();
  }
  {
    std::string p = MakePickle(2);
    Replace(&p, std::string("K\x02M\x00\x0c", 5), std::string("K\x04M\x00\x06", 5));  // 4 x 1536
    auto b = DecodeBatchBytes(p, "f.pkl");
    ASSERT_FALSE(b.ok());
    EXPECT_NE(b.status().message().find("f.pkl: 'data'"), std::string::npos) << b.status().message();
  }
  {
    std::string p = MakePickle(2);
    Replace(&p, std::string("K\x02M\x00\x0c", 5), std::string("K\x03M\x00\x0c", 5));  // 3 rows, 2 labels
    EXPECT_FALSE(DecodeBatchBytes(p, "f.pkl").ok());
  }
  {
    std::string p = MakePickle(2);
    Replace(&p, "U\x06labels", "U\x06lebals");
    auto b = DecodeBatchBytes(p, "f.pkl");
    ASSERT_FALSE(b.ok());
    EXPECT_NE(b.status().message().find("labels"), std::string::npos);
  }
  {
    std::string p = MakePickle(2);
    Replace(&p, "K\x01" "e", "M\x00\x01" "e");  // label 256
    EXPECT_FALSE(DecodeBatchBytes(p, "f.pkl").ok());
  }
  // Truncated anywhere: an error, never a crash.
  std::string p = MakePickle(2);
  for (size_t n : {size_t{0}, size_t{1}, size_t{50}, size_t{200}, p.size() / 2, p.size() - 3, p.size() - 1}) {
    EXPECT_FALSE(DecodeBatchBytes(p.substr(0, n), "cut.pkl").ok()) << n;
  }
}

TEST(CifarTest, LoadSplitKeepsNumericFileOrderAndFindsTheFolder) {
  testing::TempDir dir;
  std::string ds = dir / "cifar-10-batches-py";
  ASSERT_TRUE(MakeDirs(ds).ok());
  ASSERT_TRUE(WriteFileAtomic(ds + "/batches.meta", EncodeMeta(Cifar10LabelNames(), 2, 2)).ok());
  ASSERT_TRUE(WriteFileAtomic(ds + "/data_batch_1", MakePickle(2, 1)).ok());
  ASSERT_TRUE(WriteFileAtomic(ds + "/data_batch_2", MakePickle(3, 2)).ok());
  ASSERT_TRUE(WriteFileAtomic(ds + "/data_batch_10", MakePickle(1, 9, 4)).ok());
  ASSERT_TRUE(WriteFileAtomic(ds + "/test_batch", MakePickle(4, 0)).ok());
  auto found = FindDatasetDir(dir.path());
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(*found, ds);
  EXPECT_TRUE(FindDatasetDir(ds + "/..").ok());
  EXPECT_TRUE(FindDatasetDir(dir / "nothing").status().IsNotFound());
  for (int threads : {1, 3}) {
    auto s = LoadSplit(ds, true, threads);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_EQ(s->count, 6u);
    EXPECT_EQ(s->files, 3);
    EXPECT_EQ(s->labels, (std::vector<uint8_t>{1, 2, 2, 3, 4, 9}));
    EXPECT_EQ(s->pixels.size(), 6 * kImageBytes);
    EXPECT_EQ(s->pixels[2 * kImageBytes], 0);           // first image of data_batch_2
    EXPECT_EQ(s->pixels[3 * kImageBytes + 1], 32);      // second image of data_batch_2
  }
  auto t = LoadSplit(ds, false, 2);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->count, 4u);
  // A corrupt file fails the split and is named.
  ASSERT_TRUE(WriteFileAtomic(ds + "/data_batch_2", MakePickle(3).substr(0, 500)).ok());
  auto bad = LoadSplit(ds, true, 2);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("data_batch_2"), std::string::npos);
}

// With a list of the names a manifest gives, only those files are read: a stale or added
// data_batch in the folder is not, a listed one that is absent or not a batch fails, named.
TEST(CifarTest, LoadSplitReadsOnlyTheListedFiles) {
  testing::TempDir dir;
  std::string ds = dir / "cifar-10-batches-py";
  ASSERT_TRUE(MakeDirs(ds).ok());
  ASSERT_TRUE(WriteFileAtomic(ds + "/data_batch_1", MakePickle(2, 1)).ok());
  ASSERT_TRUE(WriteFileAtomic(ds + "/data_batch_2", MakePickle(3, 2)).ok());
  ASSERT_TRUE(WriteFileAtomic(ds + "/data_batch_9", MakePickle(5, 7)).ok());  // not listed
  ASSERT_TRUE(WriteFileAtomic(ds + "/test_batch", MakePickle(4, 0)).ok());
  ASSERT_TRUE(WriteFileAtomic(ds + "/batches.meta", EncodeMeta(Cifar10LabelNames(), 2, 2)).ok());
  const std::vector<std::string> listed = {"batches.meta", "data_batch_2", "data_batch_1", "test_batch",
                                           "readme.html", "sub/data_batch_3"};
  auto files = SplitFiles(ds, true, &listed);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  EXPECT_EQ(*files, (std::vector<std::string>{ds + "/data_batch_1", ds + "/data_batch_2"}));
  auto all = LoadSplit(ds, true, 2);  // no list: every batch in the folder
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->count, 10u);
  auto s = LoadSplit(ds, true, 2, &listed);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->count, 5u);
  EXPECT_EQ(s->files, 2);
  EXPECT_EQ(s->labels, (std::vector<uint8_t>{1, 2, 2, 3, 4}));
  auto picked = LoadSplitImages(ds, true, 2, [](size_t n) { return std::vector<uint32_t>{static_cast<uint32_t>(n - 1)}; },
                                &listed);
  ASSERT_TRUE(picked.ok());
  EXPECT_EQ(picked->labels, std::vector<uint8_t>{4});
  auto t = LoadSplit(ds, false, 2, &listed);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->count, 4u);
  // No training batch among the listed names: NotFound, saying the list was used.
  const std::vector<std::string> none = {"batches.meta", "test_batch"};
  auto empty = LoadSplit(ds, true, 2, &none);
  ASSERT_FALSE(empty.ok());
  EXPECT_TRUE(empty.status().IsNotFound());
  EXPECT_NE(empty.status().message().find("manifest"), std::string::npos) << empty.status().message();
  // A listed batch that is absent is an error naming it, not a smaller split.
  const std::vector<std::string> absent = {"data_batch_1", "data_batch_4"};
  auto gone = LoadSplit(ds, true, 2, &absent);
  ASSERT_FALSE(gone.ok());
  EXPECT_NE(gone.status().message().find(ds + "/data_batch_4"), std::string::npos) << gone.status().message();
  // A listed data_batch that is not a CIFAR batch (its md5 may well match the manifest)
  // fails the split, named, instead of being skipped.
  ASSERT_TRUE(WriteFileAtomic(ds + "/data_batch_3", "<html>not a batch</html>").ok());
  const std::vector<std::string> junk = {"data_batch_1", "data_batch_3"};
  auto bad = LoadSplit(ds, true, 2, &junk);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(ds + "/data_batch_3"), std::string::npos) << bad.status().message();
}

// Every file decoded alone by the pickle VM (DecodeBatchBytes), concatenated in split order.
Batch DecodeAll(const std::string& ds, bool train) {
  Batch all;
  auto files = SplitFiles(ds, train);
  EXPECT_TRUE(files.ok());
  for (const std::string& f : *files) {
    auto b = DecodeBatchFile(f);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    all.labels.insert(all.labels.end(), b->labels.begin(), b->labels.end());
    all.pixels.insert(all.pixels.end(), b->pixels.begin(), b->pixels.end());
  }
  return all;
}

void ExpectSameAsVm(const std::string& ds) {
  Batch vm = DecodeAll(ds, true);
  for (int threads : {1, 2, 5}) {
    auto s = LoadSplit(ds, true, threads);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_EQ(s->count, vm.labels.size());
    EXPECT_EQ(s->labels, vm.labels);
    ASSERT_EQ(s->pixels.size(), vm.pixels.size());
    EXPECT_TRUE(std::equal(s->pixels.begin(), s->pixels.end(), vm.pixels.begin())) << ds << " threads " << threads;
  }
  // Some images picked across files: the same bytes as the whole split's.
  auto picked = LoadSplitImages(ds, true, 2, [](size_t n) {
    return std::vector<uint32_t>{static_cast<uint32_t>(n - 1), 0, static_cast<uint32_t>(n / 2), 1};
  });
  ASSERT_TRUE(picked.ok()) << picked.status().ToString();
  size_t n = vm.labels.size();
  std::vector<size_t> want = {n - 1, 0, n / 2, 1};
  ASSERT_EQ(picked->count, 4u);
  for (size_t j = 0; j < 4; ++j) {
    EXPECT_EQ(picked->labels[j], vm.labels[want[j]]);
    EXPECT_TRUE(std::equal(picked->pixels.begin() + j * kImageBytes, picked->pixels.begin() + (j + 1) * kImageBytes,
                           vm.pixels.begin() + want[j] * kImageBytes));
  }
  auto out_of_range = LoadSplitImages(ds, true, 2, [](size_t n) { return std::vector<uint32_t>{static_cast<uint32_t>(n)}; });
  EXPECT_FALSE(out_of_range.ok());
}

// LoadSplit reads pixels with pread at the offsets pass 1 found; it must give exactly what the
// pickle VM gives for every layout the writer produces (protocols 2 and 4, str and bytes
// keys), for binary records (decoded again in pass 2) and for files of 0, 1 and many images.
TEST(CifarTest, LoadSplitMatchesTheVmForEveryLayout) {
  struct Variant {
    int protocol;
    std::vector<std::pair<std::string, std::string>> edits;
  };
  const std::vector<Variant> variants = {
      {2, {}},                                                                   // Python 2 str (bytes) keys
      {2, {{"U\x04" "data", std::string("X\x04\0\0\0data", 9)}, {"U\x06labels", std::string("X\x06\0\0\0labels", 11)}}},
      {4, {}},                                                                   // Python 3 str keys
      {4, {{"\x8c\x04" "data", "C\x04" "data"}, {"\x8c\x06labels", "C\x06labels"}}},  // bytes keys
  };
  for (const Variant& v : variants) {
    testing::TempDir dir;
    std::string ds = dir / "cifar-10-batches-py";
    ASSERT_TRUE(MakeDirs(ds).ok());
    ASSERT_TRUE(WriteFileAtomic(ds + "/batches.meta", EncodeMeta(Cifar10LabelNames(), 2, 2)).ok());
    size_t sizes[] = {3, 1, 0, 2800, 2};  // 2,800 images: over 8 MiB, read in pieces
    for (int f = 0; f < 5; ++f) {
      std::string p = MakePickle(sizes[f], static_cast<uint8_t>(f), v.protocol);
      for (const auto& [from, to] : v.edits) Replace(&p, from, to);
      ASSERT_TRUE(DecodeBatchBytes(p, "x").ok());
      ASSERT_TRUE(WriteFileAtomic(ds + "/data_batch_" + std::to_string(f + 1), p).ok());
    }
    ExpectSameAsVm(ds);
  }
  testing::TempDir dir;
  std::string ds = dir / "cifar-10-batches-bin";
  ASSERT_TRUE(MakeDirs(ds).ok());
  std::string names;
  for (const std::string& name : Cifar10LabelNames()) names += name + "\n";
  ASSERT_TRUE(WriteFileAtomic(ds + "/batches.meta.txt", names).ok());
  for (int f = 1; f <= 3; ++f) {
    std::string bin;
    for (int i = 0; i < 4 * f; ++i) {
      bin.push_back(static_cast<char>((i + f) % 10));
      for (size_t k = 0; k < kImageBytes; ++k) bin.push_back(static_cast<char>((f * 7 + i * 3 + k) & 0xFF));
    }
    ASSERT_TRUE(WriteFileAtomic(ds + "/data_batch_" + std::to_string(f) + ".bin", bin).ok());
  }
  ExpectSameAsVm(ds);
}

// Hostile and broken files fail the load with the VM's error, naming the file.
TEST(CifarTest, LoadSplitRefusesHostileAndTruncatedFiles) {
  testing::TempDir dir;
  std::string ds = dir / "cifar-10-batches-py";
  ASSERT_TRUE(MakeDirs(ds).ok());
  ASSERT_TRUE(WriteFileAtomic(ds + "/batches.meta", EncodeMeta(Cifar10LabelNames(), 2, 2)).ok());
  ASSERT_TRUE(WriteFileAtomic(ds + "/data_batch_1", MakePickle(5)).ok());
  std::string good = MakePickle(5, 1);
  std::string hostile = good;
  Replace(&hostile, "cnumpy.core.multiarray\n_reconstruct\n", "cos\nsystem\n");
  for (const auto& [bad, what] : std::vector<std::pair<std::string, std::string>>{
           {hostile, "refused global 'os.system'"},
           {good.substr(0, good.size() - 2), "truncated"},            // cut inside the tail
           {good.substr(0, good.size() / 2), "runs past the end"},    // cut inside the pixels
           {std::string(), "empty file"}}) {
    ASSERT_TRUE(WriteFileAtomic(ds + "/data_batch_2", bad).ok());
    auto s = LoadSplit(ds, true, 2);
    ASSERT_FALSE(s.ok()) << what;
    EXPECT_NE(s.status().message().find(ds + "/data_batch_2"), std::string::npos) << s.status().ToString();
    EXPECT_NE(s.status().message().find(what), std::string::npos) << s.status().ToString();
    auto vm = DecodeBatchFile(ds + "/data_batch_2");
    ASSERT_FALSE(vm.ok());
    EXPECT_EQ(s.status().ToString(), vm.status().ToString());
    EXPECT_FALSE(LoadSplitImages(ds, true, 2, [](size_t) { return std::vector<uint32_t>{0}; }).ok());
  }
}

// A protocol-`protocol` batch of n images, labels i % 10, except label `bad` at index `at`.
std::string BatchWithLabel(size_t n, size_t at, uint8_t bad, int protocol) {
  std::string pixels(n * kImageBytes, '\x11');
  BatchContent b;
  b.batch_label = "training batch";
  for (size_t i = 0; i < n; ++i) b.labels.push_back(static_cast<uint8_t>(i % 10));
  b.labels[at] = bad;  // the hostile value, written as any label is
  b.pixels = pixels;
  auto e = EncodeBatch(b, protocol);
  EXPECT_TRUE(e.ok());
  return e->head + std::string(e->pixels) + e->tail;
}

// A label that decodes (0..255) but names no class fails every load at decode, naming the
// file, the label, its index and the meta file that gives the class count.
TEST(CifarTest, LabelsOutsideTheClassRangeAreRefusedNamingFileAndIndex) {
  for (int protocol : {2, 4}) {
    for (uint8_t bad : {uint8_t{10}, uint8_t{255}}) {
      testing::TempDir dir;
      std::string ds = dir / "cifar-10-batches-py";
      ASSERT_TRUE(MakeDirs(ds).ok());
      ASSERT_TRUE(WriteFileAtomic(ds + "/batches.meta", EncodeMeta(Cifar10LabelNames(), 30, 2)).ok());
      ASSERT_TRUE(WriteFileAtomic(ds + "/data_batch_1", MakePickle(30, 0, protocol)).ok());
      ASSERT_TRUE(WriteFileAtomic(ds + "/data_batch_2", MakePickle(30, 3, protocol)).ok());
      ASSERT_TRUE(WriteFileAtomic(ds + "/data_batch_3", BatchWithLabel(30, 17, bad, protocol)).ok());
      ASSERT_TRUE(WriteFileAtomic(ds + "/test_batch", BatchWithLabel(20, 0, bad, protocol)).ok());
      const std::string want = ds + "/data_batch_3: label " + std::to_string(bad) +
                               " at index 17 is outside 0..9 (10 classes in batches.meta)";
      for (int threads : {1, 3}) {
        auto s = LoadSplit(ds, true, threads);
        ASSERT_FALSE(s.ok());
        EXPECT_TRUE(s.status().IsCorruption()) << s.status().ToString();
        EXPECT_NE(s.status().message().find(want), std::string::npos) << s.status().ToString();
      }
      auto t = LoadSplit(ds, false, 2);
      ASSERT_FALSE(t.ok());
      EXPECT_NE(t.status().message().find(ds + "/test_batch: label " + std::to_string(bad) + " at index 0 "),
                std::string::npos)
          << t.status().ToString();
      // Even when the images asked for lie in good files: the whole split is decoded.
      auto some = LoadSplitImages(ds, true, 2, [](size_t) { return std::vector<uint32_t>{0}; });
      ASSERT_FALSE(some.ok());
      EXPECT_NE(some.status().message().find(want), std::string::npos) << some.status().ToString();
      // The file alone still decodes (0..255 is a valid byte); the class range is the dataset's.
      auto alone = DecodeBatchFile(ds + "/data_batch_3");
      ASSERT_TRUE(alone.ok());
      Status check = CheckLabels(alone->labels, 10, ds + "/data_batch_3", ds + "/batches.meta");
      EXPECT_NE(check.message().find(want), std::string::npos) << check.ToString();
      EXPECT_TRUE(CheckLabels(alone->labels, 256, "f", "meta").ok());
    }
  }
}

// The class count comes from the folder's own meta file, whatever its kind.
TEST(CifarTest, ClassRangeComesFromTheMetaFile) {
  testing::TempDir dir;
  std::string ds = dir / "cifar-10-batches-py";
  ASSERT_TRUE(MakeDirs(ds).ok());
  ASSERT_TRUE(WriteFileAtomic(ds + "/data_batch_1", MakePickle(12)).ok());  // labels 0..9
  auto none = LoadSplit(ds, true, 2);
  ASSERT_FALSE(none.ok());
  EXPECT_TRUE(none.status().IsNotFound()) << none.status().ToString();
  EXPECT_NE(none.status().message().find(ds + ": no batches.meta"), std::string::npos) << none.status().ToString();
  std::vector<std::string> five(Cifar10LabelNames().begin(), Cifar10LabelNames().begin() + 5);
  ASSERT_TRUE(WriteFileAtomic(ds + "/batches.meta", EncodeMeta(five, 12, 2)).ok());
  auto s = LoadSplit(ds, true, 2);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find(ds + "/data_batch_1: label 5 at index 5 is outside 0..4 (5 classes in batches.meta)"),
            std::string::npos)
      << s.status().ToString();
  ASSERT_TRUE(WriteFileAtomic(ds + "/batches.meta", EncodeMeta(Cifar10LabelNames(), 12, 2)).ok());
  EXPECT_TRUE(LoadSplit(ds, true, 2).ok());

  // Binary records: batches.meta.txt, one name a line.
  std::string bin = dir / "cifar-10-batches-bin";
  ASSERT_TRUE(MakeDirs(bin).ok());
  ASSERT_TRUE(WriteFileAtomic(bin + "/batches.meta.txt", "airplane\nautomobile\nbird\n").ok());
  std::string records;
  for (int i = 0; i < 4; ++i) {
    records.push_back(static_cast<char>(i == 2 ? 200 : i % 3));
    records += std::string(kImageBytes, '\x22');
  }
  ASSERT_TRUE(WriteFileAtomic(bin + "/data_batch_1.bin", records).ok());
  auto b = LoadSplit(bin, true, 2);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find(bin + "/data_batch_1.bin: label 200 at index 2 is outside 0..2 (3 classes in batches.meta.txt)"),
            std::string::npos)
      << b.status().ToString();
}

TEST(CifarTest, ReadsLabelNames) {
  testing::TempDir dir;
  ASSERT_TRUE(WriteFileAtomic(dir / "batches.meta", EncodeMeta(Cifar10LabelNames(), 10000, 4)).ok());
  auto n = ReadLabelNames(dir / "batches.meta");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, Cifar10LabelNames());
  ASSERT_TRUE(WriteFileAtomic(dir / "batches.meta.txt", "airplane\nautomobile\n\n").ok());
  EXPECT_EQ(ReadLabelNames(dir / "batches.meta.txt")->size(), 2u);
  ASSERT_TRUE(WriteFileAtomic(dir / "bad.meta", MakePickle(1)).ok());
  EXPECT_FALSE(ReadLabelNames(dir / "bad.meta").ok());
}

}  // namespace
}  // namespace tb::dataset
