#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "report/compare.h"
#include "report/runs_testing.h"

namespace tb::report {
namespace {

using testing::EpochRuns;
using testing::InplaceRun;
using testing::StagedRun;
using testing::WithEpochs;

EpochCurve Curve(double one_off, std::vector<double> epochs) {
  EpochCurve c;
  c.one_off = one_off;
  c.epoch_seconds = std::move(epochs);
  double rest = 0;
  for (size_t i = 1; i < c.epoch_seconds.size(); ++i) rest += c.epoch_seconds[i];
  c.steady = c.epoch_seconds.size() >= 2 ? rest / static_cast<double>(c.epoch_seconds.size() - 1) : c.epoch_seconds[0];
  return c;
}

TEST(BreakEven, StagingPaysOffOnceItsCheaperEpochsHaveMadeUpTheOneOffCost) {
  // Staged: 100 s up front, then 10 s an epoch; in place: nothing up front, 20 s an epoch.
  // Equal at epoch 10 (200 s each), staged cheaper from epoch 11.
  const EpochCurve inplace = Curve(0, {20, 20}), staged = Curve(100, {10, 10});
  BreakEven b = FindBreakEven(inplace, 0, staged, 1);
  EXPECT_EQ(b.kind, BreakEvenKind::kAt);
  EXPECT_EQ(b.epoch, 11);
  EXPECT_EQ(b.cheaper, 1u);
  // The same crossing with the staged run first.
  b = FindBreakEven(staged, 0, inplace, 1);
  EXPECT_EQ(b.kind, BreakEvenKind::kAt);
  EXPECT_EQ(b.epoch, 11);
  EXPECT_EQ(b.cheaper, 0u);
}

TEST(BreakEven, NeverWhenTheHigherOneOffHasNoCheaperEpochs) {
  const EpochCurve inplace = Curve(0, {20, 20});
  EXPECT_EQ(FindBreakEven(inplace, 0, Curve(100, {30, 30}), 1).kind, BreakEvenKind::kNever);  // dearer epochs
  EXPECT_EQ(FindBreakEven(inplace, 0, Curve(100, {20, 20}), 1).kind, BreakEvenKind::kNever);  // the same epochs
  EXPECT_EQ(FindBreakEven(inplace, 0, inplace, 1).kind, BreakEvenKind::kNever);               // equal runs
}

TEST(BreakEven, FromTheStartWithEqualOneOffCosts) {
  BreakEven b = FindBreakEven(Curve(50, {20, 20}), 0, Curve(50, {15, 15}), 1);
  EXPECT_EQ(b.kind, BreakEvenKind::kFromStart);
  EXPECT_EQ(b.cheaper, 1u);
}

TEST(BreakEven, CrossingInsideTheMeasuredEpochs) {
  // The in-place run's first epoch is slow (a cold page cache): staged is cheaper after epoch 1
  // although its steady epoch is dearer; later the in-place run would win back, but the
  // break-even is the first crossing.
  BreakEven b = FindBreakEven(Curve(0, {200, 20, 20}), 0, Curve(100, {30, 30, 30}), 1);
  EXPECT_EQ(b.kind, BreakEvenKind::kAt);
  EXPECT_EQ(b.epoch, 1);
}

TEST(BreakEven, ExtrapolatesWithTheMeanOfTheEpochsAfterTheFirst) {
  const EpochCurve c = Curve(100, {40, 10, 20});
  EXPECT_DOUBLE_EQ(c.steady, 15);
  EXPECT_DOUBLE_EQ(c.Cumulative(0), 100);
  EXPECT_DOUBLE_EQ(c.Cumulative(2), 150);
  EXPECT_DOUBLE_EQ(c.Cumulative(3), 170);
  EXPECT_DOUBLE_EQ(c.Cumulative(5), 200);
  EXPECT_DOUBLE_EQ(Curve(0, {12}).Cumulative(4), 48);  // one epoch: it is the steady one
  // Different epoch counts compare through the extrapolation: 1 measured epoch against 3.
  BreakEven b = FindBreakEven(Curve(0, {20}), 0, Curve(100, {10, 10, 10}), 1);
  EXPECT_EQ(b.kind, BreakEvenKind::kAt);
  EXPECT_EQ(b.epoch, 11);
}

TEST(BreakEven, NeverBeyondTheLimit) {
  EXPECT_EQ(FindBreakEven(Curve(0, {20}), 0, Curve(1e9, {19.999}), 1).kind, BreakEvenKind::kNever);
  // Just within it: 999,999 epochs of 1 s saved pay off 999,999 s.
  BreakEven b = FindBreakEven(Curve(0, {20}), 0, Curve(999999 - 0.5, {19}), 1);
  EXPECT_EQ(b.kind, BreakEvenKind::kAt);
  EXPECT_EQ(b.epoch, 999999);
}

TEST(BreakEven, CurveFromTheResults) {
  // Stages before train: 1335.164 s, 100 s of which overlapped; train: 123.5 s, epochs 50 + 30.
  RunResult staged = WithEpochs(StagedRun(), 123.5, {50, 30});
  staged.overlapped_seconds = 100;
  std::optional<EpochCurve> c = CurveOf(staged);
  ASSERT_TRUE(c);
  EXPECT_NEAR(c->pre_train, 1235.164, 1e-9);
  EXPECT_NEAR(c->train_one_off, 43.5, 1e-9);
  EXPECT_NEAR(c->one_off, 1278.664, 1e-9);
  EXPECT_DOUBLE_EQ(c->steady, 30);
  // Skipped stages cost nothing.
  c = CurveOf(WithEpochs(InplaceRun(), 120.47, {55, 60}));
  ASSERT_TRUE(c);
  EXPECT_NEAR(c->pre_train, 251.84, 1e-9);
}

TEST(BreakEven, NoCurveWithoutAnOkTrainStageWithEpochTimes) {
  EXPECT_FALSE(CurveOf(StagedRun()));  // no epoch_seconds
  RunResult failed = WithEpochs(StagedRun(), 10, {5});
  failed.stages.back().status = StageStatus::kFailed;
  EXPECT_FALSE(CurveOf(failed));
  RunResult skipped = WithEpochs(StagedRun(), 0, {});
  skipped.stages.back().status = StageStatus::kSkipped;
  EXPECT_FALSE(CurveOf(skipped));
  RunResult no_train = WithEpochs(StagedRun(), 10, {5});
  no_train.stages.pop_back();
  EXPECT_FALSE(CurveOf(no_train));
  RunResult bad = WithEpochs(StagedRun(), 10, {5});
  bad.stages.back().detail_json = R"({"epoch_seconds":[5,"x"]})";
  EXPECT_FALSE(CurveOf(bad));
  bad.stages.back().detail_json = R"({"epoch_seconds":[5,-1]})";
  EXPECT_FALSE(CurveOf(bad));
  std::vector<double> too_many(kMaxBreakEvenMeasuredEpochs + 1, 1.0);
  EXPECT_FALSE(CurveOf(WithEpochs(StagedRun(), 1e6, too_many)));
  too_many.pop_back();
  EXPECT_TRUE(CurveOf(WithEpochs(StagedRun(), 1e6, too_many)));
}

TEST(BreakEven, ViewAgainstTheFirstRun) {
  BreakEvenView v = BreakEvens(EpochRuns());
  ASSERT_TRUE(v.any());
  EXPECT_EQ(v.against_first[0].kind, BreakEvenKind::kNone);
  EXPECT_EQ(v.against_first[1].kind, BreakEvenKind::kAt);
  EXPECT_EQ(v.against_first[1].epoch, 39);
  EXPECT_EQ(v.chart_epochs, 41);
  EXPECT_FALSE(v.epochs_differ);
  EXPECT_EQ(FormatBreakEven(v.against_first[1], EpochRuns()), "S3+NVMe from epoch 39");
}

TEST(BreakEven, ChartStopsAtTheCap) {
  std::vector<RunResult> runs = EpochRuns();
  runs[1] = WithEpochs(InplaceRun(), 120.47, {55, 31});  // 1 s an epoch cheaper for staged
  BreakEvenView v = BreakEvens(runs);
  EXPECT_GT(v.against_first[1].epoch, kMaxBreakEvenChartEpochs);
  EXPECT_EQ(v.chart_epochs, kMaxBreakEvenChartEpochs);
}

TEST(BreakEvenTable, RowsUnderTheTotal) {
  std::vector<RunResult> runs = EpochRuns();
  runs.push_back(InplaceRun());  // no epoch times
  runs[2].label = "plain";
  std::string t = RenderCompareTable(runs);
  EXPECT_NE(t.find("one-off s"), std::string::npos) << t;
  EXPECT_NE(t.find("1378.66"), std::string::npos) << t;
  EXPECT_NE(t.find("257.31"), std::string::npos) << t;
  EXPECT_NE(t.find("S3+NVMe from epoch 39"), std::string::npos) << t;
  EXPECT_NE(t.find("Break-even: cumulative seconds after n epochs"), std::string::npos) << t;
  EXPECT_EQ(t.find("Epochs measured differ"), std::string::npos) << t;
  size_t row = t.find("break-even");
  ASSERT_NE(row, std::string::npos);
  std::string line = t.substr(row, t.find('\n', row) - row);
  EXPECT_NE(line.find("(first)"), std::string::npos) << line;
  EXPECT_NE(line.find("\u2014"), std::string::npos) << line;  // the run without epoch times
}

TEST(BreakEvenTable, SaysWhenEpochCountsDiffer) {
  std::vector<RunResult> runs = EpochRuns();
  runs[1] = WithEpochs(InplaceRun(), 120.47, {55, 60, 60, 60});
  std::string t = RenderCompareTable(runs);
  EXPECT_NE(t.find("Epochs measured differ (S3+NVMe 2, WEKA 4): they compare through the extrapolation"),
            std::string::npos)
      << t;
}

TEST(BreakEvenTable, AbsentWithoutEpochTimes) {
  std::string t = RenderCompareTable({StagedRun(), InplaceRun()});
  EXPECT_EQ(t.find("break-even"), std::string::npos) << t;
  EXPECT_EQ(t.find("Break-even"), std::string::npos) << t;
}

TEST(BreakEvenJson, SameFactsAsTheTable) {
  auto j = nlohmann::json::parse(RenderCompareJson(EpochRuns()));
  const auto& be = j["break_even"];
  EXPECT_EQ(be["chart_epochs"], 41);
  EXPECT_EQ(be["epochs_differ"], false);
  ASSERT_EQ(be["runs"].size(), 2u);
  EXPECT_NEAR(be["runs"][0]["curve"]["one_off_seconds"].get<double>(), 1378.664, 1e-9);
  EXPECT_DOUBLE_EQ(be["runs"][1]["curve"]["steady_epoch_seconds"].get<double>(), 60);
  EXPECT_EQ(be["runs"][1]["curve"]["epoch_seconds"].size(), 2u);
  EXPECT_TRUE(be["runs"][0]["against_first"]["result"].is_null());
  EXPECT_EQ(be["runs"][1]["against_first"]["result"], "epoch");
  EXPECT_EQ(be["runs"][1]["against_first"]["epoch"], 39);
  EXPECT_EQ(be["runs"][1]["against_first"]["cheaper_run"], 0);

  j = nlohmann::json::parse(RenderCompareJson({StagedRun(), InplaceRun()}));
  EXPECT_TRUE(j["break_even"]["chart_epochs"].is_null());
  EXPECT_TRUE(j["break_even"]["runs"][1]["curve"].is_null());
  EXPECT_TRUE(j["break_even"]["runs"][1]["against_first"]["result"].is_null());
}

}  // namespace
}  // namespace tb::report
