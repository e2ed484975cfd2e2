#include "report/svg.h"

#include <gtest/gtest.h>

#include <regex>

#include "report/runs_testing.h"
#include "report/stats.h"

namespace tb::report {
namespace {

using testing::InplaceRun;
using testing::StagedRun;

// A minimal well-formedness check: every tag closes in order, attributes are quoted, and
// text holds no raw '<' or stray '&'. Returns "" when well formed, else what went wrong.
std::string CheckXml(const std::string& doc) {
  std::vector<std::string> open;
  size_t i = 0;
  while (i < doc.size()) {
    if (doc[i] == '&') {
      size_t semi = doc.find(';', i);
      if (semi == std::string::npos || semi - i > 8) return "stray & at " + std::to_string(i);
      i = semi + 1;
      continue;
    }
    if (doc[i] != '<') {
      if (doc[i] == '>') return "raw > in text at " + std::to_string(i);
      ++i;
      continue;
    }
    if (doc.compare(i, 2, "<?") == 0) {
      i = doc.find("?>", i) + 2;
      continue;
    }
    size_t end = i + 1;
    char quote = 0;
    while (end < doc.size() && (quote || doc[end] != '>')) {
      if (quote && doc[end] == quote) quote = 0;
      else if (!quote && (doc[end] == '"' || doc[end] == '\'')) quote = doc[end];
      else if (quote && doc[end] == '<') return "raw < in attribute at " + std::to_string(end);
      ++end;
    }
    if (end >= doc.size()) return "unterminated tag at " + std::to_string(i);
    std::string tag = doc.substr(i + 1, end - i - 1);
    i = end + 1;
    if (tag[0] == '/') {
      std::string name = tag.substr(1);
      if (open.empty() || open.back() != name) return "mismatched </" + name + ">";
      open.pop_back();
    } else if (tag.back() != '/') {
      open.push_back(tag.substr(0, tag.find_first_of(" \n\t")));
    }
  }
  return open.empty() ? "" : "unclosed <" + open.back() + ">";
}

size_t Count(const std::string& s, const std::string& needle) {
  size_t n = 0;
  for (size_t p = s.find(needle); p != std::string::npos; p = s.find(needle, p + 1)) ++n;
  return n;
}

TEST(NiceScale, PicksRoundSteps) {
  EXPECT_EQ(NiceScale(872.4, 5).step, 200);
  EXPECT_EQ(NiceScale(872.4, 5).max, 1000);
  EXPECT_EQ(NiceScale(275.55, 5).step, 100);
  EXPECT_EQ(NiceScale(275.55, 5).max, 300);
  EXPECT_EQ(NiceScale(12, 5).step, 2.5);
  EXPECT_EQ(NiceScale(12, 5).max, 12.5);
  EXPECT_DOUBLE_EQ(NiceScale(0.034, 5).step, 0.01);
  EXPECT_EQ(NiceScale(0, 5).max, 1);
  EXPECT_EQ(NiceScale(100, 5).max, 100);
}

TEST(CompareSvg, WellFormedWithOneBarPerRunPerStage) {
  std::string svg = RenderCompareSvg({StagedRun(), InplaceRun()});
  EXPECT_EQ(CheckXml(svg), "");
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_EQ(Count(svg, "<rect class=\"bar\""), 18u);
  for (const char* stage : kStageNames)
    EXPECT_EQ(Count(svg, std::string("data-stage=\"") + stage + "\""), 2u) << stage;
  EXPECT_EQ(Count(svg, ">skipped</text>"), 3u);  // WEKA's download, integrity, extract
  EXPECT_NE(svg.find(">1000</text>"), std::string::npos);  // top tick of 872.40 s
  EXPECT_NE(svg.find("S3+NVMe (staged)"), std::string::npos);
  EXPECT_NE(svg.find("Seconds (wall clock)"), std::string::npos);
  EXPECT_NE(svg.find("Pipeline stage"), std::string::npos);
}

TEST(CompareSvg, ErrorBarsWhereStagesWereRepeated) {
  std::vector<RunResult> runs{StagedRun(), InplaceRun()};
  EXPECT_EQ(Count(RenderCompareSvg(runs), "class=\"errorbar\""), 0u);
  runs[0].stages[3].repeat = MakeRepeatStats({800, 872.40, 1200});  // verify, both runs
  runs[1].stages[3].repeat = MakeRepeatStats({40, 50, 60});
  runs[1].stages[4].repeat = MakeRepeatStats({70, 80});  // pickled, the second run only
  std::string svg = RenderCompareSvg(runs);
  EXPECT_EQ(CheckXml(svg), "");
  EXPECT_EQ(Count(svg, "class=\"errorbar\""), 3u);
  EXPECT_NE(svg.find(">1250</text>"), std::string::npos);  // the axis reaches above the interval (1200)
  EXPECT_NE(svg.find("(median; 800.00\u20131200.00 s)"), std::string::npos);
}

TEST(CompareSvg, BarHeightsAreProportional) {
  std::string svg = RenderCompareSvg({StagedRun(), InplaceRun()});
  std::regex bar("data-stage=\"verify\" data-run=\"(\\d)\" x=\"[0-9.]+\" y=\"[0-9.]+\" width=\"[0-9.]+\" height=\"([0-9.]+)\"");
  std::vector<double> heights;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), bar); it != std::sregex_iterator(); ++it)
    heights.push_back(std::stod((*it)[2]));
  ASSERT_EQ(heights.size(), 2u);
  EXPECT_NEAR(heights[0] / heights[1], 872.40 / 214.04, 0.02);
}

TEST(CompareSvg, EscapesLabelsAndUsesDistinctColours) {
  RunResult a = StagedRun(), b = InplaceRun();
  a.label = "<script>alert(1)</script> & \"co\"";
  std::string svg = RenderCompareSvg({a, b});
  EXPECT_EQ(CheckXml(svg), "");
  EXPECT_EQ(svg.find("<script>"), std::string::npos);
  EXPECT_NE(svg.find("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;co&quot;"), std::string::npos);
  EXPECT_STRNE(RunColour(0), RunColour(1));
  EXPECT_NE(svg.find(std::string("fill=\"") + RunColour(1) + "\""), std::string::npos);
}

TEST(CompareSvg, FailedBarsAreMarked) {
  RunResult b = InplaceRun();
  b.stages[6].status = StageStatus::kFailed;
  b.stages[6].error = "HTTP 403";
  std::string svg = RenderCompareSvg({StagedRun(), b});
  EXPECT_EQ(CheckXml(svg), "");
  EXPECT_NE(svg.find(">FAILED</text>"), std::string::npos);
}

TEST(CompareSvg, ManyRunsAndStagesStayWellFormed) {
  std::vector<RunResult> runs;
  for (int i = 0; i < 12; ++i) {
    RunResult r = StagedRun();
    r.label = "tier " + std::to_string(i);
    for (int k = 0; k < 6; ++k)
      r.stages.push_back(testing::Stage("extra" + std::to_string(k), StageStatus::kOk, 1.0 + k));
    runs.push_back(r);
  }
  std::string svg = RenderCompareSvg(runs);
  EXPECT_EQ(CheckXml(svg), "");
  EXPECT_EQ(Count(svg, "<rect class=\"bar\""), 12u * 15u);
  // The legend wraps; the picture grows instead of squeezing the plot.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(svg, m, std::regex("height=\"(\\d+)\" viewBox")));
  EXPECT_GT(std::stoi(m[1]), 480);
}

TEST(CompareSvg, TwoRunsAre900By480) {
  std::string svg = RenderCompareSvg({StagedRun(), InplaceRun()});
  EXPECT_NE(svg.find("width=\"900\" height=\"480\" viewBox=\"0 0 900 480\""), std::string::npos);
}

TEST(ScalingSvg, OnlyForSeveralWorldSizes) {
  EXPECT_EQ(RenderScalingSvgElement({StagedRun(), InplaceRun()}), "");
  EXPECT_EQ(RenderCompareSvg({StagedRun(), InplaceRun()}).find("class=\"scaling\""), std::string::npos);
}

TEST(ScalingSvg, APointPerStagePerWorldSizeAndIdealLines) {
  std::vector<RunResult> runs = {testing::RanksRun(1), testing::RanksRun(2), testing::RanksRun(4, 0.5)};
  std::string svg = RenderCompareSvg(runs);
  EXPECT_EQ(CheckXml(svg), "");
  EXPECT_NE(svg.find("class=\"scaling\""), std::string::npos);
  EXPECT_EQ(Count(svg, "<rect class=\"bar\""), 27u);  // the bar chart is still there
  // 6 stages ran; each has 3 points in the seconds panel; MB/s only where bytes moved (4).
  EXPECT_EQ(Count(svg, "data-panel=\"seconds\" data-stage=\"verify\" data-ranks="), 3u);
  EXPECT_EQ(Count(svg, "<circle class=\"point\" data-panel=\"seconds\""), 18u);
  EXPECT_EQ(Count(svg, "<polyline class=\"ideal\" data-panel=\"seconds\""), 6u);
  EXPECT_EQ(Count(svg, "<polyline class=\"ideal\" data-panel=\"mb_per_s\""), 4u);
  // verify, 4 ranks at 50 %: the measured point sits twice as high as the ideal one above the
  // seconds axis (both drawn on the same scale).
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      svg, m,
      std::regex("data-panel=\"seconds\" data-stage=\"verify\" data-ranks=\"4\" cx=\"([0-9.]+)\" cy=\"([0-9.]+)\"")));
  const double cy = std::stod(m[2]);
  std::smatch ideal;
  ASSERT_TRUE(std::regex_search(svg, ideal,
                                std::regex("class=\"ideal\" data-panel=\"seconds\" data-stage=\"verify\" "
                                           "points=\"[0-9.]+,([0-9.]+) [0-9.]+,([0-9.]+) [0-9.]+,([0-9.]+) \"")));
  std::smatch base;
  ASSERT_TRUE(std::regex_search(
      svg, base,
      std::regex("data-panel=\"seconds\" data-stage=\"verify\" data-ranks=\"1\" cx=\"[0-9.]+\" cy=\"([0-9.]+)\"")));
  const double y1 = std::stod(base[1]), y_ideal4 = std::stod(ideal[3]);
  EXPECT_NEAR(std::stod(ideal[1]), y1, 0.11);  // the ideal starts at the one-rank point
  // Heights above the axis (where zero is): one rank's ideal is 4 × four ranks' ideal, so
  // bottom = y1 + 4/3 (y_ideal4 - y1); the measured point is twice the ideal's height.
  const double bottom = y1 + 4.0 / 3.0 * (y_ideal4 - y1);
  EXPECT_NEAR((bottom - cy) / (bottom - y_ideal4), 2.0, 0.05);
}

TEST(ScalingSvg, EscapesStageAndRunNames) {
  std::vector<RunResult> runs = {testing::RanksRun(1), testing::RanksRun(2)};
  runs[1].label = "<script>x</script>";
  runs[1].stages[4].name = "pick<l>ed";
  runs[0].stages[4].name = "pick<l>ed";
  std::string svg = RenderCompareSvg(runs);
  EXPECT_EQ(CheckXml(svg), "");
  EXPECT_EQ(svg.find("<script>"), std::string::npos);
  EXPECT_NE(svg.find("pick&lt;l&gt;ed"), std::string::npos);
}

// Points "x,y x,y " of the polyline of `cls` for run `run`.
std::vector<std::pair<double, double>> LinePoints(const std::string& svg, const std::string& cls, int run) {
  std::smatch m;
  std::vector<std::pair<double, double>> out;
  if (!std::regex_search(
          svg, m, std::regex("class=\"" + cls + "\" data-run=\"" + std::to_string(run) + "\" points=\"([^\"]*)\"")))
    return out;
  std::string points = m[1];
  std::regex point("([0-9.]+),([0-9.]+) ");
  for (auto it = std::sregex_iterator(points.begin(), points.end(), point); it != std::sregex_iterator(); ++it)
    out.emplace_back(std::stod((*it)[1]), std::stod((*it)[2]));
  return out;
}

TEST(BreakEvenSvg, CumulativeLinesCrossAtTheBreakEven) {
  // S3+NVMe: 1378.66 s up front, 30 s an epoch; WEKA: 257.31 s, 60 s; S3+NVMe cheaper from epoch 39.
  std::vector<RunResult> runs = testing::EpochRuns();
  runs.push_back(InplaceRun());
  runs[2].label = "no epochs";
  std::string svg = RenderCompareSvg(runs);
  EXPECT_EQ(CheckXml(svg), "");
  EXPECT_NE(svg.find("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"break-even\" y=\""), std::string::npos);
  EXPECT_NE(svg.find(">Cumulative seconds (wall span)</text>"), std::string::npos);
  EXPECT_NE(svg.find(">Epochs (solid: measured; dashed: extrapolated with the steady epoch; at most 100)</text>"),
            std::string::npos);
  EXPECT_NE(svg.find(">break-even: S3+NVMe from epoch 39</text>"), std::string::npos);
  EXPECT_NE(svg.find("<line class=\"break-even\" data-run=\"1\""), std::string::npos);
  EXPECT_EQ(svg.find("data-run=\"2\" points"), std::string::npos);  // no line without epoch times
  // Measured: epochs 0..2 solid; extrapolated: 2..41 dashed (the chart runs to break-even + 2).
  auto staged = LinePoints(svg, "cumulative", 0), staged_more = LinePoints(svg, "extrapolated", 0);
  auto inplace = LinePoints(svg, "extrapolated", 1);
  ASSERT_EQ(staged.size(), 3u);
  ASSERT_EQ(staged_more.size(), 40u);
  ASSERT_EQ(inplace.size(), 40u);
  EXPECT_EQ(staged.back(), staged_more.front());
  EXPECT_LT(staged.front().second, LinePoints(svg, "cumulative", 1).front().second);  // dearer up front: higher
  // Index k of the extrapolated lines is epoch k + 2: at 38 S3+NVMe is above (dearer), at 39 below.
  EXPECT_LT(staged_more[36].second, inplace[36].second);
  EXPECT_GT(staged_more[37].second, inplace[37].second);
}

TEST(BreakEvenSvg, SaysWhereNoCrossingIsMarked) {
  std::vector<RunResult> runs = testing::EpochRuns();
  runs[1] = testing::WithEpochs(InplaceRun(), 120.47, {55, 20});  // in place: cheaper epochs too
  std::string svg = RenderBreakEvenSvgElement(runs);
  EXPECT_EQ(CheckXml(svg), "");
  EXPECT_NE(svg.find(">break-even: never [WEKA vs S3+NVMe]</text>"), std::string::npos) << svg;
  EXPECT_EQ(svg.find("<line class=\"break-even\""), std::string::npos);
  runs[1] = testing::WithEpochs(InplaceRun(), 120.47, {55, 31});  // 1 s an epoch dearer: far beyond the chart
  svg = RenderBreakEvenSvgElement(runs);
  EXPECT_NE(svg.find(" (beyond the chart) [WEKA vs S3+NVMe]</text>"), std::string::npos) << svg;
  EXPECT_NE(svg.find("<polyline class=\"extrapolated\" data-run=\"1\""), std::string::npos);
}

TEST(BreakEvenSvg, AbsentWithoutEpochTimes) {
  EXPECT_EQ(RenderBreakEvenSvgElement({StagedRun(), InplaceRun()}), "");
  EXPECT_EQ(RenderCompareSvg({StagedRun(), InplaceRun()}).find("break-even"), std::string::npos);
}

}  // namespace
}  // namespace tb::report
