#include "util/md5_multi.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "util/fs.h"
#include "util/md5.h"
#include "util/testing.h"

namespace tb {
namespace {

std::vector<Md5Isa> SupportedIsas() {
  std::vector<Md5Isa> out;
  for (Md5Isa isa : {Md5Isa::kScalar, Md5Isa::kAvx2, Md5Isa::kAvx512}) {
    if (Md5IsaSupported(isa)) out.push_back(isa);
  }
  return out;
}

std::string RandomBytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

class Md5MultiIsaTest : public ::testing::TestWithParam<Md5Isa> {};

TEST_P(Md5MultiIsaTest, EveryLengthUpTo300MatchesOpenSsl) {
  // All 301 messages in one batch, so every lane sees neighbours of other lengths; then each
  // length alone with lanes of shifted lengths, to put every length in every lane.
  std::mt19937_64 rng(1);
  std::string bytes = RandomBytes(rng, 300);
  std::vector<std::string_view> msgs;
  for (size_t n = 0; n <= 300; ++n) msgs.emplace_back(bytes.data(), n);
  auto got = Md5Many(msgs, GetParam());
  ASSERT_EQ(got.size(), msgs.size());
  for (size_t n = 0; n <= 300; ++n) EXPECT_EQ(ToHex(got[n]), ToHex(Md5Of(msgs[n]))) << "length " << n;

  const int lanes = Md5IsaLanes(GetParam());
  for (int shift = 1; shift < lanes; ++shift) {
    std::vector<std::string_view> rot(msgs.begin() + shift, msgs.end());
    rot.insert(rot.end(), msgs.begin(), msgs.begin() + shift);
    auto r = Md5Many(rot, GetParam());
    for (size_t i = 0; i < rot.size(); ++i) ASSERT_EQ(ToHex(r[i]), ToHex(Md5Of(rot[i]))) << "shift " << shift;
  }
}

TEST_P(Md5MultiIsaTest, RandomLargeMessagesMatchOpenSsl) {
  std::mt19937_64 rng(2);
  std::vector<std::string> data;
  for (int i = 0; i < 40; ++i) data.push_back(RandomBytes(rng, rng() % (300 << 10)));
  data.push_back("");
  data.push_back(RandomBytes(rng, 1 << 20));
  std::vector<std::string_view> msgs(data.begin(), data.end());
  auto got = Md5Many(msgs, GetParam());
  for (size_t i = 0; i < msgs.size(); ++i) {
    EXPECT_EQ(ToHex(got[i]), ToHex(Md5Of(msgs[i]))) << "message " << i << " of " << msgs[i].size() << " bytes";
  }
}

TEST_P(Md5MultiIsaTest, PiecewiseFeedingWithUnalignedPieces) {
  // Each lane gets its message in random-sized pieces (carry across Feed calls), and the
  // caller scribbles over a piece's buffer as soon as the lane no longer wants it.
  std::mt19937_64 rng(3);
  Md5Multi m(GetParam());
  const int lanes = m.lanes();
  std::vector<std::string> msg(lanes);
  std::vector<size_t> pos(lanes, 0);
  std::vector<std::string> buf(lanes);
  for (int l = 0; l < lanes; ++l) msg[l] = RandomBytes(rng, 1000 + rng() % 20000);
  std::vector<bool> done(lanes, false);
  int left = lanes;
  while (left > 0) {
    for (int l = 0; l < lanes; ++l) {
      if (done[l] || m.pending(l) >= 64) continue;
      if (pos[l] == msg[l].size()) {
        EXPECT_EQ(ToHex(m.Finish(l)), ToHex(Md5Of(msg[l]))) << "lane " << l;
        done[l] = true;
        --left;
        continue;
      }
      std::fill(buf[l].begin(), buf[l].end(), 'x');
      size_t k = std::min<size_t>(msg[l].size() - pos[l], 1 + rng() % 700);
      buf[l] = msg[l].substr(pos[l], k);
      pos[l] += k;
      m.Feed(l, buf[l].data(), buf[l].size());
    }
    m.Run();
  }
}

INSTANTIATE_TEST_SUITE_P(Isas, Md5MultiIsaTest, ::testing::ValuesIn(SupportedIsas()),
                         [](const auto& info) { return std::string(Md5IsaName(info.param)); });

TEST(Md5Multi, LanesAndNames) {
  EXPECT_EQ(Md5IsaLanes(Md5Isa::kScalar), 1);
  EXPECT_EQ(Md5IsaLanes(Md5Isa::kAvx2), 8);
  EXPECT_EQ(Md5IsaLanes(Md5Isa::kAvx512), 16);
  EXPECT_STREQ(Md5IsaName(Md5Isa::kAvx512), "avx512");
  EXPECT_TRUE(Md5IsaSupported(BestMd5Isa()));
  Md5Multi m(BestMd5Isa());
  EXPECT_EQ(m.lanes(), Md5IsaLanes(m.isa()));
}

TEST(Md5Multi, EnvironmentLowersTheIsa) {
  setenv("TB_MD5_ISA", "scalar", 1);
  EXPECT_EQ(BestMd5Isa(), Md5Isa::kScalar);
  unsetenv("TB_MD5_ISA");
}

TEST(Md5Files, MatchOpenSslAcrossChunkBoundariesAndThreads) {
  testing::TempDir dir;
  std::mt19937_64 rng(4);
  const size_t chunk = 4096;
  std::vector<size_t> sizes = {0, 1, 55, 56, 63, 64, 65, 127, 128, chunk - 1, chunk, chunk + 1,
                               3 * chunk + 17, 1 << 20,
                               (5 << 20) + 3};  // much larger than the rest: hashed alone, first
  for (int i = 0; i < 40; ++i) sizes.push_back(rng() % (5 * chunk));
  std::vector<std::string> paths;
  std::vector<std::string> expect;
  for (size_t i = 0; i < sizes.size(); ++i) {
    std::string data = RandomBytes(rng, sizes[i]);
    paths.push_back(dir / ("f" + std::to_string(i)));
    ASSERT_TRUE(WriteFileAtomic(paths.back(), data).ok());
    expect.push_back(ToHex(Md5Of(data)));
  }
  for (Md5Isa isa : SupportedIsas()) {
    for (int threads : {1, 2}) {
      Md5FilesOptions opt;
      opt.threads = threads;
      opt.chunk_bytes = chunk;
      opt.isa = isa;
      std::atomic<uint64_t> bytes{0}, files{0};
      opt.progress = [&](uint64_t b, uint64_t f) {
        bytes += b;
        files += f;
      };
      auto res = Md5Files(paths, opt);
      ASSERT_EQ(res.size(), paths.size());
      uint64_t total = 0;
      for (size_t i = 0; i < res.size(); ++i) {
        ASSERT_TRUE(res[i].status.ok()) << res[i].status.ToString();
        EXPECT_EQ(ToHex(res[i].digest), expect[i]) << Md5IsaName(isa) << " file " << i << " size " << sizes[i];
        EXPECT_EQ(res[i].bytes, sizes[i]);
        total += sizes[i];
      }
      EXPECT_EQ(bytes.load(), total);
      EXPECT_EQ(files.load(), paths.size());
    }
  }
}

TEST(Md5Fds, OpenFilesHashFromOffsetZeroAndStayOpen) {
  testing::TempDir dir;
  std::mt19937_64 rng(9);
  std::vector<int> fds;
  std::vector<std::string> names, expect;
  for (size_t size : {size_t{0}, size_t{100}, size_t{70000}, size_t{(6 << 20) + 1}, size_t{4096}}) {
    std::string data = RandomBytes(rng, size);
    names.push_back(dir / ("g" + std::to_string(size)));
    ASSERT_TRUE(WriteFileAtomic(names.back(), data).ok());
    int fd = ::open(names.back().c_str(), O_RDONLY);
    ASSERT_GE(fd, 0);
    ::lseek(fd, static_cast<off_t>(size / 2), SEEK_SET);  // the fd's position does not matter
    fds.push_back(fd);
    expect.push_back(ToHex(Md5Of(data)));
  }
  auto res = Md5Fds(fds, names);
  ASSERT_EQ(res.size(), fds.size());
  for (size_t i = 0; i < res.size(); ++i) {
    ASSERT_TRUE(res[i].status.ok()) << res[i].status.ToString();
    EXPECT_EQ(ToHex(res[i].digest), expect[i]) << names[i];
  }
  for (int fd : fds) EXPECT_EQ(::close(fd), 0) << "Md5Fds closed an fd it does not own";
}

TEST(Md5Files, MissingFileIsReportedByPathAndOthersStillHash) {
  testing::TempDir dir;
  ASSERT_TRUE(WriteFileAtomic(dir / "a", "hello").ok());
  auto res = Md5Files({dir / "a", dir / "missing", dir / "a"});
  ASSERT_EQ(res.size(), 3u);
  EXPECT_TRUE(res[0].status.ok());
  EXPECT_EQ(ToHex(res[0].digest), "5d41402abc4b2a76b9719d911017c592");
  EXPECT_TRUE(res[1].status.IsNotFound()) << res[1].status.ToString();
  EXPECT_NE(res[1].status.message().find("missing"), std::string::npos);
  EXPECT_EQ(ToHex(res[2].digest), "5d41402abc4b2a76b9719d911017c592");
}

}  // namespace
}  // namespace tb
