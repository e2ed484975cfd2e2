#include "pipeline/repeat.h"

#include <gtest/gtest.h>

#include "report/runs_testing.h"

namespace tb::pipeline {
namespace {

using report::RunResult;
using report::StageStatus;

// A run whose verify took `verify` seconds (of 500 MB) and whose total is 100 + verify.
RunResult FakeRun(double verify, StageStatus status = StageStatus::kOk) {
  RunResult r = report::testing::InplaceRun();
  r.stages[3].seconds = verify;
  r.stages[3].bytes = 500000000;
  r.stages[3].status = status == StageStatus::kOk ? StageStatus::kOk : status;
  if (status == StageStatus::kFailed) r.stages[3].error = "stage verify: md5 mismatch";
  r.status = status;
  r.total_seconds = 100 + verify;
  return r;
}

// A scripted RunPipeline: returns the runs in order and counts the calls.
struct Script {
  std::vector<RunResult> runs;
  size_t calls = 0;
  RunResult operator()() { return runs.at(calls++); }
};

TEST(Repeat, OneRunIsReturnedAsIs) {
  Script script{{FakeRun(4)}};
  RunResult r = RunRepeatedWith(1, 0, std::ref(script));
  EXPECT_EQ(script.calls, 1u);
  EXPECT_FALSE(r.repeat);
  EXPECT_FALSE(r.stages[3].repeat);
  EXPECT_DOUBLE_EQ(r.stages[3].seconds, 4);
}

TEST(Repeat, WarmupsAreDiscardedAndStagesCarryTheMedian) {
  Script script{{FakeRun(50), FakeRun(40), FakeRun(5), FakeRun(2), FakeRun(4), FakeRun(3), FakeRun(1)}};
  std::vector<std::string> notes;
  RunResult r = RunRepeatedWith(5, 2, std::ref(script), [&](const std::string& l) { notes.push_back(l); });
  EXPECT_EQ(script.calls, 7u);
  ASSERT_TRUE(r.repeat);
  EXPECT_EQ(r.repeat->requested, 5);
  EXPECT_EQ(r.repeat->warmup, 2);
  EXPECT_EQ(r.repeat->totals.seconds, (std::vector<double>{105, 102, 104, 103, 101}));
  EXPECT_DOUBLE_EQ(r.total_seconds, 103);
  const auto& verify = r.stages[3];
  ASSERT_TRUE(verify.repeat);
  EXPECT_EQ(verify.repeat->seconds, (std::vector<double>{5, 2, 4, 3, 1}));
  EXPECT_DOUBLE_EQ(verify.seconds, 3);
  EXPECT_DOUBLE_EQ(verify.mb_per_s, 500.0 / 3);
  EXPECT_DOUBLE_EQ(verify.repeat->ci_low, 1);
  EXPECT_DOUBLE_EQ(verify.repeat->ci_high, 5);
  EXPECT_DOUBLE_EQ(verify.repeat->ci_level, 0.9375);
  EXPECT_FALSE(r.stages[0].repeat);  // skipped in every run (in place: no download)
  EXPECT_EQ(r.status, StageStatus::kOk);
  ASSERT_EQ(notes.size(), 14u);
  EXPECT_EQ(notes[0], "warmup 1/2 start (results discarded)");
  EXPECT_EQ(notes[4], "repetition 1/5 start");
  EXPECT_EQ(notes[5], "repetition 1/5 end status=ok total_seconds=105.000");
}

TEST(Repeat, TheFirstRunNotOkEndsItWithTheRunsSoFar) {
  Script script{{FakeRun(2), FakeRun(3), FakeRun(1, StageStatus::kFailed), FakeRun(4), FakeRun(5)}};
  RunResult r = RunRepeatedWith(5, 0, std::ref(script));
  EXPECT_EQ(script.calls, 3u);
  EXPECT_EQ(r.status, StageStatus::kFailed);
  EXPECT_EQ(r.stages[3].status, StageStatus::kFailed);
  EXPECT_FALSE(r.stages[3].repeat);
  ASSERT_TRUE(r.repeat);
  EXPECT_EQ(r.repeat->requested, 5);
  EXPECT_EQ(r.repeat->totals.seconds, (std::vector<double>{102, 103, 101}));
}

TEST(Repeat, AFailedWarmupEndsItUnmeasured) {
  Script script{{FakeRun(2, StageStatus::kFailed), FakeRun(3)}};
  RunResult r = RunRepeatedWith(3, 1, std::ref(script));
  EXPECT_EQ(script.calls, 1u);
  EXPECT_EQ(r.status, StageStatus::kFailed);
  EXPECT_FALSE(r.repeat);
}

TEST(Repeat, CancelBetweenRunsKeepsTheRunsSoFarAsInterrupted) {
  std::atomic<bool> cancel{false};
  Script script{{FakeRun(2), FakeRun(3), FakeRun(4)}};
  auto once = [&] {
    RunResult r = script();
    if (script.calls == 2) cancel = true;
    return r;
  };
  RunResult r = RunRepeatedWith(3, 0, once, {}, &cancel);
  EXPECT_EQ(script.calls, 2u);
  EXPECT_EQ(r.status, StageStatus::kInterrupted);
  ASSERT_TRUE(r.stages[3].repeat);
  EXPECT_EQ(r.stages[3].repeat->seconds, (std::vector<double>{2, 3}));
  EXPECT_DOUBLE_EQ(r.stages[3].seconds, 2.5);
}

}  // namespace
}  // namespace tb::pipeline
