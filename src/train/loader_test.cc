#include "train/loader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
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

// DistributedSampler's rule (drop_last=False), worked by hand: 7 samples over 3 ranks are
// padded to 9 with the order's first two, and rank r takes every third position from r.
TEST(RankShare, PadsWithTheOrdersStartAndStridesByRank) {
  const std::vector<uint32_t> order = {9, 8, 7, 6, 5, 4, 3};
  EXPECT_EQ(RankShare(order, 0, 3), (std::vector<uint32_t>{9, 6, 3}));
  EXPECT_EQ(RankShare(order, 1, 3), (std::vector<uint32_t>{8, 5, 9}));
  EXPECT_EQ(RankShare(order, 2, 3), (std::vector<uint32_t>{7, 4, 8}));
  EXPECT_EQ(RankShare(order, 0, 1), order);
  // Fewer samples than ranks: the padding wraps around the order as often as needed.
  EXPECT_EQ(RankShare({5}, 2, 3), (std::vector<uint32_t>{5}));
  EXPECT_EQ(RankShare({5, 6}, 3, 4), (std::vector<uint32_t>{6}));
  EXPECT_EQ(RankSamples(7, 3), 3u);
  EXPECT_EQ(RankSamples(6, 3), 2u);
  EXPECT_EQ(RankSamples(0, 3), 0u);
}

TEST(RankShare, EverySampleOnceAndThePaddingTwice) {
  for (size_t n : {1000u, 1001u, 1003u, 3u}) {
    for (int world : {2, 3, 4, 7}) {
      const std::vector<uint32_t> order = ShuffledOrder(n, 3, 1);
      std::map<uint32_t, int> seen;
      for (int r = 0; r < world; ++r) {
        std::vector<uint32_t> share = RankShare(order, r, world);
        ASSERT_EQ(share.size(), RankSamples(n, world)) << n << " " << world;
        for (uint32_t i : share) seen[i]++;
      }
      const size_t padded = RankSamples(n, world) * world;
      ASSERT_EQ(seen.size(), n) << n << " " << world;
      // Padded position q holds order[q % n]: order[p] is trained on once per such q.
      for (size_t p = 0; p < n; ++p) {
        int expected = 1 + static_cast<int>((padded - 1 - p) / n);
        if (padded - n < n) {
          EXPECT_EQ(expected, p < padded - n ? 2 : 1);
        }
        EXPECT_EQ(seen[order[p]], expected) << "n " << n << " world " << world << " position " << p;
      }
    }
  }
}

// Batch k of every rank together holds exactly batch k of one rank at batch size B x ranks,
// and every rank takes the same number of batches, also when the count does not divide.
TEST(BatchLoader, RanksTogetherSeeTheGlobalBatch) {
  for (size_t n : {600u, 601u, 607u}) {
    dataset::Split s = MakeSplit(n);
    const int world = 3, batch = 5;
    LoaderOptions o;
    o.seed = 9;
    o.workers = 1;
    o.batch_size = batch * world;
    BatchLoader one(s, o);
    auto global = Epoch(&one, 2);
    o.batch_size = batch;
    o.world_size = world;
    std::vector<std::vector<std::pair<int, float>>> shares;
    for (int r = 0; r < world; ++r) {
      o.rank = r;
      BatchLoader loader(s, o);
      EXPECT_EQ(loader.batches_per_epoch(), static_cast<int64_t>((RankSamples(n, world) + batch - 1) / batch));
      int batches = 0;
      shares.push_back(Epoch(&loader, 2, &batches));
      EXPECT_EQ(batches, loader.batches_per_epoch());
      ASSERT_EQ(shares.back().size(), RankSamples(n, world));
    }
    for (size_t k = 0; k * batch < shares[0].size(); ++k) {
      std::vector<std::pair<int, float>> together, expected;
      for (int r = 0; r < world; ++r) {
        for (size_t i = k * batch; i < std::min(shares[r].size(), (k + 1) * batch); ++i)
          together.push_back(shares[r][i]);
      }
      // The padded tail of the order repeats its start (RankShare).
      for (size_t p = k * batch * world; p < std::min(RankSamples(n, world) * world, (k + 1) * batch * world); ++p) {
        expected.push_back(global[p % n]);
      }
      std::sort(together.begin(), together.end());
      std::sort(expected.begin(), expected.end());
      ASSERT_EQ(together, expected) << "n " << n << " batch " << k;
    }
  }
}

// Unsplit (pipeline.distribution = "sharded": the rank's split is already its share): every
// sample of the split once, then the epoch's order repeated from its start up to
// epoch_samples, whatever rank and world size say.
TEST(BatchLoader, UnsplitTakesEverySampleAndPadsToTheAgreedCount) {
  dataset::Split s = MakeSplit(12);
  LoaderOptions o;
  o.seed = 4;
  o.workers = 1;
  o.batch_size = 5;
  BatchLoader alone(s, o);
  auto order = Epoch(&alone, 1);
  ASSERT_EQ(order.size(), 12u);
  o.rank = 1;
  o.world_size = 3;
  o.split = false;
  o.epoch_samples = 18;
  BatchLoader loader(s, o);
  EXPECT_EQ(loader.batches_per_epoch(), 4);
  auto padded = Epoch(&loader, 1);
  ASSERT_EQ(padded.size(), 18u);
  for (size_t i = 0; i < padded.size(); ++i) EXPECT_EQ(padded[i], order[i % 12]) << i;
  o.epoch_samples = 0;  // no agreed count: the split's own
  BatchLoader own(s, o);
  EXPECT_EQ(Epoch(&own, 1), order);
}

}  // namespace
}  // namespace tb::train
