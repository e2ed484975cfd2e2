#include "util/io_stats.h"

#include <gtest/gtest.h>

#include <string>

#include "util/fs.h"
#include "util/testing.h"

namespace tb {
namespace {

TEST(IoStats, ParsesProcIo) {
  IoCounters c;
  ASSERT_TRUE(
      ParseProcIo("rchar: 100\nwchar: 7\nsyscr: 3\nsyscw: 1\nread_bytes: 4096\nwrite_bytes: 8192\n"
                  "cancelled_write_bytes: 0\n",
                  &c));
  EXPECT_EQ(c.rchar, 100u);
  EXPECT_EQ(c.wchar, 7u);
  EXPECT_EQ(c.read_bytes, 4096u);
  EXPECT_EQ(c.write_bytes, 8192u);
}

TEST(IoStats, RefusesTextWithoutTheReadCounters) {
  IoCounters c;
  EXPECT_FALSE(ParseProcIo("", &c));
  EXPECT_FALSE(ParseProcIo("rchar: 5\n", &c));  // no read_bytes (accounting off)
  EXPECT_FALSE(ParseProcIo("rchar: x\nread_bytes: y\n", &c));
  EXPECT_FALSE(ParseProcIo(std::string(1 << 16, ':'), &c));
}

TEST(IoStats, DeltaNeverGoesNegative) {
  IoCounters before, after;
  before.proc_io = after.proc_io = true;
  before.rchar = 10;
  after.rchar = 4;  // e.g. counters of another process
  before.read_bytes = 1;
  after.read_bytes = 9;
  before.user_cpu_s = 2;
  after.user_cpu_s = 1;
  IoCounters d = IoDelta(before, after);
  EXPECT_EQ(d.rchar, 0u);
  EXPECT_EQ(d.read_bytes, 8u);
  EXPECT_EQ(d.user_cpu_s, 0);
  before.proc_io = false;
  EXPECT_EQ(IoDelta(before, after).read_bytes, 0u);  // unknown, not a made-up number
}

TEST(IoStats, ReadsShowInRchar) {
  IoCounters probe = SampleIoCounters();
  if (!probe.proc_io) GTEST_SKIP() << "/proc/self/io not available (task I/O accounting off)";
  testing::TempDir dir;
  std::string data(3 << 20, 'x');
  ASSERT_TRUE(WriteFileAtomic(dir / "f", data).ok());
  IoCounters before = SampleIoCounters();
  auto text = ReadFile(dir / "f");
  ASSERT_TRUE(text.ok());
  IoCounters d = IoDelta(before, SampleIoCounters());
  EXPECT_GE(d.rchar, data.size());
}

TEST(IoStats, CpuTimeGrowsWithWork) {
  IoCounters before = SampleIoCounters();
  volatile uint64_t x = 1;
  // Works until getrusage reports the time (its resolution is coarse); bounded all the same.
  for (int round = 0; round < 10000; ++round) {
    for (int i = 0; i < 1000000; ++i) x = x * 6364136223846793005ull + 1;
    if (IoDelta(before, SampleIoCounters()).user_cpu_s > 0) break;
  }
  EXPECT_GT(IoDelta(before, SampleIoCounters()).user_cpu_s, 0);
}

TEST(IoStats, CountsNetworkTransfers) {
  IoCounters before = SampleIoCounters();
  CountNetworkTransfer(1000, 0);
  CountNetworkTransfer(0, 24);
  IoCounters d = IoDelta(before, SampleIoCounters());
  EXPECT_EQ(d.net_rx_bytes, 1000u);
  EXPECT_EQ(d.net_tx_bytes, 24u);
  EXPECT_EQ(d.net_requests, 2u);
}

}  // namespace
}  // namespace tb
