#include "storage/transfer.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <vector>

#include "storage/wrappers.h"
#include "util/fs.h"
#include "util/md5.h"
#include "util/testing.h"

namespace tb::storage {
namespace {

std::string Pattern(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    s[i] = static_cast<char>(x >> 24);
  }
  return s;
}

Status Put(Storage& s, const std::string& key, const std::string& data) {
  TB_ASSIGN_OR_RETURN(auto w, s.OpenWrite(key, data.size()));
  TB_RETURN_IF_ERROR(w->Append(data));
  return w->Commit();
}

Options SmallParts(int concurrency = 4) {
  Options o;
  o.concurrency = concurrency;
  o.part_size_bytes = 64 << 10;  // the engine's minimum
  o.max_retries = 2;
  return o;
}

TEST(CopyObject, LocalFileInParallelPartsIsExact) {
  testing::TempDir tmp;
  std::string data = Pattern((64 << 10) * 10 + 123, 1);  // 11 parts, the last short
  ASSERT_TRUE(WriteFileAtomic(tmp / "src.bin", data).ok());
  std::atomic<uint64_t> bytes{0}, files{0};
  auto stats = CopyObject(tmp / "src.bin", tmp / "out/dst.bin", SmallParts(),
                          [&](uint64_t b, uint64_t f) { bytes += b; files += f; });
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->bytes, data.size());
  EXPECT_EQ(stats->files, 1u);
  EXPECT_EQ(bytes.load(), data.size());
  EXPECT_EQ(files.load(), 1u);
  auto got = ReadFile(tmp / "out/dst.bin");
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(*got == data);
  // No temp files left behind.
  size_t entries = 0;
  for (auto& e : std::filesystem::directory_iterator(tmp / "out")) entries += !e.path().empty();
  EXPECT_EQ(entries, 1u);
}

TEST(CopyObject, ToDirectoryKeepsTheName) {
  testing::TempDir tmp;
  ASSERT_TRUE(WriteFileAtomic(tmp / "a.txt", "abc").ok());
  ASSERT_TRUE(MakeDirs(tmp / "d").ok());
  ASSERT_TRUE(CopyObject(tmp / "a.txt", tmp / "d", Options()).ok());
  EXPECT_EQ(*ReadFile(tmp / "d/a.txt"), "abc");
  ASSERT_TRUE(CopyObject(tmp / "a.txt", tmp / "new/", Options()).ok());
  EXPECT_EQ(*ReadFile(tmp / "new/a.txt"), "abc");
  EXPECT_EQ(*ResolveCopyDestination("s3://b/p/x.gz", "s3://c"), "s3://c/x.gz");
  EXPECT_EQ(*ResolveCopyDestination("s3://b/p/x.gz", "s3://c/q/"), "s3://c/q/x.gz");
  EXPECT_EQ(*ResolveCopyDestination("http://h/x.gz", "s3://c/y.gz"), "s3://c/y.gz");
}

TEST(CopyObject, EmptyAndMissingSources) {
  testing::TempDir tmp;
  ASSERT_TRUE(WriteFileAtomic(tmp / "empty", "").ok());
  auto s = CopyObject(tmp / "empty", tmp / "empty.copy", Options());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(ReadFile(tmp / "empty.copy")->size(), 0u);
  auto missing = CopyObject(tmp / "missing", tmp / "x", Options());
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.status().IsNotFound());
  EXPECT_NE(missing.status().message().find(tmp / "missing"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(tmp / "x"));
}

TEST(CopyTree, MemoryToPosixToMemoryRoundTrip) {
  auto src = NewMemoryStorage("tree-src");
  std::map<std::string, std::string> files;
  for (int i = 0; i < 60; ++i) {
    std::string key = "d" + std::to_string(i % 4) + "/f" + std::to_string(i);
    files[key] = Pattern(i * 997, i);
  }
  files["big/large.bin"] = Pattern((64 << 10) * 5 + 17, 99);
  for (auto& [k, v] : files) ASSERT_TRUE(Put(*src, k, v).ok());
  testing::TempDir tmp;
  auto down = CopyTree("mem://tree-src", tmp / "local", SmallParts(8));
  ASSERT_TRUE(down.ok()) << down.status().ToString();
  EXPECT_EQ(down->files, files.size());
  NewMemoryStorage("tree-dst");
  auto up = CopyTree(tmp / "local", "mem://tree-dst/pre", SmallParts(8));
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  auto dst = Open("mem://tree-dst/pre", Options());
  ASSERT_TRUE(dst.ok());
  auto list = (*dst)->List("");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), files.size());
  for (auto& info : *list) {
    ASSERT_TRUE(files.count(info.key)) << info.key;
    EXPECT_EQ(info.etag, ToHex(Md5Of(files[info.key]))) << info.key;
  }
}

// A tree of many small objects from a tier with request latency: every added stream adds
// throughput, so auto streams must grow well past one even when two requests of the two-stream
// step stall (a step measured once used to read that as "more streams were slower" and pin the
// whole copy to one stream: 60 s instead of a few for the 1,283-file training input).
TEST(CopyTree, AutoStreamsGrowOverManySmallObjectsDespiteAStalledStep) {
  auto inner = NewMemoryStorage("small-src");
  for (int i = 0; i < 2400; ++i) ASSERT_TRUE(Put(*inner, "f" + std::to_string(10000 + i), Pattern(2048, i)).ok());
  FaultInjectionStorage src(std::move(inner));
  // 3 ms a request, and a stretch of 63 requests that take 60 ms each: a passing slowdown
  // that the first step of the search runs into.
  src.DelayOpens(0.003, 18, 63, 0.06);
  auto dst = NewMemoryStorage("small-dst");
  Options o = SmallParts(16);
  ASSERT_EQ(o.streams, 0);  // auto
  auto stats = CopyTreeBetween(src, *dst, o);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->files, 2400u);
  EXPECT_GE(stats->streams, 8) << stats->streams_why;
  EXPECT_EQ(stats->streams_why.rfind("auto: ", 0), 0u) << stats->streams_why;
  auto listed = dst->List("");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 2400u);
}

// A copy announces its work (bytes and files) once, before the first byte moves: what a live
// view needs for an ETA.
TEST(CopyTree, ReportsTotalsBeforeAnyByteMoves) {
  auto src = NewMemoryStorage("totals-src");
  uint64_t bytes = 0;
  for (int i = 0; i < 20; ++i) {
    std::string data = Pattern(1000 + 4096 * i, i);
    bytes += data.size();
    ASSERT_TRUE(Put(*src, "t/" + std::to_string(i), data).ok());
  }
  NewMemoryStorage("totals-dst");
  std::atomic<uint64_t> moved{0}, moved_at_totals{~0ull}, total_bytes{0}, total_files{0}, calls{0};
  ProgressFn progress([&](uint64_t b, uint64_t) { moved += b; });
  progress.totals = [&](uint64_t b, uint64_t f) {
    moved_at_totals = moved.load();
    total_bytes = b;
    total_files = f;
    ++calls;
  };
  auto stats = CopyTree("mem://totals-src/t", "mem://totals-dst", SmallParts(4), progress);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(calls.load(), 1u);
  EXPECT_EQ(moved_at_totals.load(), 0u);
  EXPECT_EQ(total_bytes.load(), bytes);
  EXPECT_EQ(total_files.load(), 20u);
  EXPECT_EQ(moved.load(), bytes);
}

TEST(CopyObject, RetriesTransientReadFailures) {
  auto mem = NewMemoryStorage("retry");
  std::string data = Pattern(300000, 5);
  ASSERT_TRUE(Put(*mem, "obj", data).ok());
  auto inner = Open("mem://retry", Options());
  ASSERT_TRUE(inner.ok());
  FaultInjectionStorage faulty(std::move(*inner));
  // The first two reads fail with a retryable error; each part is retried.
  faulty.FailOps(1, 2, Status::Network("connection reset"), static_cast<int>(StorageOp::kRead));
  auto dst = NewMemoryStorage("retry-dst");
  auto stats = CopyObjectBetween(faulty, "obj", *dst, "copy", SmallParts(2));
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(dst->Stat("copy")->etag, ToHex(Md5Of(data)));
}

TEST(CopyObject, PermanentFailureLeavesNothing) {
  auto inner = Open("mem://retry", Options());
  ASSERT_TRUE(inner.ok());
  std::string data = Pattern(300000, 6);
  ASSERT_TRUE(Put(**inner, "obj2", data).ok());
  FaultInjectionStorage faulty(std::move(*inner));
  faulty.FailOps(3, 1000, Status::PermissionDenied("denied"), static_cast<int>(StorageOp::kRead));
  testing::TempDir tmp;
  auto dst = NewPosixStorage(tmp.path());
  auto stats = CopyObjectBetween(faulty, "obj2", *dst, "copy", SmallParts(2));
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().code(), Code::kPermissionDenied);
  EXPECT_NE(stats.status().message().find("mem://retry/obj2"), std::string::npos) << stats.status().message();
  EXPECT_TRUE(std::filesystem::is_empty(tmp.path()));
}

TEST(CopyObject, CorruptionAgainstSourceMd5IsDetected) {
  for (uint64_t size : {uint64_t{50000}, uint64_t{(64 << 10) * 3}}) {  // streamed and parallel
    auto inner = Open("mem://corrupt", Options());
    ASSERT_TRUE(inner.ok());
    ASSERT_TRUE(Put(**inner, "obj", Pattern(size, 7)).ok());
    FaultInjectionStorage faulty(std::move(*inner));
    faulty.CorruptByteAt(size / 2);
    testing::TempDir tmp;
    auto dst = NewPosixStorage(tmp.path());
    auto stats = CopyObjectBetween(faulty, "obj", *dst, "copy", SmallParts(2));
    ASSERT_FALSE(stats.ok()) << size;
    EXPECT_TRUE(stats.status().IsCorruption()) << stats.status().ToString();
    EXPECT_FALSE(std::filesystem::exists(tmp / "copy")) << size;
  }
}

// Into a local file, parallel parts are fetched into a window and appended in order.
TEST(CopyObject, OrderedWritesAreExactForUnevenParts) {
  const uint64_t part = 64 << 10;
  int round = 0;
  for (uint64_t size : {part + 1, part * 3 - 1, part * 17 + 12345}) {
    for (int conc : {2, 3, 8}) {
      auto mem = NewMemoryStorage("ordered");
      std::string data = Pattern(size, static_cast<uint32_t>(size + conc));
      ASSERT_TRUE(Put(*mem, "obj", data).ok());
      testing::TempDir tmp;
      CountingStorage dst(NewPosixStorage(tmp.path()));
      std::atomic<uint64_t> files{0};
      auto stats = CopyObjectBetween(*mem, "obj", dst, "out/copy", SmallParts(conc),
                                     [&](uint64_t, uint64_t f) { files += f; });
      ASSERT_TRUE(stats.ok()) << size << " " << conc << ": " << stats.status().ToString();
      EXPECT_EQ(files.load(), 1u);
      EXPECT_EQ(dst.stats(StorageOp::kOpenWrite).ops, 1u);  // one sequential writer,
      EXPECT_EQ(dst.stats(StorageOp::kWrite).ops, (size + part - 1) / part);  // one append per part
      EXPECT_EQ(dst.bytes_written(), size);
      auto got = ReadFile(tmp / "out/copy");
      ASSERT_TRUE(got.ok());
      EXPECT_TRUE(*got == data) << size << " " << conc;
      size_t entries = 0;
      for (auto& e : std::filesystem::directory_iterator(tmp / "out")) entries += !e.path().empty();
      EXPECT_EQ(entries, 1u);  // no temp file left
      ++round;
    }
  }
  EXPECT_EQ(round, 9);
}

// A part that keeps failing after others were appended: nothing under the final name, no
// temp file, and the error names the source.
TEST(CopyObject, OrderedFailedPartLeavesNoFile) {
  for (int first_bad : {2, 12, 20}) {
    auto inner = Open("mem://ordered-fail", Options());
    ASSERT_TRUE(inner.ok());
    ASSERT_TRUE(Put(**inner, "obj", Pattern((64 << 10) * 20 + 5, 8)).ok());
    FaultInjectionStorage faulty(std::move(*inner));
    faulty.FailOps(first_bad, 1000000, Status::Network("connection reset"),
                   static_cast<int>(StorageOp::kRead));
    testing::TempDir tmp;
    auto dst = NewPosixStorage(tmp.path());
    Options o = SmallParts(3);
    o.max_retries = 1;
    auto stats = CopyObjectBetween(faulty, "obj", *dst, "copy", o);
    ASSERT_FALSE(stats.ok()) << first_bad;
    EXPECT_NE(stats.status().message().find("mem://ordered-fail/obj"), std::string::npos)
        << stats.status().message();
    EXPECT_TRUE(std::filesystem::is_empty(tmp.path())) << first_bad;
  }
}

TEST(CopyObject, HonoursCancel) {
  std::atomic<bool> cancel{true};
  Options o = SmallParts();
  o.cancel = &cancel;
  auto mem = NewMemoryStorage("cancel");
  ASSERT_TRUE(Put(*mem, "x", "data").ok());
  auto s = CopyObject("mem://cancel/x", "mem://cancel/y", o);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.status().IsCancelled());
  EXPECT_TRUE(mem->Stat("y").status().IsNotFound());
}

TEST(OpenStream, ReadsAnObject) {
  auto mem = NewMemoryStorage("stream");
  ASSERT_TRUE(Put(*mem, "a/b", "streamed").ok());
  auto r = OpenStream("mem://stream/a/b", Options());
  ASSERT_TRUE(r.ok());
  char buf[64];
  auto n = (*r)->Read(buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(buf, *n), "streamed");
}

TEST(CopyTree, EntriesThatHoldNoObjectAreReportedNotSilentlySkipped) {
  testing::TempDir tmp;
  std::string src = tmp / "src";
  ASSERT_TRUE(MakeDirs(src + "/sub").ok());
  ASSERT_TRUE(WriteFileAtomic(src + "/a.bin", Pattern(1000, 1)).ok());
  ASSERT_TRUE(WriteFileAtomic(src + "/sub/b.bin", Pattern(2000, 2)).ok());
  ASSERT_EQ(::mkfifo((src + "/sub/pipe").c_str(), 0600), 0);                   // would block a reader
  ASSERT_EQ(::symlink("no-such-target", (src + "/dangling").c_str()), 0);       // nothing to read
  ASSERT_EQ(::symlink("a.bin", (src + "/link-to-a").c_str()), 0);              // a file: copied
  ASSERT_EQ(::symlink("sub", (src + "/link-to-dir").c_str()), 0);              // not followed
  ASSERT_EQ(::symlink("loop", (src + "/loop").c_str()), 0);                    // ELOOP
  int sock = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(sock, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string sock_path = src + "/sock";
  ASSERT_LT(sock_path.size(), sizeof addr.sun_path);
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock_path.c_str());
  ASSERT_EQ(::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);

  auto stats = CopyTree(src, tmp / "dst", SmallParts());
  ::close(sock);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->files, 3u);  // a.bin, sub/b.bin, link-to-a
  ASSERT_EQ(stats->skipped.size(), 5u);
  std::map<std::string, std::string> kinds;
  for (const SkippedEntry& e : stats->skipped) kinds[e.key] = e.kind;
  EXPECT_EQ(kinds["sub/pipe"], "FIFO");
  EXPECT_EQ(kinds["dangling"], "dangling symlink");
  EXPECT_EQ(kinds["link-to-dir"], "symlink to a directory (not followed)");
  EXPECT_EQ(kinds["loop"], "unresolvable symlink");
  EXPECT_EQ(kinds["sock"], "socket");
  EXPECT_TRUE(std::filesystem::is_regular_file(tmp / "dst/link-to-a"));
  EXPECT_FALSE(std::filesystem::exists(tmp / "dst/sub/pipe"));
  EXPECT_FALSE(std::filesystem::exists(tmp / "dst/dangling"));

  // The counting wrapper passes the report through.
  CountingStorage counted(NewPosixStorage(src));
  std::vector<SkippedEntry> skipped;
  auto listed = counted.ListWithSkipped("sub/", &skipped);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 1u);
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_EQ(skipped[0].key, "sub/pipe");
}

// Options::max_object_bytes: an announced size over it is refused before any byte moves, and a
// stream is cut off once it passes it; nothing is left at the destination.
TEST(MaxObjectBytes, CopyAndStreamStopAtTheLimit) {
  testing::TempDir tmp;
  std::string data = Pattern((1 << 20) + 7, 3);
  ASSERT_TRUE(WriteFileAtomic(tmp / "big.bin", data).ok());
  Options o = SmallParts();
  o.max_object_bytes = 1 << 20;
  o.max_object_source = "test limit";
  for (int concurrency : {1, 4}) {
    o.concurrency = concurrency;
    auto copy = CopyObject(tmp / "big.bin", tmp / "out/big.bin", o);
    ASSERT_FALSE(copy.ok()) << "concurrency " << concurrency;
    const std::string& m = copy.status().message();
    EXPECT_NE(m.find(tmp / "big.bin"), std::string::npos) << m;
    EXPECT_NE(m.find("exceed the limit of 1048576 bytes (test limit)"), std::string::npos) << m;
    EXPECT_FALSE(std::filesystem::exists(tmp / "out/big.bin"));
  }
  auto mem = NewMemoryStorage("limit");
  ASSERT_TRUE(Put(*mem, "big", data).ok());
  auto r = OpenStream("mem://limit/big", o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::vector<char> buf(64 << 10);
  uint64_t total = 0;
  Status end;
  for (;;) {
    auto n = (*r)->Read(buf.data(), buf.size());
    if (!n.ok()) {
      end = n.status();
      break;
    }
    if (*n == 0) break;
    total += *n;
  }
  ASSERT_FALSE(end.ok()) << "read " << total << " bytes past a limit of 1 MiB";
  EXPECT_NE(end.message().find("mem://limit/big"), std::string::npos) << end.message();
  EXPECT_LE(total, o.max_object_bytes);
  // At the limit exactly, everything passes.
  o.max_object_bytes = data.size();
  EXPECT_TRUE(CopyObject(tmp / "big.bin", tmp / "out/ok.bin", o).ok());
}

}  // namespace
}  // namespace tb::storage
