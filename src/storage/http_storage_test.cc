// HTTP backend against the real nginx origin started by scripts/services.sh (files are put
// into $TB_HTTP_ROOT and fetched through $TB_HTTP_ORIGIN), plus error paths that need no
// server. The fault-injecting server (tests/tools/faulty_http.py) drives retry/resume tests.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "storage/faulty_http_testing.h"
#include "storage/storage.h"
#include "storage/transfer.h"
#include "util/fs.h"
#include "util/io_stats.h"
#include "util/md5.h"
#include "util/testing.h"

namespace tb::storage {
namespace {

using ::tb::testing::Env;

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
  ::tb::testing::TempDir tmp;
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

// tests/tools/faulty_http.py serving a TempDir, started with the given fault flags.
class FaultyServer : public storage::testing::FaultyHttp {
 public:
  using FaultyHttp::FaultyHttp;
  std::string Put(const std::string& name, size_t size) {
    std::string data = Pattern(size, static_cast<uint32_t>(size));
    EXPECT_TRUE(WriteFileAtomic(root() / name, data).ok());
    return data;
  }
};

#define START_FAULTY(server, ...)                             \
  FaultyServer server(std::vector<std::string>{__VA_ARGS__}); \
  TB_REQUIRE_PEER(!server.url().empty(), "tests/tools/faulty_http.py (python3)")

Options FastRetries() {
  Options o;
  o.max_retries = 3;
  o.low_speed_timeout_s = 1;
  o.connect_timeout_s = 2;
  return o;
}

Result<std::string> Fetch(const std::string& url, const Options& o) {
  TB_ASSIGN_OR_RETURN(auto r, OpenStream(url, o));
  return ReadAll(*r);
}

TEST(HttpFaults, ResumesAfterConnectionResetWithRange) {
  // The reset comes after 3 MB so that, even though an RST may drop bytes still queued in
  // socket buffers, some data has surely arrived and the retry must ask for a Range.
  START_FAULTY(srv, "--fault", "reset", "--fail-first", "1", "--after", "3000000");
  std::string data = srv.Put("f.bin", 4 << 20);
  auto http = Open(srv.url(), FastRetries());
  ASSERT_TRUE(http.ok());
  auto reader = (*http)->OpenRead("f.bin");
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  auto got = ReadAll(**reader);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(*got == data);
  EXPECT_EQ((*reader)->resumed(), 1u);  // what the transport counters report (Reader::resumed)
  std::string stats = srv.Stats();
  // Resumed from what had arrived (an RST may drop bytes still queued), not restarted.
  const std::string key = "\"range\": \"bytes=";
  size_t at = stats.find(key);
  ASSERT_NE(at, std::string::npos) << stats;
  uint64_t resumed_at = std::strtoull(stats.c_str() + at + key.size(), nullptr, 10);
  EXPECT_GT(resumed_at, 0u) << stats;
  EXPECT_LE(resumed_at, 3000000u) << stats;
}

TEST(HttpFaults, ResumesAfterTruncatedBody) {
  START_FAULTY(srv, "--fault", "truncate", "--fail-first", "2", "--after", "1000");
  std::string data = srv.Put("t.bin", 500000);
  auto got = Fetch(srv.url() + "/t.bin", FastRetries());
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(*got == data);
}

TEST(HttpFaults, RetriesServerErrorsThenSucceeds) {
  START_FAULTY(srv, "--fault", "status", "--status", "503", "--fail-first", "2");
  std::string data = srv.Put("s.bin", 10000);
  auto http = Open(srv.url(), FastRetries());
  ASSERT_TRUE(http.ok());
  auto info = (*http)->Stat("s.bin");  // HEAD retried too
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->size_bytes, 10000u);
  auto got = Fetch(srv.url() + "/s.bin", FastRetries());
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(*got == data);
}

TEST(HttpFaults, HonoursRetryAfterOn429) {
  START_FAULTY(srv, "--fault", "429", "--retry-after", "1", "--fail-first", "1");
  std::string data = srv.Put("r.bin", 1000);
  auto start = std::chrono::steady_clock::now();
  auto got = Fetch(srv.url() + "/r.bin", FastRetries());
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(*got == data);
  EXPECT_GE(s, 0.9);  // waited as told, not the 0.1-0.2 s backoff
}

TEST(HttpFaults, PersistentErrorNamesUrlStatusAndAttempts) {
  START_FAULTY(srv, "--fault", "status", "--status", "500");
  srv.Put("e.bin", 100);
  Options o = FastRetries();
  o.max_retries = 2;
  auto got = Fetch(srv.url() + "/e.bin", o);
  ASSERT_FALSE(got.ok());
  const std::string& msg = got.status().message();
  EXPECT_NE(msg.find(srv.url() + "/e.bin"), std::string::npos) << msg;
  EXPECT_NE(msg.find("HTTP 500"), std::string::npos) << msg;
  EXPECT_NE(msg.find("attempt 3/3"), std::string::npos) << msg;
  EXPECT_FALSE(got.status().retryable());
}

TEST(HttpFaults, StalledTransferTimesOutAndResumes) {
  START_FAULTY(srv, "--fault", "stall", "--stall", "20", "--fail-first", "1", "--after", "200000");
  std::string data = srv.Put("st.bin", 600000);
  auto got = Fetch(srv.url() + "/st.bin", FastRetries());
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(*got == data);
  // The low-speed timeout (1 s) fired, not the end of the 20 s stall: the server logs a
  // request when it ends, so the resumed request is in its log and the stalled one, still
  // silent, is not.
  std::string stats = srv.Stats();
  EXPECT_NE(stats.find("\"range\": \"bytes="), std::string::npos) << stats;
  EXPECT_EQ(stats.find("\"fault\": \"stall\""), std::string::npos) << stats;
}

// Occurrences of `needle` in `haystack`.
size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

// The server's log once it holds at least `n` occurrences of `needle` (it logs a request
// after the request's last byte, which may be after the client is done), at most 10 s.
std::string StatsOnceCounted(FaultyServer& srv, const std::string& needle, size_t n) {
  std::string log = srv.Stats();
  for (int i = 0; i < 100 && Count(log, needle) < n; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    log = srv.Stats();
  }
  return log;
}

// A loopback origin takes the parallel ranged path like any other (no address-class rule):
// 4 streams as configured, 3 parts reset mid-body and fetched again, the file exact.
TEST(HttpFaults, ParallelCopySurvivesResets) {
  START_FAULTY(srv, "--fault", "reset", "--fail-first", "4", "--after", "70000");
  std::string data = srv.Put("p.bin", 1 << 20);
  ::tb::testing::TempDir tmp;
  Options o = FastRetries();
  o.concurrency = 4;
  o.streams = 4;
  o.part_size_bytes = 128 << 10;
  auto stats = CopyObject(srv.url() + "/p.bin", tmp / "p.bin", o);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  auto got = ReadFile(tmp / "p.bin");
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(*got == data);
  EXPECT_GE(stats->streams, 2) << stats->streams_why;
  EXPECT_EQ(stats->streams_why, "net.streams = 4");
  std::string log = StatsOnceCounted(srv, "\"range\": \"bytes=", 8 + 3);
  EXPECT_EQ(Count(log, "\"fault\": \"reset\""), 4u) << log;
  // The HEAD (no body) is the first request counted as "reset"; 3 ranged GETs were reset.
  EXPECT_GE(Count(log, "\"range\": \"bytes="), 8u + 3u) << log;  // 8 parts + 3 resumed
}

// Under auto the copy starts with one stream and opens more while the aggregate rate grows:
// the server paces every response to 2 MB/s, so each added stream adds 2 MB/s.
TEST(HttpFaults, AutoStreamsGrowWhilePerConnectionRateIsTheLimit) {
  START_FAULTY(srv, "--fault", "slow", "--rate", "2000000");
  std::string data = srv.Put("a.bin", 4 << 20);
  ::tb::testing::TempDir tmp;
  Options o = FastRetries();
  o.concurrency = 4;
  o.part_size_bytes = 256 << 10;
  ASSERT_EQ(o.streams, 0);  // auto is the default
  auto stats = CopyObject(srv.url() + "/a.bin", tmp / "a.bin", o);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  auto got = ReadFile(tmp / "a.bin");
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(*got == data);
  EXPECT_GE(stats->streams, 2) << stats->streams_why;
  EXPECT_EQ(stats->streams_why.rfind("auto: ", 0), 0u) << stats->streams_why;
  EXPECT_EQ(Count(StatsOnceCounted(srv, "\"range\": \"bytes=", 16), "\"range\": \"bytes="), 16u);
}

// net.streams = 1: one plain GET, no ranges.
TEST(HttpFaults, OneStreamWhenConfigured) {
  START_FAULTY(srv);
  std::string data = srv.Put("o.bin", 1 << 20);
  ::tb::testing::TempDir tmp;
  Options o = FastRetries();
  o.streams = 1;
  o.part_size_bytes = 128 << 10;
  auto stats = CopyObject(srv.url() + "/o.bin", tmp / "o.bin", o);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  auto got = ReadFile(tmp / "o.bin");
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(*got == data);
  EXPECT_EQ(stats->streams, 1);
  EXPECT_EQ(stats->streams_why, "one stream: net.streams = 1");
  std::string log = StatsOnceCounted(srv, "\"method\": \"GET\"", 1);
  EXPECT_EQ(Count(log, "\"method\": \"GET\""), 1u) << log;  // control requests are not logged
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

namespace tb::storage {
namespace {

// The transport counts the bytes it moves: a read of an object adds at least its size to the
// process's received bytes, and one request per transfer.
TEST_F(HttpOrigin, TransfersAreCountedAsNetworkBytes) {
  TB_REQUIRE_SERVICE("TB_HTTP_ORIGIN");
  std::string data = Pattern(3 << 20, 11);
  PutFile("counted.bin", data);
  auto http = Open(base_, Options());
  ASSERT_TRUE(http.ok());
  IoCounters before = SampleIoCounters();
  auto r = (*http)->OpenRead("counted.bin");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto got = ReadAll(**r);
  ASSERT_TRUE(got.ok());
  r->reset();  // the transfer ends with the reader
  IoCounters d = IoDelta(before, SampleIoCounters());
  EXPECT_GE(d.net_rx_bytes, data.size());
  EXPECT_LT(d.net_rx_bytes, data.size() * 2);
  EXPECT_GE(d.net_requests, 1u);
}

}  // namespace
}  // namespace tb::storage
