#include <gtest/gtest.h>

#include "report/results.h"
#include "report/runs_testing.h"

namespace tb::report {
namespace {

using testing::InplaceRun;
using testing::StagedRun;

TEST(CompareHtml, SelfContainedWithTableChartHostsAndConfigs) {
  std::string html = RenderCompareHtml({StagedRun(), InplaceRun()});
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("<style>"), std::string::npos);
  EXPECT_NE(html.find("<svg xmlns=\"http://www.w3.org/2000/svg\""), std::string::npos);
  EXPECT_EQ(html.find("<?xml"), std::string::npos);
  // No external resources of any kind.
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("url("), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  EXPECT_NE(html.find("Total Runtime"), std::string::npos);
  for (const char* stage : kStageNames) EXPECT_NE(html.find(std::string("<td>") + stage + "</td>"), std::string::npos);
  EXPECT_NE(html.find("4.08\u00d7"), std::string::npos);
  EXPECT_NE(html.find("node-a"), std::string::npos);
  EXPECT_NE(html.find("AMD EPYC 7543 32-Core Processor"), std::string::npos);
  EXPECT_NE(html.find("125.0 GiB"), std::string::npos);
  EXPECT_NE(html.find("55.12 %"), std::string::npos);  // test accuracy
  EXPECT_NE(html.find("&quot;dataset_dir&quot;: &quot;/mnt/weka/cifar-10-batches-py&quot;"), std::string::npos);
}

TEST(CompareHtml, EscapesEveryUserString) {
  RunResult a = StagedRun(), b = InplaceRun();
  a.label = "<script>alert('label')</script>";
  a.scenario = "<b>staged</b>";
  a.host.hostname = "<img src=x onerror=alert(1)>";
  a.host.cpu_model = "</pre><script>";
  a.config_json = R"({"note":"</pre><script>alert(1)</script>"})";
  b.stages[6].status = StageStatus::kFailed;
  b.stages[6].error = "bucket <evil> & co";
  b.status = StageStatus::kFailed;
  std::string html = RenderCompareHtml({a, b});
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("<b>staged"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(&#39;label&#39;)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("bucket &lt;evil&gt; &amp; co"), std::string::npos);
  EXPECT_EQ(html.find("</pre><"), std::string::npos);
}

TEST(CompareHtml, StageNotesShowErrorsAndSkipReasons) {
  RunResult b = InplaceRun();
  b.stages[0].detail_json = R"({"reason":"not part of the inplace scenario"})";
  b.stages[6].status = StageStatus::kFailed;
  b.stages[6].error = "stage upload: s3://tierbench/cifar/data_batch_1: HTTP 403 AccessDenied";
  std::string html = RenderCompareHtml({StagedRun(), b});
  EXPECT_NE(html.find("<td class=\"note-cell\">not part of the inplace scenario</td>"), std::string::npos);
  EXPECT_NE(html.find("HTTP 403 AccessDenied</td>"), std::string::npos);
}

TEST(CompareHtml, OverlapNoteAndMissingTraining) {
  RunResult a = StagedRun();
  a.overlapped_seconds = 33;
  a.train = TrainResult{};
  std::string html = RenderCompareHtml({a});
  EXPECT_NE(html.find("stages overlapped (33.00 s ran concurrently)"), std::string::npos);
  EXPECT_NE(html.find("No training in this run."), std::string::npos);
}

TEST(CompareHtml, ScalingViewAndEveryRanksHost) {
  std::vector<RunResult> runs = {testing::RanksRun(1), testing::RanksRun(2), testing::RanksRun(4, 0.5)};
  runs[2].ranks[3].host.hostname = "<b>node-3</b>";
  std::string html = RenderCompareHtml(runs);
  EXPECT_NE(html.find("<h2>Scaling by ranks</h2>"), std::string::npos);
  EXPECT_NE(html.find("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"scaling\""), std::string::npos);
  EXPECT_NE(html.find("<td>107.02</td><td>53.51</td>"), std::string::npos);  // verify, 4 ranks, and its ideal
  EXPECT_NE(html.find("inplace \u00b7 4 ranks"), std::string::npos);
  EXPECT_NE(html.find("4 ranks, launched by mpi"), std::string::npos);
  EXPECT_NE(html.find("&lt;b&gt;node-3&lt;/b&gt;"), std::string::npos);
  EXPECT_EQ(html.find("<b>node-3"), std::string::npos);
  EXPECT_EQ(RenderCompareHtml({StagedRun(), InplaceRun()}).find("Scaling by ranks"), std::string::npos);
}

TEST(CompareHtml, MergedStagesNameTheSlowestRank) {
  RunResult r = testing::RanksRun(2);
  r.stages[3].ranks = {RankStage{0, StageStatus::kOk, 100.5, 1, 1}, RankStage{1, StageStatus::kOk, 107.02, 1, 1}};
  r.stages[3].slowest_rank = 1;
  std::string html = RenderCompareHtml({r});
  EXPECT_NE(html.find("<td class=\"note-cell\">2 ranks; slowest rank 1: 107.02 s</td>"), std::string::npos);
}

TEST(CompareHtml, BreakEvenSectionWithItsChart) {
  std::vector<RunResult> runs = {testing::WithEpochs(StagedRun(), 123.5, {50, 30}),
                                 testing::WithEpochs(InplaceRun(), 180.47, {55, 60, 60})};
  std::string html = RenderCompareHtml(runs);
  EXPECT_NE(html.find("<h2>Break-even: when staging pays off</h2>"), std::string::npos);
  EXPECT_NE(html.find("<td>S3+NVMe</td><td>1378.66</td><td>2</td><td>30.00</td><td>(first)</td>"), std::string::npos);
  EXPECT_NE(html.find("<td>WEKA</td><td>257.31</td><td>3</td><td>60.00</td><td>S3+NVMe from epoch 39</td>"),
            std::string::npos);
  EXPECT_NE(html.find("different numbers of epochs"), std::string::npos);
  EXPECT_NE(html.find("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"break-even\""), std::string::npos);
  EXPECT_EQ(RenderCompareHtml({StagedRun(), InplaceRun()}).find("Break-even"), std::string::npos);
}

}  // namespace
}  // namespace tb::report
