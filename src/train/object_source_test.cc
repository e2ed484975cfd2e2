#include "train/object_source.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "dataset/cifar_testing.h"
#include "storage/wrappers.h"
#include "train/loader.h"
#include "util/fs.h"
#include "util/testing.h"

namespace tb::train {
namespace {

constexpr int kFiles = 5, kPerFile = 6;

// A small dataset (kFiles training files of kPerFile images, a test batch, batches.meta) put
// into mem://`name` under cifar-10-batches-py/. Returns each training file's bytes.
std::vector<std::string> PutDataset(const std::string& name) {
  tb::testing::TempDir tmp;
  auto dir = dataset::testing::WriteTestDataset(tmp.path(), kFiles, kPerFile, 4);
  EXPECT_TRUE(dir.ok()) << dir.status().ToString();
  auto mem = storage::NewMemoryStorage(name);
  std::vector<std::string> train;
  for (int f = 0; f <= kFiles + 1; ++f) {
    std::string file = f < kFiles ? "data_batch_" + std::to_string(f + 1) : f == kFiles ? "test_batch" : "batches.meta";
    auto bytes = ReadFile(*dir + "/" + file);
    EXPECT_TRUE(bytes.ok());
    auto w = mem->OpenWrite("cifar-10-batches-py/" + file);
    EXPECT_TRUE(w.ok());
    EXPECT_TRUE((*w)->Append(*bytes).ok());
    EXPECT_TRUE((*w)->Commit().ok());
    if (f < kFiles) train.push_back(*bytes);
  }
  return train;
}

std::unique_ptr<storage::Storage> OpenMem(const std::string& name) {
  auto s = storage::Open("mem://" + name, storage::Options{});
  EXPECT_TRUE(s.ok());
  return std::move(s).value();
}

SourceOptions Mode(const std::string& mode, uint64_t cache_bytes = 0, int read_ahead = 2) {
  SourceOptions o;
  o.mode = mode;
  o.cache_bytes = cache_bytes;
  o.read_ahead = o.threads = read_ahead;
  return o;
}

// The first label of each file delivered in an epoch of `order` (labels identify the file:
// TestLabel numbers images across files in order).
std::vector<uint8_t> FirstLabels(TrainSource* source, const std::vector<uint32_t>& order) {
  EXPECT_TRUE(source->StartEpoch(order).ok());
  std::vector<uint8_t> firsts;
  dataset::Split part;
  for (;;) {
    auto more = source->Next(&part);
    EXPECT_TRUE(more.ok()) << more.status().ToString();
    if (!more.ok() || !*more) break;
    EXPECT_EQ(part.count, static_cast<size_t>(kPerFile));
    firsts.push_back(part.labels[0]);
  }
  return firsts;
}

uint8_t FirstLabelOf(uint32_t file) { return dataset::testing::TestLabel(file * kPerFile); }

TEST(ObjectSourceTest, DeliversTheFilesInTheEpochsOrderWithTheirPixels) {
  PutDataset("src-order");
  for (const char* mode : {"fastfile", "pipe"}) {
    auto source = NewTrainSource(OpenMem("src-order"), Mode(mode));
    ASSERT_TRUE(source.ok()) << source.status().ToString();
    ASSERT_EQ((*source)->files().size(), static_cast<size_t>(kFiles));
    std::vector<uint32_t> order = FileOrder(kFiles, 7, 1);
    std::vector<uint8_t> want;
    for (uint32_t f : order) want.push_back(FirstLabelOf(f));
    EXPECT_EQ(FirstLabels(source->get(), order), want) << mode;
    ASSERT_TRUE((*source)->StartEpoch({3}).ok());
    dataset::Split part;
    ASSERT_TRUE(*(*source)->Next(&part));
    for (size_t k = 0; k < dataset::kImageBytes; ++k)
      ASSERT_EQ(part.pixels[dataset::kImageBytes + k], dataset::testing::TestPixel(3 * kPerFile + 1, k, 1));
    auto names = (*source)->LabelNames();
    ASSERT_TRUE(names.ok());
    EXPECT_EQ(names->size(), 10u);
    auto test = (*source)->TestSplit();
    ASSERT_TRUE(test.ok());
    EXPECT_EQ(test->count, 4u);
  }
}

// Counts OpenRead calls, recording the most opened ahead of the files the consumer asked for.
class AheadStorage : public storage::CountingStorage {
 public:
  using CountingStorage::CountingStorage;
  Result<std::unique_ptr<storage::Reader>> OpenRead(std::string_view key, uint64_t offset, uint64_t length) override {
    int64_t opened = ++this->opened;
    int64_t ahead = opened - asked.load();
    int64_t seen = most_ahead.load();
    while (ahead > seen && !most_ahead.compare_exchange_weak(seen, ahead)) {}
    return CountingStorage::OpenRead(key, offset, length);
  }
  std::atomic<int64_t> asked{0}, most_ahead{0}, opened{0};
};

TEST(ObjectSourceTest, ReadsAtMostReadAheadFilesBeyondTheConsumer) {
  PutDataset("src-ahead");
  auto ahead = new AheadStorage(OpenMem("src-ahead"));
  auto source = NewTrainSource(std::unique_ptr<storage::Storage>(ahead), Mode("fastfile", 0, 2));
  ASSERT_TRUE(source.ok());
  ASSERT_TRUE((*source)->StartEpoch(FileOrder(kFiles, 1, 0)).ok());
  // The source reads ahead before anything is asked for: wait for those two reads.
  while (ahead->opened.load() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  dataset::Split part;
  for (;;) {
    ++ahead->asked;  // before Next: the source may then deliver one more file
    auto more = (*source)->Next(&part);
    ASSERT_TRUE(more.ok());
    if (!*more) break;
  }
  EXPECT_EQ(ahead->most_ahead.load(), 2);
  EXPECT_EQ(ahead->opened.load(), kFiles);
}

TEST(ObjectSourceTest, FastFileFetchesEveryByteOnceAnEpochWithoutCacheAndNothingWithALargeOne) {
  std::vector<std::string> train = PutDataset("src-cache");
  uint64_t sum = 0;
  for (const std::string& b : train) sum += b.size();
  for (uint64_t cache : {uint64_t{0}, uint64_t{1} << 30, static_cast<uint64_t>(train[0].size() * 2 + 10)}) {
    auto source = NewTrainSource(OpenMem("src-cache"), Mode("fastfile", cache));
    ASSERT_TRUE(source.ok());
    SourceStats before = (*source)->Stats();
    FirstLabels(source->get(), FileOrder(kFiles, 3, 0));
    SourceStats first = (*source)->Stats() - before;
    EXPECT_EQ(first.bytes, sum);
    EXPECT_EQ(first.gets, static_cast<uint64_t>(kFiles));
    FirstLabels(source->get(), FileOrder(kFiles, 3, 1));
    SourceStats second = (*source)->Stats() - before - first;
    if (cache == 0) {
      EXPECT_EQ(second.bytes, sum);
      EXPECT_EQ(second.cache_hits, 0u);
    } else if (cache > sum) {
      EXPECT_EQ(second.bytes, 0u);
      EXPECT_EQ(second.gets, 0u);
      EXPECT_EQ(second.cache_hits, static_cast<uint64_t>(kFiles));
    } else {  // room for two files: at most two hits, the rest fetched again
      EXPECT_LE(second.cache_hits, 2u);
      EXPECT_EQ(second.bytes + second.cache_hit_bytes, sum);
    }
  }
}

TEST(ObjectSourceTest, AnObjectChangedSinceTheListingFailsTheEpochNamingIt) {
  PutDataset("src-etag");
  auto source = NewTrainSource(OpenMem("src-etag"), Mode("pipe"));
  ASSERT_TRUE(source.ok());
  auto mem = OpenMem("src-etag");
  auto w = mem->OpenWrite("cifar-10-batches-py/data_batch_2");
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Append("not the listed bytes").ok());
  ASSERT_TRUE((*w)->Commit().ok());
  ASSERT_TRUE((*source)->StartEpoch({0, 1, 2}).ok());
  dataset::Split part;
  ASSERT_TRUE(*(*source)->Next(&part));
  auto r = (*source)->Next(&part);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("data_batch_2"), std::string::npos) << r.status().ToString();
  EXPECT_NE(r.status().message().find("changed since the listing"), std::string::npos) << r.status().ToString();
}

// Hands out readers that return at most 1,000 bytes a Read, so a failure can fall in the
// middle of an object.
class SmallReadsStorage : public storage::CountingStorage {
 public:
  using CountingStorage::CountingStorage;
  Result<std::unique_ptr<storage::Reader>> OpenRead(std::string_view key, uint64_t offset, uint64_t length) override {
    TB_ASSIGN_OR_RETURN(auto inner, CountingStorage::OpenRead(key, offset, length));
    struct Small : storage::Reader {
      std::unique_ptr<storage::Reader> inner;
      Result<size_t> Read(char* buf, size_t n) override { return inner->Read(buf, std::min<size_t>(n, 1000)); }
    };
    auto r = std::make_unique<Small>();
    r->inner = std::move(inner);
    return std::unique_ptr<storage::Reader>(std::move(r));
  }
};

TEST(ObjectSourceTest, AReadFailingInTheMiddleResumesFromTheByteItReached) {
  std::vector<std::string> train = PutDataset("src-resume");
  auto faults = new storage::FaultInjectionStorage(std::make_unique<SmallReadsStorage>(OpenMem("src-resume")));
  // The 5th Read op: data_batch_1 (first in this order) is ~18 KB, so this is 4,000 bytes in.
  faults->FailOps(5, 1, Status::Network("connection reset by peer"), static_cast<int>(storage::StorageOp::kRead));
  auto source = NewTrainSource(std::unique_ptr<storage::Storage>(faults), Mode("pipe"));
  ASSERT_TRUE(source.ok());
  SourceStats before = (*source)->Stats();
  ASSERT_TRUE((*source)->StartEpoch({0}).ok());
  dataset::Split part;
  auto r = (*source)->Next(&part);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(*r);
  for (size_t i = 0; i < part.count; ++i)
    for (size_t k = 0; k < dataset::kImageBytes; ++k)
      ASSERT_EQ(part.pixels[i * dataset::kImageBytes + k], dataset::testing::TestPixel(i, k, 1));
  SourceStats after = (*source)->Stats() - before;
  EXPECT_EQ(after.gets, 2u);                // the object, then the rest of it
  EXPECT_EQ(after.bytes, train[0].size());  // no byte read twice
  EXPECT_EQ(after.resumed, 1u);
}

TEST(ObjectSourceTest, StreamedLoaderVisitsEveryImageOnceInTheFileOrder) {
  PutDataset("src-loader");
  auto source = NewTrainSource(OpenMem("src-loader"), Mode("fastfile"));
  ASSERT_TRUE(source.ok());
  LoaderOptions lo;
  lo.batch_size = 4;
  lo.workers = 2;
  lo.seed = 9;
  BatchLoader loader(source->get(), lo);
  for (int epoch = 0; epoch < 2; ++epoch) {
    loader.StartEpoch(epoch);
    std::vector<int64_t> labels;
    BatchView b;
    for (;;) {
      auto more = loader.Next(&b);
      ASSERT_TRUE(more.ok()) << more.status().ToString();
      if (!*more) break;
      labels.insert(labels.end(), b.labels, b.labels + b.size);
    }
    ASSERT_EQ(labels.size(), static_cast<size_t>(kFiles * kPerFile));
    EXPECT_EQ(loader.batches_per_epoch(), (kFiles * kPerFile + 3) / 4);
    // The epoch's first file's images, in InFileOrder.
    uint32_t file = FileOrder(kFiles, 9, epoch)[0];
    std::vector<uint32_t> in = InFileOrder(kPerFile, 9, epoch, file);
    for (int i = 0; i < kPerFile; ++i) EXPECT_EQ(labels[i], dataset::testing::TestLabel(file * kPerFile + in[i]));
    std::multiset<int64_t> got(labels.begin(), labels.end()), want;
    for (int i = 0; i < kFiles * kPerFile; ++i) want.insert(dataset::testing::TestLabel(i));
    EXPECT_EQ(got, want);
  }
}

TEST(ObjectSourceTest, StreamedLoaderCarriesTheSourcesErrorAndStopsEarlyCleanly) {
  PutDataset("src-loader-error");
  auto source = NewTrainSource(OpenMem("src-loader-error"), Mode("fastfile"));
  ASSERT_TRUE(source.ok());
  LoaderOptions lo;
  lo.batch_size = 4;
  lo.workers = 2;
  BatchLoader loader(source->get(), lo);
  loader.StartEpoch(0);  // abandoned after one batch: the next epoch starts cleanly
  BatchView b;
  ASSERT_TRUE(*loader.Next(&b));
  auto mem = OpenMem("src-loader-error");
  for (int f = 1; f <= kFiles; ++f) {
    auto w = mem->OpenWrite("cifar-10-batches-py/data_batch_" + std::to_string(f));
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append("changed").ok());
    ASSERT_TRUE((*w)->Commit().ok());
  }
  loader.StartEpoch(1);
  Status error;
  for (;;) {
    auto more = loader.Next(&b);
    if (!more.ok()) {
      error = more.status();
      break;
    }
    ASSERT_TRUE(*more) << "the epoch ended without the error";
  }
  EXPECT_NE(error.message().find("data_batch_"), std::string::npos) << error.ToString();
  EXPECT_NE(error.message().find("changed since the listing"), std::string::npos) << error.ToString();
}

}  // namespace
}  // namespace tb::train
