// HTTP backend against the real nginx origin started by scripts/services.sh (files are put
// into $TB_HTTP_ROOT and fetched through $TB_HTTP_ORIGIN), plus error paths that need no
// server. The fault-injecting server (tests/tools/faulty_http.py) drives retry/resume tests.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "storage/storage.h"
#include "storage/transfer.h"
#include "util/fs.h"
#include "util/md5.h"
#include "util/testing.h"

namespace tb::storage {
namespace {

using testing::Env;

std::string Pattern(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    s[i] = static_cast<char>(x >> 24);
  }
  return s;
}

Result<std::string> ReadAll(Reader& r) {
  std::string out, buf(1 << 20, '\0');
  for (;;) {
    TB_ASSIGN_OR_RETURN(size_t n, r.Read(buf.data(), buf.size()));
    if (n == 0) return out;
    out.append(buf.data(), n);
  }
}

// A per-test directory under the nginx document root, removed afterwards.
class HttpOrigin : public ::testing::Test {
 protected:
  void SetUp() override {
    if (Env("TB_HTTP_ORIGIN").empty() || Env("TB_HTTP_ROOT").empty()) return;
    sub_ = "tb-storage-test-" + std::to_string(getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    dir_ = Env("TB_HTTP_ROOT") + "/" + sub_;
    ASSERT_TRUE(MakeDirs(dir_).ok());
    base_ = Env("TB_HTTP_ORIGIN") + "/" + sub_;
  }
  void TearDown() override {
    if (!dir_.empty()) (void)RemoveAll(dir_);
  }
  void PutFile(const std::string& key, const std::string& data) {
    ASSERT_TRUE(MakeDirs(std::filesystem::path(dir_ + "/" + key).parent_path().string()).ok());
    ASSERT_TRUE(WriteFileAtomic(dir_ + "/" + key, data).ok());
  }
  std::string sub_, dir_, base_;
};

TEST_F(HttpOrigin, SizesRoundTrip) {
  TB_REQUIRE_SERVICE("TB_HTTP_ORIGIN");
  auto http = Open(base_, Options());
  ASSERT_TRUE(http.ok());
  for (size_t size : {size_t{0}, size_t{1}, size_t{8} << 20}) {
    std::string key = "size-" + std::to_string(size);
    std::string data = Pattern(size, static_cast<uint32_t>(size));
    PutFile(key, data);
    auto info = (*http)->Stat(key);
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    EXPECT_EQ(info->size_bytes, size);
    EXPECT_TRUE(info->ranged_reads);
    EXPECT_FALSE(info->etag.empty());
    auto r = (*http)->OpenRead(key);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    auto got = ReadAll(**r);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_TRUE(*got == data) << size;
  }
}

TEST_F(HttpOrigin, RangedReads) {
  TB_REQUIRE_SERVICE("TB_HTTP_ORIGIN");
  std::string data = Pattern(1 << 20, 3);
  PutFile("r.bin", data);
  auto http = Open(base_, Options());
  ASSERT_TRUE(http.ok());
  for (auto [off, len] : {std::pair<uint64_t, uint64_t>{0, 10}, {12345, 100000}, {(1 << 20) - 5, kToEnd}}) {
    auto r = (*http)->OpenRead("r.bin", off, len);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    auto got = ReadAll(**r);
    ASSERT_TRUE(got.ok());
    EXPECT_TRUE(*got == data.substr(off, len == kToEnd ? std::string::npos : len)) << off;
  }
}

TEST_F(HttpOrigin, KeysNeedingEncoding) {
  TB_REQUIRE_SERVICE("TB_HTTP_ORIGIN");
  auto http = Open(base_, Options());
  ASSERT_TRUE(http.ok());
  for (std::string key : {"with space.txt", "plus+sign", "per%25cent%", "caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac.bin",
                          "deep/er/path/x?y#z", "semi;colon&amp=1"}) {
    PutFile(key, "content of " + key);
    auto r = (*http)->OpenRead(key);
    ASSERT_TRUE(r.ok()) << key << ": " << r.status().ToString();
    auto got = ReadAll(**r);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, "content of " + key);
  }
}

TEST_F(HttpOrigin, NotFoundNamesTheUrl) {
  TB_REQUIRE_SERVICE("TB_HTTP_ORIGIN");
  auto http = Open(base_, Options());
  ASSERT_TRUE(http.ok());
  auto r = (*http)->OpenRead("missing.bin");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsNotFound());
  EXPECT_NE(r.status().message().find(base_ + "/missing.bin"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("404"), std::string::npos) << r.status().message();
  auto st = (*http)->Stat("missing.bin");
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(st.status().IsNotFound());
}

TEST_F(HttpOrigin, ParallelRangedCopy100MiB) {
  TB_REQUIRE_SERVICE("TB_HTTP_ORIGIN");
  std::string data = Pattern(100 << 20, 11);
  std::string want = ToHex(Md5Of(data));
  PutFile("big.bin", data);
  data.clear();
  testing::TempDir tmp;
  Options o;
  o.concurrency = 8;
  auto stats = CopyObject(base_ + "/big.bin", tmp / "big.bin", o);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->bytes, uint64_t{100} << 20);
  auto md5 = Md5File(tmp / "big.bin");
  ASSERT_TRUE(md5.ok());
  EXPECT_EQ(ToHex(*md5), want);
  auto s = OpenStream(base_ + "/big.bin", o);  // the streaming path too
  ASSERT_TRUE(s.ok());
  auto got = ReadAll(**s);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(ToHex(Md5Of(*got)), want);
}

TEST(HttpStorage, ConnectionRefusedNamesUrlAndAttempts) {
  Options o;
  o.max_retries = 1;
  auto http = Open("http://127.0.0.1:1/base", o);  // port 1: nothing listens
  ASSERT_TRUE(http.ok());
  auto r = (*http)->OpenRead("x.bin");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kNetwork);
  const std::string& msg = r.status().message();
  EXPECT_NE(msg.find("http://127.0.0.1:1/base/x.bin"), std::string::npos) << msg;
  EXPECT_NE(msg.find("attempt 2/2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("onnect"), std::string::npos) << msg;
  auto st = (*http)->Stat("x.bin");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.status().message().find("HEAD http://127.0.0.1:1/base/x.bin"), std::string::npos);
}

TEST(HttpStorage, ReadOnlyAndUnlistable) {
  auto http = Open("http://127.0.0.1:1", Options());
  ASSERT_TRUE(http.ok());
  EXPECT_EQ((*http)->OpenWrite("x", 0).status().code(), Code::kUnsupported);
  EXPECT_EQ((*http)->List("").status().code(), Code::kUnsupported);
  EXPECT_EQ((*http)->Describe("x"), "http://127.0.0.1:1/x");
  auto secret = Open("http://user:secret@127.0.0.1:1/p", Options());
  ASSERT_TRUE(secret.ok());
  EXPECT_EQ((*secret)->Describe("x").find("secret"), std::string::npos);
}

}  // namespace
}  // namespace tb::storage
