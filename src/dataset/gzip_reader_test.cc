#include "dataset/gzip_reader.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>

namespace tb::dataset {
namespace {

// gzip member of `data` made by zlib (the reference implementation).
std::string Gzip(const std::string& data, int level = 6) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, level, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, data.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string Mixed(size_t n, uint32_t seed) {  // half random, half repetitive
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = (i / 4096) % 2 ? static_cast<char>(rng()) : static_cast<char>("abcab"[i % 5]);
  return s;
}

// Reads everything through a source handing out `chunk` bytes at a time, `out_chunk` per Read.
Result<std::string> Gunzip(const std::string& gz, size_t chunk, size_t out_chunk, std::string prefix_take = {}) {
  size_t pos = prefix_take.size();
  GzipReader r(
      [&](char* buf, size_t n) -> Result<size_t> {
        size_t k = std::min({n, chunk, gz.size() - pos});
        std::memcpy(buf, gz.data() + pos, k);
        pos += k;
        return k;
      },
      "test.tar.gz", prefix_take);
  std::string out, buf(out_chunk, '\0');
  for (;;) {
    TB_ASSIGN_OR_RETURN(size_t n, r.Read(buf.data(), buf.size()));
    if (n == 0) break;
    out.append(buf.data(), n);
  }
  return out;
}

TEST(GzipReader, MatchesZlibForSizesAndChunkings) {
  for (size_t size : {size_t{0}, size_t{1}, size_t{100}, size_t{65536}, size_t{1 << 20} + 7}) {
    std::string data = Mixed(size, static_cast<uint32_t>(size));
    std::string gz = Gzip(data);
    for (size_t chunk : {size_t{1}, size_t{3}, size_t{4096}, size_t{1 << 20}}) {
      if (chunk < 4096 && size > 65536) continue;  // byte-at-a-time on 1 MiB is slow, not interesting
      for (size_t out_chunk : {size_t{1}, size_t{1000}, size_t{1 << 16}}) {
        if (out_chunk == 1 && size > 65536) continue;
        auto got = Gunzip(gz, chunk, out_chunk);
        ASSERT_TRUE(got.ok()) << got.status().message() << " size " << size << " chunk " << chunk;
        ASSERT_EQ(*got, data) << "size " << size << " chunk " << chunk << " out " << out_chunk;
      }
    }
  }
}

TEST(GzipReader, PrefixFromSniffingIsDecompressedFirst) {
  std::string data = Mixed(200000, 5), gz = Gzip(data);
  auto got = Gunzip(gz, 777, 4096, gz.substr(0, 10));
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(*got, data);
}

TEST(GzipReader, ConcatenatedMembersAreOneStream) {
  std::string a = Mixed(300000, 1), b = Mixed(5, 2), c = Mixed(70000, 3);
  std::string gz = Gzip(a, 1) + Gzip(b, 9) + Gzip("") + Gzip(c, 0);
  for (size_t chunk : {size_t{13}, size_t{1 << 20}}) {
    auto got = Gunzip(gz, chunk, 8192);
    ASSERT_TRUE(got.ok()) << got.status().message();
    EXPECT_EQ(*got, a + b + c);
  }
}

TEST(GzipReader, TrailingZerosAreTapePaddingButGarbageIsAnError) {
  std::string data = Mixed(10000, 9), gz = Gzip(data);
  auto padded = Gunzip(gz + std::string(10240, '\0'), 4096, 4096);
  ASSERT_TRUE(padded.ok()) << padded.status().message();
  EXPECT_EQ(*padded, data);
  auto garbage = Gunzip(gz + "junk", 4096, 4096);
  ASSERT_FALSE(garbage.ok());
  EXPECT_NE(garbage.status().message().find("trailing garbage"), std::string::npos) << garbage.status().message();
}

TEST(GzipReader, CorruptCrcIsReportedWithTheSourceName) {
  std::string data = Mixed(50000, 4), gz = Gzip(data);
  gz[gz.size() - 6] ^= 0x5a;  // inside the CRC-32 of the trailer
  auto got = Gunzip(gz, 4096, 4096);
  ASSERT_FALSE(got.ok());
  EXPECT_TRUE(got.status().IsCorruption());
  EXPECT_NE(got.status().message().find("test.tar.gz: gzip: CRC-32"), std::string::npos) << got.status().message();
}

TEST(GzipReader, FlippedPayloadByteNeverPassesSilently) {
  std::string data = Mixed(50000, 6), gz = Gzip(data);
  for (size_t at : {size_t{20}, gz.size() / 2, gz.size() - 12}) {
    std::string bad = gz;
    bad[at] ^= 0x01;
    auto got = Gunzip(bad, 4096, 4096);
    EXPECT_FALSE(got.ok() && *got == data) << "flip at " << at;
    if (got.ok()) ADD_FAILURE() << "flip at " << at << " decoded without error";
  }
}

TEST(GzipReader, TruncationIsAnErrorAtEveryLength) {
  std::string data = Mixed(20000, 7), gz = Gzip(data);
  for (size_t keep : {size_t{1}, size_t{3}, size_t{10}, gz.size() / 2, gz.size() - 8, gz.size() - 1}) {
    auto got = Gunzip(gz.substr(0, keep), 512, 4096);
    ASSERT_FALSE(got.ok()) << "kept " << keep;
    EXPECT_TRUE(got.status().IsCorruption()) << got.status().message();
  }
}

TEST(GzipReader, NotGzipAndEmptyInputAreErrors) {
  auto plain = Gunzip("ustar, not gzip", 4096, 4096);
  ASSERT_FALSE(plain.ok());
  EXPECT_NE(plain.status().message().find("not gzip"), std::string::npos);
  auto empty = Gunzip("", 4096, 4096);
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("empty"), std::string::npos);
}

TEST(GzipReader, SourceErrorsPassThrough) {
  std::string gz = Gzip(Mixed(100000, 8));
  size_t pos = 0;
  GzipReader r(
      [&](char* buf, size_t n) -> Result<size_t> {
        if (pos > 1000) return Status::IOError("connection reset by origin");
        size_t k = std::min<size_t>(n, 600);
        std::memcpy(buf, gz.data() + pos, k);
        pos += k;
        return k;
      },
      "x.gz");
  std::string buf(1 << 16, '\0');
  Status last;
  for (;;) {
    auto n = r.Read(buf.data(), buf.size());
    if (!n.ok()) {
      last = n.status();
      break;
    }
    ASSERT_NE(*n, 0u);
  }
  EXPECT_EQ(last.message(), "connection reset by origin");
}

}  // namespace
}  // namespace tb::dataset
