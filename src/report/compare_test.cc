#include "report/compare.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "report/runs_testing.h"
#include "report/stats.h"

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

// Two repeated runs whose verify times are `a` and `b` (totals alike).
std::vector<RunResult> RepeatedPair(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<RunResult> runs{InplaceRun(), InplaceRun()};
  runs[1].label = "again";
  for (int i = 0; i < 2; ++i) {
    const auto& times = i == 0 ? a : b;
    runs[i].stages[3].repeat = MakeRepeatStats(times);
    runs[i].stages[3].seconds = runs[i].stages[3].repeat->median;
    runs[i].repeat = RunRepeat{static_cast<int>(times.size()), 0, MakeRepeatStats(times)};
    runs[i].total_seconds = runs[i].repeat->totals.median;
  }
  return runs;
}

TEST(CompareRepeat, IdenticalDistributionsAreNotSignificant) {
  auto runs = RepeatedPair({1.0, 1.2, 0.9, 1.1, 1.05}, {1.1, 0.95, 1.0, 1.15, 1.2});
  Comparison c = Compare(runs);
  const CompareCell& verify = c.stages[3].cells[1];
  ASSERT_TRUE(verify.speedup_low && verify.speedup_high && verify.significant);
  EXPECT_FALSE(*verify.significant);
  EXPECT_DOUBLE_EQ(*verify.speedup_low, 0.9 / 1.2);
  EXPECT_DOUBLE_EQ(*verify.speedup_high, 1.2 / 0.95);
  EXPECT_LE(*verify.speedup_low, *verify.speedup);
  EXPECT_GE(*verify.speedup_high, *verify.speedup);
  ASSERT_TRUE(c.total.cells[1].significant);
  EXPECT_FALSE(*c.total.cells[1].significant);
  EXPECT_FALSE(c.stages[2].cells[1].speedup_low);  // no repeat on extract: no interval
  EXPECT_FALSE(c.stages[2].cells[1].significant);
  EXPECT_TRUE(HasIntervals(c));
  EXPECT_EQ(FormatSpeedupInterval(verify), "0.95\u00d7 (0.75\u20131.26) ~");
  std::string table = RenderCompareTable(runs);
  EXPECT_NE(table.find("(0.75\u20131.26) ~"), std::string::npos) << table;
  EXPECT_NE(table.find(kNotSignificantLegend), std::string::npos) << table;
  EXPECT_NE(RenderCompareHtml(runs).find("(0.75\u20131.26) ~"), std::string::npos);
  auto j = nlohmann::json::parse(RenderCompareJson(runs));
  EXPECT_EQ(j["stages"][3]["significant"][1], false);
  EXPECT_DOUBLE_EQ(j["stages"][3]["speedup_low"][1].get<double>(), 0.75);
  EXPECT_TRUE(j["stages"][2]["significant"][1].is_null());
  EXPECT_TRUE(j["stages"][2]["speedup_low"][1].is_null());
}

TEST(CompareRepeat, SeparatedDistributionsAreSignificant) {
  auto runs = RepeatedPair({10.0, 10.5, 9.8, 10.2, 10.1, 9.9}, {5.0, 5.1, 4.9, 5.2, 5.05, 4.95});
  Comparison c = Compare(runs);
  const CompareCell& verify = c.stages[3].cells[1];
  ASSERT_TRUE(verify.significant);
  EXPECT_TRUE(*verify.significant);
  EXPECT_DOUBLE_EQ(*verify.speedup_low, 9.8 / 5.2);
  EXPECT_DOUBLE_EQ(*verify.speedup_high, 10.5 / 4.9);
  EXPECT_EQ(FormatSpeedupInterval(verify).find("~"), std::string::npos);
  auto j = nlohmann::json::parse(RenderCompareJson(runs));
  EXPECT_EQ(j["stages"][3]["significant"][1], true);
  EXPECT_EQ(j["total"]["significant"][1], true);
}

TEST(CompareRepeat, SingleRunsHaveNoIntervalOrLegend) {
  std::vector<RunResult> runs{StagedRun(), InplaceRun()};
  Comparison c = Compare(runs);
  EXPECT_FALSE(HasIntervals(c));
  EXPECT_EQ(RenderCompareTable(runs).find(kNotSignificantLegend), std::string::npos);
  auto j = nlohmann::json::parse(RenderCompareJson(runs));
  EXPECT_TRUE(j["total"]["significant"][1].is_null());
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

TEST(Scaling, OnlyWithTwoOrMoreWorldSizes) {
  EXPECT_TRUE(Scaling({StagedRun(), InplaceRun()}).empty());
  EXPECT_TRUE(Scaling({testing::RanksRun(2), testing::RanksRun(2)}).empty());
  EXPECT_FALSE(Scaling({testing::RanksRun(1), testing::RanksRun(2)}).empty());
}

TEST(Scaling, PointsByRanksWithTheIdealFromTheFewestRanks) {
  // Given in a shuffled order: the view sorts by ranks; 4 ranks at 80% efficiency.
  std::vector<RunResult> runs = {testing::RanksRun(4, 0.8), testing::RanksRun(1), testing::RanksRun(2)};
  std::vector<ScalingRow> rows = Scaling(runs);
  // download, integrity and extract are skipped in every run: left out.
  ASSERT_EQ(rows.size(), 6u);
  EXPECT_EQ(rows[0].stage, "verify");
  const ScalingRow& verify = rows[0];
  ASSERT_EQ(verify.points.size(), 3u);
  EXPECT_EQ(verify.points[0].ranks, 1);
  EXPECT_EQ(verify.points[0].run, 1u);
  EXPECT_EQ(verify.points[2].ranks, 4);
  EXPECT_EQ(verify.points[2].run, 0u);
  const double s1 = 214.04, m1 = 186000000 / 1e6 / 214.04;
  EXPECT_NEAR(verify.points[1].seconds, s1 / 2, 1e-9);
  EXPECT_NEAR(*verify.points[2].ideal_seconds, s1 / 4, 1e-9);
  EXPECT_NEAR(*verify.points[2].ideal_mb_per_s, m1 * 4, 1e-9);
  EXPECT_NEAR(*verify.points[2].ideal_seconds / verify.points[2].seconds, 0.8, 1e-9);  // efficiency
  // A stage that did not scale: the ideal still comes from the one-rank run.
  const ScalingRow& train = rows.back();
  EXPECT_EQ(train.stage, "train");
  EXPECT_NEAR(*train.points[2].ideal_seconds, 120.47 / 4, 1e-9);
}

TEST(Scaling, NoIdealWithoutAnOkBaseline) {
  std::vector<RunResult> runs = {testing::RanksRun(1), testing::RanksRun(2)};
  runs[0].stages[3].status = StageStatus::kFailed;
  runs[0].stages[3].error = "stage verify: bad";
  runs[1].stages[3].status = StageStatus::kFailed;
  runs[1].stages[3].error = "stage verify: bad";
  std::vector<ScalingRow> rows = Scaling(runs);
  ASSERT_EQ(rows[0].stage, "verify");
  for (const ScalingPoint& p : rows[0].points) {
    EXPECT_FALSE(p.ideal_seconds);
    EXPECT_FALSE(p.ideal_mb_per_s);
  }
}

TEST(CompareTable, ShowsRanksAndTheScalingView) {
  std::string table = RenderCompareTable({testing::RanksRun(1), testing::RanksRun(2), testing::RanksRun(4, 0.5)});
  EXPECT_NE(table.find("(inplace, 4 ranks)"), std::string::npos) << table;
  EXPECT_NE(table.find("Scaling by ranks"), std::string::npos) << table;
  // verify at 4 ranks: 214.04 / 2 = 107.02 s against the ideal 53.51 s, 50 % efficiency.
  EXPECT_NE(table.find("107.02"), std::string::npos) << table;
  EXPECT_NE(table.find("53.51"), std::string::npos) << table;
  EXPECT_NE(table.find("50%"), std::string::npos) << table;
  EXPECT_EQ(RenderCompareTable({StagedRun(), InplaceRun()}).find("Scaling by ranks"), std::string::npos);
}

TEST(CompareJson, CarriesWorldSizesAndTheScalingView) {
  auto j = nlohmann::json::parse(RenderCompareJson({testing::RanksRun(1), testing::RanksRun(4)}));
  EXPECT_EQ(j["runs"][1]["world_size"], 4);
  ASSERT_FALSE(j["scaling"].empty());
  EXPECT_EQ(j["scaling"][0]["name"], "verify");
  EXPECT_NEAR(j["scaling"][0]["points"][1]["ideal_seconds"].get<double>(), 214.04 / 4, 1e-9);
  EXPECT_TRUE(nlohmann::json::parse(RenderCompareJson({StagedRun(), InplaceRun()}))["scaling"].empty());
}

}  // namespace
}  // namespace tb::report
