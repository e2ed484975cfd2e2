#include "storage/s3_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <thread>

#include "storage/faulty_http_testing.h"
#include "storage/s3_testing.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/parallel.h"

namespace tb::storage {
namespace {

using testing::S3TestOptions;
using testing::ScratchBucket;

AwsConfig FakeConfig(const std::string& endpoint) {
  AwsConfig c;
  c.access_key_id = "AKIDEXAMPLE";
  c.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  c.region = "us-east-1";
  c.endpoint_url = endpoint;
  return c;
}

TEST(S3ClientUnit, PathStyleAndVirtualHostedUrls) {
  Options o;
  S3Client path(FakeConfig("http://127.0.0.1:7480"), o);
  S3Request req;
  req.bucket = "b";
  req.key = "dir/a b+c%/ü/./x";
  req.query = {{"uploadId", "2~x/y"}, {"partNumber", "3"}};
  EXPECT_EQ(path.Url(req),
            "http://127.0.0.1:7480/b/dir/a%20b%2Bc%25/%C3%BC/./x?partNumber=3&uploadId=2~x%2Fy");
  o.virtual_hosted = true;
  S3Client vh(FakeConfig("https://s3.example.com/"), o);
  EXPECT_EQ(vh.Url(req), "https://b.s3.example.com/dir/a%20b%2Bc%25/%C3%BC/./x?partNumber=3&uploadId=2~x%2Fy");
  S3Request bucket_level;
  bucket_level.bucket = "b";
  bucket_level.query = {{"list-type", "2"}, {"prefix", "a/b c"}};
  EXPECT_EQ(path.Url(bucket_level), "http://127.0.0.1:7480/b?list-type=2&prefix=a%2Fb%20c");
  EXPECT_EQ(vh.Url(bucket_level), "https://b.s3.example.com/?list-type=2&prefix=a%2Fb%20c");
  S3Client based(FakeConfig("http://h:1/s3/"), Options{});
  EXPECT_EQ(based.Url(req).substr(0, 20), "http://h:1/s3/b/dir/");
}

TEST(S3ClientUnit, MultipartEtag) {
  // Two parts "a" and "b": md5(md5("a") || md5("b")) + "-2", the expected value computed by
  // OpenSSL and coreutils (S3ClientRgw.MultipartEtagIsRgws checks it against RGW's own).
  ::tb::testing::TempDir tmp;
  const std::string out = tmp / "etag";
  const std::string cmd = "{ printf a | openssl md5 -binary && printf b | openssl md5 -binary; } | md5sum > " + out;
  TB_REQUIRE_PEER(std::system(cmd.c_str()) == 0, "openssl and md5sum");
  auto want = ReadFile(out);
  ASSERT_TRUE(want.ok());
  ASSERT_GE(want->size(), 32u) << *want;
  EXPECT_EQ(MultipartEtag({Md5Of("a"), Md5Of("b")}), want->substr(0, 32) + "-2");
}

TEST(S3ClientUnit, ConnectionErrorsAreRetriedThenReported) {
  Options o;
  o.max_retries = 2;
  o.connect_timeout_s = 2;
  S3Client c(FakeConfig("http://127.0.0.1:1"), o);  // nothing listens on port 1
  double t0 = NowSeconds();
  auto r = c.HeadObject("bkt", "some/key");
  double took = NowSeconds() - t0;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kNetwork);
  EXPECT_TRUE(r.status().retryable());
  const std::string& m = r.status().message();
  EXPECT_NE(m.find("after 3 attempts"), std::string::npos) << m;
  EXPECT_NE(m.find("HeadObject s3://bkt/some/key"), std::string::npos) << m;
  EXPECT_NE(m.find("endpoint http://127.0.0.1:1"), std::string::npos) << m;
  EXPECT_EQ(m.find("wJalrXUtnFEMI"), std::string::npos) << m;
  EXPECT_GE(took, 0.2);  // backed off between attempts
}

TEST(S3ClientUnit, CancelStopsRetries) {
  std::atomic<bool> cancel{false};
  Options o;
  o.max_retries = 50;
  o.cancel = &cancel;
  S3Client c(FakeConfig("http://127.0.0.1:1"), o);
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cancel = true;
  });
  auto r = c.HeadObject("bkt", "k");
  t.join();
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsCancelled()) << r.status().ToString();
}

// ---- against the real RGW ----

TEST(S3ClientRgw, WrongSecretNamesSignatureDoesNotMatch) {
  TB_REQUIRE_SERVICE("TB_S3_ENDPOINT");
  ScratchBucket bucket(S3TestOptions());
  auto cfg = ResolveAwsConfig(S3TestOptions());
  ASSERT_TRUE(cfg.ok());
  AwsConfig bad = *cfg;
  bad.secret_access_key = "NOTTHESECRETxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
  S3Client c(bad, S3TestOptions());
  auto r = c.PutObject(bucket.name(), "k", "data");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kPermissionDenied);
  const std::string& m = r.status().message();
  // Auth errors are not retried: not retryable, and not "after N attempts" (what the retry
  // loop says of an error it tried more than once).
  EXPECT_FALSE(r.status().retryable());
  EXPECT_EQ(m.find("attempts"), std::string::npos) << m;
  EXPECT_NE(m.find("SignatureDoesNotMatch"), std::string::npos) << m;
  EXPECT_NE(m.find("HTTP 403"), std::string::npos) << m;
  EXPECT_NE(m.find("s3://" + bucket.name() + "/k"), std::string::npos) << m;
  EXPECT_NE(m.find("request id"), std::string::npos) << m;
  EXPECT_EQ(m.find("NOTTHESECRET"), std::string::npos) << m;
  EXPECT_EQ(m.find(cfg->secret_access_key), std::string::npos) << m;
}

TEST(S3ClientRgw, UnknownBucketIsNoSuchBucket) {
  TB_REQUIRE_SERVICE("TB_S3_ENDPOINT");
  auto c = S3Client::Create(S3TestOptions());
  ASSERT_TRUE(c.ok());
  auto r = (*c)->ListObjectsV2("tb-no-such-bucket-xyz", "");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsNotFound());
  EXPECT_NE(r.status().message().find("NoSuchBucket"), std::string::npos) << r.status().message();
  auto put = (*c)->PutObject("tb-no-such-bucket-xyz", "k", "x");
  ASSERT_FALSE(put.ok());
  EXPECT_NE(put.status().message().find("NoSuchBucket"), std::string::npos) << put.status().message();
}

TEST(S3ClientRgw, ListingOf2500KeysPaginatesCompletely) {
  TB_REQUIRE_SERVICE("TB_S3_ENDPOINT");
  ScratchBucket bucket(S3TestOptions());
  const S3Client& c = bucket.client();
  constexpr size_t kKeys = 2500;
  auto key = [](size_t i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "many/k%05zu", i);
    return std::string(buf);
  };
  ASSERT_TRUE(ParallelFor(kKeys, 16, [&](size_t i) { return c.PutObject(bucket.name(), key(i), std::to_string(i)).status(); }).ok());
  ASSERT_TRUE(c.PutObject(bucket.name(), "other", "x").ok());
  auto first = c.ListObjectsV2Page(bucket.name(), "many/", "", 1000);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->contents.size(), 1000u);
  EXPECT_TRUE(first->is_truncated);
  auto all = c.ListObjectsV2(bucket.name(), "many/");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), kKeys);
  for (size_t i = 0; i < kKeys; ++i) {
    ASSERT_EQ((*all)[i].key, key(i));
    ASSERT_EQ((*all)[i].size_bytes, std::to_string(i).size());
  }
  std::vector<std::string> keys;
  for (const auto& e : *all) keys.push_back(e.key);
  ASSERT_TRUE(c.DeleteObjects(bucket.name(), keys).ok());  // 3 batches
  auto after = c.ListObjectsV2(bucket.name(), "");
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 1u);
  EXPECT_EQ((*after)[0].key, "other");
}

TEST(S3ClientRgw, AbortedMultipartLeavesNoUpload) {
  TB_REQUIRE_SERVICE("TB_S3_ENDPOINT");
  ScratchBucket bucket(S3TestOptions());
  const S3Client& c = bucket.client();
  auto id = c.CreateMultipartUpload(bucket.name(), "mp");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  std::string part = testing::RandomBytes(5 << 20, 1);
  ASSERT_TRUE(c.UploadPart(bucket.name(), "mp", *id, 1, part, Md5Of(part)).ok());
  auto listed = c.ListMultipartUploads(bucket.name(), "");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->uploads.size(), 1u);
  EXPECT_EQ(listed->uploads[0].upload_id, *id);
  // A wrong Content-MD5 is rejected by the server and not retried.
  Md5Digest wrong = Md5Of("not the part");
  auto bad = c.UploadPart(bucket.name(), "mp", *id, 2, part, wrong);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("BadDigest"), std::string::npos) << bad.status().message();
  ASSERT_TRUE(c.AbortMultipartUpload(bucket.name(), "mp", *id).ok());
  listed = c.ListMultipartUploads(bucket.name(), "");
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->uploads.empty());
  EXPECT_TRUE(c.HeadObject(bucket.name(), "mp").status().IsNotFound());
}

// RGW computes the multipart ETag itself: ours must be the same, for any part layout.
TEST(S3ClientRgw, MultipartEtagIsRgws) {
  TB_REQUIRE_SERVICE("TB_S3_ENDPOINT");
  ScratchBucket bucket(S3TestOptions());
  const S3Client& c = bucket.client();
  auto id = c.CreateMultipartUpload(bucket.name(), "mp");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  const std::vector<std::string> parts = {testing::RandomBytes(5 << 20, 2), testing::RandomBytes(12345, 3)};
  std::vector<std::string> etags;
  std::vector<Md5Digest> md5s;
  for (size_t i = 0; i < parts.size(); ++i) {
    md5s.push_back(Md5Of(parts[i]));
    auto e = c.UploadPart(bucket.name(), "mp", *id, static_cast<int>(i + 1), parts[i], md5s.back());
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    etags.push_back(*e);
  }
  auto done = c.CompleteMultipartUpload(bucket.name(), "mp", *id, etags, md5s);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  auto head = c.HeadObject(bucket.name(), "mp");  // RGW's own ETag for the object
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->etag, MultipartEtag(md5s));
  EXPECT_EQ(*done, head->etag);
}

// ---- against RGW through tests/tools/faulty_http.py as a proxy (SigV4 signed for it) ----

// An S3 client whose endpoint is `proxy`, credentials and all else as S3TestOptions().
std::shared_ptr<S3Client> ClientVia(const std::string& proxy) {
  Options o = S3TestOptions();
  o.endpoint_url = proxy;
  auto c = S3Client::Create(o);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? *c : nullptr;
}

// The first bytes of every "range" in the proxy's log, in order.
std::vector<uint64_t> RangeStarts(const std::string& stats) {
  std::vector<uint64_t> starts;
  const std::string key = "\"range\": \"bytes=";
  for (size_t at = stats.find(key); at != std::string::npos; at = stats.find(key, at + 1)) {
    starts.push_back(std::strtoull(stats.c_str() + at + key.size(), nullptr, 10));
  }
  return starts;
}

// A reset 3 MB into a ranged GET: the rest is asked for from the byte that had arrived (an
// RST may drop bytes still queued, so at most 3 MB), If-Match the object's ETag; the bytes
// are exact.
TEST(S3ClientRgw, GetRangeResumesFromTheByteReached) {
  TB_REQUIRE_SERVICE("TB_S3_ENDPOINT");
  ScratchBucket bucket(S3TestOptions());
  const std::string data = testing::RandomBytes(4 << 20, 7);
  auto etag = bucket.client().PutObject(bucket.name(), "r/obj", data);
  ASSERT_TRUE(etag.ok()) << etag.status().ToString();
  testing::FaultyHttp proxy({"--upstream", ::tb::testing::Env("TB_S3_ENDPOINT"), "--fault", "reset", "--after",
                             "3000000", "--fail-first", "1", "--match", "/r/obj"});
  TB_REQUIRE_PEER(!proxy.url().empty(), "tests/tools/faulty_http.py (python3)");
  auto c = ClientVia(proxy.url());
  ASSERT_TRUE(c);
  std::string got(data.size() - 1000, '\0');
  std::atomic<uint64_t> resumed{0};
  auto n = c->GetRange(bucket.name(), "r/obj", 1000, got.size(), got.data(), &resumed);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, got.size());
  EXPECT_EQ(resumed.load(), 1u);
  EXPECT_TRUE(got == data.substr(1000)) << "bytes differ";
  std::string stats = proxy.Stats();
  std::vector<uint64_t> starts = RangeStarts(stats);
  ASSERT_EQ(starts.size(), 2u) << stats;
  EXPECT_EQ(starts[0], 1000u) << stats;
  EXPECT_GT(starts[1], 1000u) << stats;
  EXPECT_LE(starts[1], 1000u + 3000000u) << stats;
  EXPECT_NE(stats.find("\"fault\": \"reset\""), std::string::npos) << stats;
  EXPECT_NE(stats.find("\"if_match\": \"\\\"" + *etag + "\\\"\""), std::string::npos) << stats;
}

// The object is overwritten while the GET is held mid-body, then the proxy resets it: the
// resumed range carries If-Match the first ETag, RGW answers 412, and the read fails as a
// changed object instead of splicing two objects' bytes.
TEST(S3ClientRgw, GetRangeOfAnObjectChangedMidReadFails) {
  TB_REQUIRE_SERVICE("TB_S3_ENDPOINT");
  ScratchBucket bucket(S3TestOptions());
  const std::string data = testing::RandomBytes(2 << 20, 8);
  ASSERT_TRUE(bucket.client().PutObject(bucket.name(), "c/obj", data).ok());
  testing::FaultyHttp proxy({"--upstream", ::tb::testing::Env("TB_S3_ENDPOINT"), "--fault", "hold", "--after",
                             "1000000", "--fail-first", "1", "--match", "/c/obj", "--stall", "120"});
  TB_REQUIRE_PEER(!proxy.url().empty(), "tests/tools/faulty_http.py (python3)");
  auto c = ClientVia(proxy.url());
  ASSERT_TRUE(c);
  std::string got(data.size(), '\0');
  Result<size_t> n = Status::Internal("not read");
  std::thread reader([&] { n = c->GetRange(bucket.name(), "c/obj", 0, got.size(), got.data()); });
  bool held = proxy.WaitHeld();
  EXPECT_TRUE(held) << proxy.Stats();
  if (held) {
    EXPECT_TRUE(bucket.client().PutObject(bucket.name(), "c/obj", testing::RandomBytes(2 << 20, 9)).ok());
  }
  proxy.Control("drop");
  reader.join();
  ASSERT_FALSE(n.ok()) << "read " << *n << " bytes of a changed object";
  EXPECT_TRUE(n.status().IsCorruption()) << n.status().ToString();
  const std::string& m = n.status().message();
  EXPECT_NE(m.find("s3://" + bucket.name() + "/c/obj"), std::string::npos) << m;
  EXPECT_NE(m.find("the object changed while it was read (resuming at byte "), std::string::npos) << m;
  std::string stats = proxy.Stats();
  EXPECT_NE(stats.find("\"status\": 412"), std::string::npos) << stats;
}

}  // namespace
}  // namespace tb::storage
