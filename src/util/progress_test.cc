#include "util/progress.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

namespace tb {
namespace {

// With a listener, a Progress hands over samples of its counters from its own thread and a
// final one with the exact totals from Finish(); ETA comes from the bytes, else the files.
TEST(Progress, ListenerGetsSamplesAndAFinalOne) {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<ProgressSample> seen;
  {
    Progress p("verify", 0, 10, false, [&](const ProgressSample& s) {
      std::lock_guard<std::mutex> lock(mu);
      seen.push_back(s);
      cv.notify_all();
    });
    p.Add(4096, 2);
    std::unique_lock<std::mutex> lock(mu);
    // An event, not a duration: the first tick's sample (bounded wait so a hang fails).
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(60), [&] { return !seen.empty(); }));
    EXPECT_EQ(seen[0].label, "verify");
    EXPECT_FALSE(seen[0].final);
    EXPECT_EQ(seen[0].files, 2u);
    EXPECT_EQ(seen[0].total_files, 10u);
    EXPECT_GE(seen[0].eta_s, 0);  // 8 files left at the rate so far
    lock.unlock();
    p.Add(1, 8);
    p.Finish();
  }
  ASSERT_FALSE(seen.empty());
  EXPECT_TRUE(seen.back().final);
  EXPECT_EQ(seen.back().bytes, 4097u);
  EXPECT_EQ(seen.back().files, 10u);
  EXPECT_EQ(seen.back().eta_s, 0);
  for (size_t i = 0; i + 1 < seen.size(); ++i) EXPECT_FALSE(seen[i].final);
}

TEST(Progress, LineFormats) {
  ProgressSample s;
  s.label = "download";
  s.bytes = 3 << 20;
  s.total_bytes = 4 << 20;
  s.bytes_per_s = 1 << 20;
  s.eta_s = 61;
  EXPECT_EQ(FormatProgressLine(s), "download  3.0 MiB / 4.0 MiB  1.0 MiB/s  ETA 1:01");
  ProgressSample t;
  t.label = "train";
  t.train = true;
  t.epoch = 1;
  t.epochs = 2;
  t.step = 200;
  t.steps_per_epoch = 250;
  t.loss = 2.25;
  t.samples_per_s = 1000;
  EXPECT_EQ(FormatProgressLine(t), "train  epoch 1/2  step 200/250  loss 2.250  1000 samples/s");
  t.au = 0.975;
  EXPECT_EQ(FormatProgressLine(t), "train  epoch 1/2  step 200/250  loss 2.250  1000 samples/s  AU 0.97");
}

}  // namespace
}  // namespace tb
