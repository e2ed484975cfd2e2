#include "train/loader.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

namespace tb::train {
namespace {

dataset::Split MakeSplit(size_t n) {
  dataset::Split s;
  s.count = n;
  s.labels.resize(n);
  s.pixels.resize(n * dataset::kImageBytes);
  for (size_t i = 0; i < n; ++i) {
    s.labels[i] = static_cast<uint8_t>(i % 10);
    // The first pixel of each image encodes its index (mod 256), the rest are fixed.
    for (size_t k = 0; k < dataset::kImageBytes; ++k) {
      s.pixels[i * dataset::kImageBytes + k] = static_cast<uint8_t>(k == 0 ? i % 256 : (k * 7) % 256);
    }
  }
  return s;
}

// Every image of an epoch, in delivery order, identified by label and first pixel.
std::vector<std::pair<int, float>> Epoch(BatchLoader* loader, int epoch, int* batches = nullptr) {
  std::vector<std::pair<int, float>> out;
  loader->StartEpoch(epoch);
  BatchView b;
  int n = 0;
  while (true) {
    Result<bool> more = loader->Next(&b);
    EXPECT_TRUE(more.ok()) << more.status().ToString();
    if (!more.ok() || !*more) break;
    EXPECT_EQ(b.index, n);
    ++n;
    for (int i = 0; i < b.size; ++i) out.emplace_back(b.labels[i], b.images[i * kImageFloats]);
  }
  if (batches) *batches = n;
  return out;
}

TEST(NormalizePixel, MatchesToTensorThenNormalize) {
  EXPECT_FLOAT_EQ(NormalizePixel(0), -1.0f);
  EXPECT_FLOAT_EQ(NormalizePixel(255), 1.0f);
  for (int v = 0; v < 256; ++v) {
    float x = static_cast<float>(v) / 255.0f;
    EXPECT_EQ(NormalizePixel(static_cast<uint8_t>(v)), (x - 0.5f) / 0.5f);
  }
  EXPECT_NEAR(NormalizePixel(128), 128 / 127.5 - 1, 1e-6);
}

TEST(BatchLoader, EveryIndexOncePerEpochWithAShortLastBatch) {
  dataset::Split s = MakeSplit(1003);
  for (int workers : {0, 1, 3}) {
    LoaderOptions o;
    o.batch_size = 4;
    o.workers = workers;
    o.seed = 5;
    BatchLoader loader(s, o);
    EXPECT_EQ(loader.batches_per_epoch(), 251);
    int batches = 0;
    auto items = Epoch(&loader, 0, &batches);
    EXPECT_EQ(batches, 251);
    ASSERT_EQ(items.size(), 1003u);
    // Reconstruct each image's index from (label = i % 10, first pixel = i % 256).
    std::set<int> seen;
    for (auto [label, first] : items) {
      int mod256 = static_cast<int>(std::lround((first + 1) * 127.5));
      for (int i = mod256; i < 1003; i += 256) {
        if (i % 10 == label) seen.insert(i);
      }
    }
    EXPECT_GE(seen.size(), 1003u) << "workers=" << workers;
  }
}

TEST(BatchLoader, SameOrderForASeedWhateverTheWorkers) {
  dataset::Split s = MakeSplit(500);
  LoaderOptions o;
  o.batch_size = 3;
  o.seed = 11;
  o.workers = 0;
  BatchLoader serial(s, o);
  auto a0 = Epoch(&serial, 0), a1 = Epoch(&serial, 1);
  o.workers = 2;
  o.prefetch = 3;
  BatchLoader parallel(s, o);
  EXPECT_EQ(Epoch(&parallel, 0), a0);
  EXPECT_EQ(Epoch(&parallel, 1), a1);
  EXPECT_NE(a0, a1);  // reshuffled each epoch
  o.seed = 12;
  BatchLoader other(s, o);
  EXPECT_NE(Epoch(&other, 0), a0);
}

TEST(BatchLoader, NormalisesEveryValueInTheBatch) {
  dataset::Split s = MakeSplit(8);
  LoaderOptions o;
  o.batch_size = 8;
  o.shuffle = false;
  o.workers = 1;
  BatchLoader loader(s, o);
  loader.StartEpoch(0);
  BatchView b;
  ASSERT_TRUE(*loader.Next(&b));
  ASSERT_EQ(b.size, 8);
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(b.labels[i], i % 10);
    for (int k = 0; k < kImageFloats; ++k) {
      ASSERT_EQ(b.images[i * kImageFloats + k], NormalizePixel(s.pixels[i * 3072 + k]));
    }
  }
  EXPECT_FALSE(*loader.Next(&b));
}

TEST(BatchLoader, CarriesAWorkerErrorToTheConsumer) {
  dataset::Split s = MakeSplit(100);
  s.labels[37] = 12;  // outside 0..9
  LoaderOptions o;
  o.batch_size = 4;
  o.shuffle = false;
  o.workers = 2;
  BatchLoader loader(s, o);
  loader.StartEpoch(0);
  BatchView b;
  Status error;
  for (int i = 0; i < 100; ++i) {
    Result<bool> r = loader.Next(&b);
    if (!r.ok()) {
      error = r.status();
      break;
    }
    ASSERT_TRUE(*r);
  }
  EXPECT_TRUE(error.IsCorruption());
  EXPECT_NE(error.message().find("image 37 has label 12"), std::string::npos) << error.message();
  // The loader is reusable after an error.
  s.labels[37] = 2;
  loader.StartEpoch(1);
  EXPECT_TRUE(*loader.Next(&b));
}

TEST(BatchLoader, AbandonsAnEpochHalfWay) {
  dataset::Split s = MakeSplit(400);
  LoaderOptions o;
  o.workers = 2;
  BatchLoader loader(s, o);
  loader.StartEpoch(0);
  BatchView b;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(*loader.Next(&b));
  EXPECT_EQ(Epoch(&loader, 0).size(), 400u);
}

}  // namespace
}  // namespace tb::train
