#include "report/compare.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "report/runs_testing.h"

namespace tb::report {
namespace {

using testing::InplaceRun;
using testing::StagedRun;

TEST(Speedup, IsFirstSecondsOverThisRunsSeconds) {
  auto s = Speedup(872.40, StageStatus::kOk, 214.04, StageStatus::kOk);
  ASSERT_TRUE(s);
  EXPECT_NEAR(*s, 4.0759, 1e-4);
  EXPECT_EQ(FormatSpeedup(*s), "4.08\u00d7");
  EXPECT_EQ(FormatSpeedup(*Speedup(100, StageStatus::kOk, 200, StageStatus::kOk)), "0.50\u00d7");
}

TEST(Speedup, NotApplicableWhenEitherSideIsNotOk) {
  EXPECT_FALSE(Speedup(275.55, StageStatus::kOk, 0, StageStatus::kSkipped));
  EXPECT_FALSE(Speedup(0, StageStatus::kSkipped, 275.55, StageStatus::kOk));
  EXPECT_FALSE(Speedup(10, StageStatus::kFailed, 5, StageStatus::kOk));
  EXPECT_FALSE(Speedup(10, StageStatus::kOk, 5, StageStatus::kInterrupted));
  EXPECT_FALSE(Speedup(0, StageStatus::kOk, 5, StageStatus::kOk));
  EXPECT_FALSE(Speedup(5, StageStatus::kOk, 0, StageStatus::kOk));
}

TEST(Compare, RowsFollowPipelineOrderAndSkippedStagesHaveNoSpeedup) {
  Comparison c = Compare({StagedRun(), InplaceRun()});
  ASSERT_EQ(c.stages.size(), 9u);
  for (size_t i = 0; i < 9; ++i) EXPECT_EQ(c.stages[i].stage, kStageNames[i]);
  const CompareRow& download = c.stages[0];
  EXPECT_EQ(download.cells[1].status, StageStatus::kSkipped);
  EXPECT_FALSE(download.cells[1].speedup);
  ASSERT_TRUE(download.cells[0].speedup);
  EXPECT_DOUBLE_EQ(*download.cells[0].speedup, 1.0);
  const CompareRow& verify = c.stages[3];
  ASSERT_TRUE(verify.cells[1].speedup);
  EXPECT_NEAR(*verify.cells[1].speedup, 872.40 / 214.04, 1e-12);
  EXPECT_EQ(c.total.stage, "Total Runtime");
  ASSERT_TRUE(c.total.cells[1].speedup);
  EXPECT_NEAR(*c.total.cells[1].speedup, 1458.66 / 372.31, 1e-12);
}

TEST(Compare, ReversedOrderGivesReciprocalSpeedups) {
  Comparison c = Compare({InplaceRun(), StagedRun()});
  EXPECT_NEAR(*c.stages[3].cells[1].speedup, 214.04 / 872.40, 1e-12);
  EXPECT_FALSE(c.stages[0].cells[0].speedup);  // the baseline itself skipped download
  EXPECT_FALSE(c.stages[0].cells[1].speedup);
}

TEST(Compare, UnknownAndMissingStagesAreKept) {
  RunResult a = StagedRun(), b = InplaceRun();
  a.stages.push_back(testing::Stage("warmup", StageStatus::kOk, 3));
  b.stages.erase(b.stages.begin() + 5);  // no "meta"
  Comparison c = Compare({a, b});
  ASSERT_EQ(c.stages.size(), 10u);
  EXPECT_EQ(c.stages[5].stage, "meta");
  EXPECT_FALSE(c.stages[5].cells[1].present);
  EXPECT_FALSE(c.stages[5].cells[1].speedup);
  EXPECT_EQ(c.stages[9].stage, "warmup");
}

TEST(Compare, FailedRunHasNoTotalSpeedup) {
  RunResult b = InplaceRun();
  b.status = StageStatus::kFailed;
  Comparison c = Compare({StagedRun(), b});
  EXPECT_FALSE(c.total.cells[1].speedup);
}

TEST(Format, Numbers) {
  EXPECT_EQ(FormatSeconds(275.549), "275.55");
  EXPECT_EQ(FormatSeconds(0), "0.00");
  EXPECT_EQ(FormatSeconds(0.004), "<0.01");
  EXPECT_EQ(FormatMbPerS(0), "\u2014");
  EXPECT_EQ(FormatMbPerS(646.2), "646.2");
  EXPECT_EQ(FormatMbPerS(3.14159), "3.14");
  EXPECT_EQ(FormatBytesIec(512), "512 B");
  EXPECT_EQ(FormatBytesIec(134217728000ull), "125.0 GiB");
}

TEST(Format, EscapeXml) {
  EXPECT_EQ(EscapeXml("<script>alert('x&y')</script> \"q\""),
            "&lt;script&gt;alert(&#39;x&amp;y&#39;)&lt;/script&gt; &quot;q&quot;");
  EXPECT_EQ(EscapeXml(std::string("a\x01" "b", 3)), "a\xef\xbf\xbd" "b");
}

TEST(CompareJson, SameFactsAsTheTable) {
  auto j = nlohmann::json::parse(RenderCompareJson({StagedRun(), InplaceRun()}));
  EXPECT_EQ(j["schema"], "tierbench.compare/1");
  ASSERT_EQ(j["runs"].size(), 2u);
  EXPECT_EQ(j["runs"][1]["label"], "WEKA");
  EXPECT_EQ(j["runs"][1]["scenario"], "inplace");
  ASSERT_EQ(j["stages"].size(), 9u);
  EXPECT_EQ(j["stages"][0]["name"], "download");
  EXPECT_TRUE(j["stages"][0]["seconds"][1].is_null());
  EXPECT_EQ(j["stages"][0]["status"][1], "skipped");
  EXPECT_TRUE(j["stages"][0]["speedup"][1].is_null());
  EXPECT_DOUBLE_EQ(j["stages"][3]["seconds"][0].get<double>(), 872.40);
  EXPECT_NEAR(j["stages"][3]["speedup"][1].get<double>(), 872.40 / 214.04, 1e-12);
  EXPECT_NEAR(j["total"]["speedup"][1].get<double>(), 1458.66 / 372.31, 1e-12);
  EXPECT_DOUBLE_EQ(j["total"]["seconds"][1].get<double>(), 372.31);
}

}  // namespace
}  // namespace tb::report
