#include "storage/s3_storage.h"

#include <gtest/gtest.h>

#include <atomic>

#include "storage/s3_testing.h"
#include "util/io_stats.h"
#include "util/parallel.h"

namespace tb::storage {
namespace {

using testing::RandomBytes;
using testing::S3TestOptions;
using testing::ScratchBucket;

// Writes `data` through the Writer in uneven chunks.
Status WriteAll(Storage& s, const std::string& key, std::string_view data, size_t chunk = (1 << 20) + 3) {
  TB_ASSIGN_OR_RETURN(auto w, s.OpenWrite(key, data.size()));
  for (size_t off = 0; off < data.size(); off += chunk) {
    TB_RETURN_IF_ERROR(w->Append(data.substr(off, chunk)));
  }
  return w->Commit();
}

Result<std::string> ReadAll(Storage& s, const std::string& key, uint64_t offset = 0,
                            uint64_t length = kToEnd) {
  TB_ASSIGN_OR_RETURN(auto r, s.OpenRead(key, offset, length));
  std::string out;
  std::string buf(300001, '\0');  // odd size: reads straddle part boundaries
  for (;;) {
    TB_ASSIGN_OR_RETURN(size_t n, r->Read(buf.data(), buf.size()));
    if (n == 0) break;
    out.append(buf.data(), n);
  }
  return out;
}

#define ASSERT_OK(expr)                   \
  do {                                    \
    Status st_ = (expr);                  \
    ASSERT_TRUE(st_.ok()) << st_.ToString(); \
  } while (0)

class S3StorageRgw : public ::testing::Test {
 protected:
  void SetUp() override {
    TB_REQUIRE_SERVICE("TB_S3_ENDPOINT");
    bucket_ = std::make_unique<ScratchBucket>(S3TestOptions());
  }
  std::unique_ptr<Storage> Open(const std::string& prefix, Options o = S3TestOptions()) {
    auto s = NewS3Storage(bucket_->name(), prefix, o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  std::unique_ptr<ScratchBucket> bucket_;
};

TEST_F(S3StorageRgw, RoundTripsAtPartBoundaries) {
  auto s = Open("rt");
  struct Case {
    const char* key;
    size_t size;
    const char* etag_suffix;  // "" = single PUT (ETag = md5)
  };
  const Case cases[] = {{"zero", 0, ""}, {"one", 1, ""}, {"eight-mib", 8u << 20, ""},
                        {"eight-mib-plus-one", (8u << 20) + 1, "-2"}, {"hundred-mib", 100u << 20, "-13"}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.key);
    std::string data = RandomBytes(c.size, static_cast<uint32_t>(c.size));
    ASSERT_OK(WriteAll(*s, c.key, data));
    auto info = s->Stat(c.key);
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    EXPECT_EQ(info->size_bytes, c.size);
    if (*c.etag_suffix) {
      EXPECT_TRUE(info->etag.ends_with(c.etag_suffix)) << info->etag;
    } else {
      EXPECT_EQ(info->etag, ToHex(Md5Of(data)));
    }
    auto back = ReadAll(*s, c.key);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(back->size(), data.size());
    EXPECT_TRUE(*back == data);
  }
  auto listed = s->List("");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 5u);
  EXPECT_EQ((*listed)[0].key, "eight-mib");  // sorted, relative to the prefix
  EXPECT_EQ(s->Describe("one"), "s3://" + bucket_->name() + "/rt/one");
}

TEST_F(S3StorageRgw, AwkwardKeys) {
  auto s = Open("");
  const std::vector<std::string> keys = {
      "with space", "a+b", "100%", "per%20cent", "\xC3\xBCnic\xC3\xB8" "d\xC3\xA9/\xE6\x97\xA5\xE6\x9C\xAC",
      "dir/sub/x", "a//b", "./dot", "dir/../up", "q?x=1&y=2#frag", "amp&lt;", "tilde~(paren)!*'",
      "trailing space "};
  for (const auto& k : keys) {
    SCOPED_TRACE(k);
    ASSERT_OK(WriteAll(*s, k, "content of " + k));
    auto back = ReadAll(*s, k);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, "content of " + k);
  }
  auto listed = s->List("");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  std::vector<std::string> got, want = keys;
  for (const auto& e : *listed) got.push_back(e.key);
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);
  auto sub = s->List("dir/");
  ASSERT_TRUE(sub.ok());
  ASSERT_EQ(sub->size(), 2u);
  EXPECT_TRUE(s->Delete("with space").ok());
  EXPECT_TRUE(s->Stat("with space").status().IsNotFound());
}

TEST_F(S3StorageRgw, RangedReadsReturnTheRightBytes) {
  Options o = S3TestOptions();
  o.part_size_bytes = 5 << 20;
  o.concurrency = 4;
  auto s = Open("ranges", o);
  std::string data = RandomBytes((23 << 20) + 17, 7);
  ASSERT_OK(WriteAll(*s, "obj", data));
  const std::pair<uint64_t, uint64_t> ranges[] = {
      {0, 1}, {1, 10}, {(5 << 20) - 3, 6}, {5 << 20, 5 << 20}, {(5 << 20) - 1, (10 << 20) + 2},
      {data.size() - 1, 1}, {data.size() - 100, kToEnd}, {12345, kToEnd}, {data.size(), kToEnd}};
  for (auto [off, len] : ranges) {
    SCOPED_TRACE(std::to_string(off) + "+" + std::to_string(len));
    auto got = ReadAll(*s, "obj", off, len);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_TRUE(*got == data.substr(off, len == kToEnd ? std::string::npos : len));
  }
}

TEST_F(S3StorageRgw, MissingObjectsAndBuckets) {
  auto s = Open("p");
  EXPECT_TRUE(s->Stat("nope").status().IsNotFound());
  auto r = s->OpenRead("nope");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsNotFound());
  EXPECT_NE(r.status().message().find("s3://" + bucket_->name() + "/p/nope"), std::string::npos);
  EXPECT_NE(r.status().message().find("NoSuchKey"), std::string::npos) << r.status().message();
  auto none = NewS3Storage("tb-no-such-bucket-abc", "", S3TestOptions());
  ASSERT_TRUE(none.ok());
  auto st = (*none)->Stat("k");
  EXPECT_TRUE(st.status().IsNotFound());
  EXPECT_NE(st.status().message().find("NoSuchBucket"), std::string::npos) << st.status().message();
  auto w = (*none)->OpenWrite("k", 1);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Append("x").ok());
  Status c = (*w)->Commit();
  EXPECT_FALSE(c.ok());
  EXPECT_NE(c.message().find("NoSuchBucket"), std::string::npos) << c.message();
}

TEST_F(S3StorageRgw, UncommittedOrFailedMultipartWritesLeaveNothing) {
  Options o = S3TestOptions();
  o.part_size_bytes = 5 << 20;
  auto s = Open("mp", o);
  std::string data = RandomBytes(12 << 20, 3);
  {
    auto w = s->OpenWrite("dropped", data.size());
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append(data).ok());  // two parts started, third buffered
    auto uploads = bucket_->client().ListMultipartUploads(bucket_->name(), "");
    ASSERT_TRUE(uploads.ok());
    EXPECT_EQ(uploads->uploads.size(), 1u);
  }  // destroyed without Commit -> aborted
  auto uploads = bucket_->client().ListMultipartUploads(bucket_->name(), "");
  ASSERT_TRUE(uploads.ok());
  EXPECT_TRUE(uploads->uploads.empty());
  EXPECT_TRUE(s->Stat("dropped").status().IsNotFound());

  // Cancelled mid-upload: Commit fails with Cancelled, the upload is still aborted.
  std::atomic<bool> cancel{false};
  o.cancel = &cancel;
  auto cs = Open("mp", o);
  auto w = cs->OpenWrite("cancelled", data.size());
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Append(data.substr(0, 6 << 20)).ok());
  cancel = true;
  Status st = (*w)->Append(data.substr(6 << 20));
  if (st.ok()) st = (*w)->Commit();
  EXPECT_TRUE(st.IsCancelled()) << st.ToString();
  w->reset();
  uploads = bucket_->client().ListMultipartUploads(bucket_->name(), "");
  ASSERT_TRUE(uploads.ok());
  EXPECT_TRUE(uploads->uploads.empty());
  EXPECT_TRUE(s->Stat("cancelled").status().IsNotFound());
}

TEST_F(S3StorageRgw, ParallelWriterPartsInAnyOrder) {
  auto s = Open("pw");
  ASSERT_TRUE(s->caps().parallel_writes);
  constexpr uint64_t kPart = 5 << 20;
  std::string data = RandomBytes(3 * kPart + 12345, 11);
  {
    auto w = s->OpenParallelWrite("obj", data.size(), kPart);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    Status st = ParallelFor(4, 4, [&](size_t i) {
      uint64_t part = 3 - i;  // last part first, each in 1 MiB pieces back to front
      std::string_view bytes = std::string_view(data).substr(part * kPart, kPart);
      for (size_t piece = (bytes.size() - 1) / (1 << 20) + 1; piece-- > 0;) {
        TB_RETURN_IF_ERROR((*w)->WriteAt(part * kPart + piece * (1 << 20), bytes.substr(piece * (1 << 20), 1 << 20)));
      }
      return Status::Ok();
    });
    ASSERT_OK(st);
    ASSERT_OK((*w)->Commit());
  }
  auto info = s->Stat("obj");
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->etag.ends_with("-4")) << info->etag;
  auto back = ReadAll(*s, "obj");
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(*back == data);
  // Misuse is rejected; an uncommitted writer leaves no upload behind.
  {
    auto w = s->OpenParallelWrite("bad", data.size(), kPart);
    ASSERT_TRUE(w.ok());
    EXPECT_FALSE((*w)->WriteAt(kPart - 1, "xy").ok());  // crosses a part boundary
    EXPECT_FALSE((*w)->WriteAt(data.size(), "x").ok());  // past the end
    EXPECT_FALSE((*w)->Commit().ok());                   // parts missing
  }
  EXPECT_FALSE(s->OpenParallelWrite("small-parts", 10 << 20, 1 << 20).ok());
  auto uploads = bucket_->client().ListMultipartUploads(bucket_->name(), "");
  ASSERT_TRUE(uploads.ok());
  EXPECT_TRUE(uploads->uploads.empty());
}

TEST_F(S3StorageRgw, EnsureBucketCreatesOnlyWhenAskedAndIsIdempotent) {
  std::string name = testing::UniqueBucketName();
  auto refused = EnsureBucket(name, S3TestOptions(), /*create=*/false);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(refused.status().IsNotFound()) << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("bucket " + name + " does not exist"), std::string::npos)
      << refused.status().ToString();
  auto exists = bucket_->client().BucketExists(name);
  ASSERT_TRUE(exists.ok()) << exists.status().ToString();
  EXPECT_FALSE(*exists);  // refusing created nothing
  auto created = EnsureBucket(name, S3TestOptions(), /*create=*/true);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_TRUE(*created);
  auto again = EnsureBucket(name, S3TestOptions(), /*create=*/true);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_FALSE(*again);
  auto present = EnsureBucket(name, S3TestOptions(), /*create=*/false);
  ASSERT_TRUE(present.ok()) << present.status().ToString();
  EXPECT_FALSE(*present);
  EXPECT_TRUE(bucket_->client().DeleteBucket(name).ok());
}

}  // namespace
}  // namespace tb::storage

namespace tb::storage {
namespace {

// S3 requests are counted by the transport too: a PUT adds its body to the sent bytes, a GET
// to the received bytes.
TEST_F(S3StorageRgw, TransfersAreCountedAsNetworkBytes) {
  auto s = Open("counted");
  std::string data = RandomBytes(2 << 20, 5);
  IoCounters before = SampleIoCounters();
  ASSERT_OK(WriteAll(*s, "obj", data));
  IoCounters put = IoDelta(before, SampleIoCounters());
  EXPECT_GE(put.net_tx_bytes, data.size());
  EXPECT_GE(put.net_requests, 1u);
  before = SampleIoCounters();
  auto back = ReadAll(*s, "obj");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  IoCounters get = IoDelta(before, SampleIoCounters());
  EXPECT_GE(get.net_rx_bytes, data.size());
  EXPECT_LT(get.net_tx_bytes, data.size());
}

}  // namespace
}  // namespace tb::storage
