#include <gtest/gtest.h>

#include "report/results.h"
#include "report/runs_testing.h"

namespace tb::report {
namespace {

using testing::InplaceRun;
using testing::StagedRun;

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t eol = s.find('\n', pos);
    out.push_back(s.substr(pos, eol - pos));
    pos = eol + 1;
  }
  return out;
}

TEST(StageTable, SeedLayout) {
  std::string t = RenderStageTable(InplaceRun());
  auto lines = Lines(t);
  ASSERT_GE(lines.size(), 14u) << t;
  EXPECT_EQ(lines[0], "WEKA (inplace)");
  EXPECT_EQ(lines[1], "Stage          Status   Seconds  MB/s  Files");
  EXPECT_EQ(lines[3], "download       skipped        \u2014     \u2014      \u2014");
  EXPECT_EQ(lines[6], "verify         ok        214.04  0.87   1283");
  EXPECT_EQ(lines[8], "meta           ok          0.01  0.02      1");
  EXPECT_EQ(lines[13], "Total Runtime            372.31");
  EXPECT_NE(t.find("Seconds: each stage's wall span, first start to last end"), std::string::npos) << t;
  for (const char* stage : kStageNames) EXPECT_NE(t.find(stage), std::string::npos) << stage;
  EXPECT_EQ(t.find("overlapped"), std::string::npos);
}

TEST(StageTable, FailedStagesAndOverlapAreExplained) {
  RunResult run = StagedRun();
  run.status = StageStatus::kFailed;
  run.stages[1].status = StageStatus::kFailed;
  run.stages[1].error = "md5 of /scratch/cifar.tar.gz is 0f3c…, expected c58f30108f718f92721af3b95e74349a";
  run.overlapped_seconds = 40.5;
  std::string t = RenderStageTable(run);
  EXPECT_NE(t.find("integrity      FAILED"), std::string::npos) << t;
  EXPECT_NE(t.find("integrity FAILED: md5 of /scratch/cifar.tar.gz"), std::string::npos) << t;
  EXPECT_NE(t.find("Total Runtime  FAILED"), std::string::npos) << t;
  EXPECT_NE(t.find("stages overlapped (40.50 s ran concurrently), so Total Runtime is less than the sum"),
            std::string::npos)
      << t;
}

// The rows printed one at a time as stages end: the table's cells, in fixed columns that line
// up under the header whatever the status; the training data note under the table.
TEST(StageTable, RowsOneAtATimeLineUpUnderTheHeader) {
  RunResult run = StagedRun();
  run.stages[1].status = StageStatus::kInterrupted;
  std::string header = RenderStageTableHeader();
  EXPECT_EQ(header, "Stage          Status         Seconds       MB/s    Files\n");
  size_t seconds_end = header.find("Seconds") + 7, files_end = header.size() - 1;
  for (const StageResult& s : run.stages) {
    std::string row = RenderStageRow(s);
    ASSERT_EQ(row.back(), '\n');
    EXPECT_EQ(row.rfind(s.name, 0), 0u) << row;
    std::vector<std::string> table_cells;
    for (const std::string& line : Lines(RenderStageTable(run)))
      if (line.rfind(s.name + "  ", 0) == 0) table_cells.push_back(line);
    ASSERT_EQ(table_cells.size(), 1u);
    // Same words as the table's row, positioned by display width ("—" is one column).
    auto words = [](const std::string& l) {
      std::vector<std::string> w;
      for (size_t p = 0; (p = l.find_first_not_of(' ', p)) != std::string::npos;) {
        size_t e = l.find(' ', p);
        w.push_back(l.substr(p, e - p));
        p = e;
      }
      return w;
    };
    EXPECT_EQ(words(row.substr(0, row.size() - 1)), words(table_cells[0]));
    std::u32string wide;
    for (size_t i = 0; i + 1 < row.size(); ++i)
      if ((static_cast<unsigned char>(row[i]) & 0xC0) != 0x80) wide.push_back(U'x');
    EXPECT_EQ(wide.size(), files_end) << row;
    EXPECT_GE(files_end, seconds_end);
  }
  EXPECT_NE(RenderStageRow(run.stages[1]).find("INTERRUPTED"), std::string::npos);
  EXPECT_EQ(RenderStageTable(run).find("train: AU"), std::string::npos);
  run.train.au = 0.8125;
  run.train.compute_seconds = 13;
  run.train.data_wait_seconds = 3;
  run.train.first_batch_seconds = 1.25;
  run.train.samples_per_second = 809.4;
  EXPECT_NE(RenderStageTable(run).find(
                "train: AU 0.81 (compute 13.00 s, data wait 3.00 s), first batch after 1.25 s, 809 samples/s\n"),
            std::string::npos)
      << RenderStageTable(run);
}

TEST(CompareTable, ColumnPerRunAndSpeedups) {
  std::string t = RenderCompareTable({StagedRun(), InplaceRun()});
  auto lines = Lines(t);
  ASSERT_GE(lines.size(), 15u) << t;
  EXPECT_EQ(lines[1], "Stage           S3+NVMe       WEKA  Speedup");
  EXPECT_EQ(lines[2], "               (staged)  (inplace)     WEKA");
  EXPECT_EQ(lines[4], "download         275.55          \u2014      n/a");
  EXPECT_EQ(lines[7], "verify           872.40     214.04    4.08\u00d7");
  EXPECT_EQ(lines[9], "meta              <0.01       0.01    0.40\u00d7");
  EXPECT_EQ(lines[14], "Total Runtime   1458.66     372.31    3.92\u00d7");
  for (const char* stage : kStageNames) EXPECT_NE(t.find(stage), std::string::npos) << stage;
  EXPECT_NE(t.find("Speedup = S3+NVMe seconds / run seconds"), std::string::npos);
}

TEST(CompareTable, ThreeRunsGetTwoSpeedupColumns) {
  RunResult c = InplaceRun();
  c.label = "";
  c.stages[3].seconds = 436.2;
  std::string t = RenderCompareTable({StagedRun(), InplaceRun(), c});
  auto lines = Lines(t);
  EXPECT_EQ(lines[1], "Stage           S3+NVMe       WEKA      run 3  Speedup  Speedup");
  EXPECT_NE(lines[7].find("4.08\u00d7    2.00\u00d7"), std::string::npos) << t;
}

TEST(CompareTable, LabelsAndErrorsAreSanitizedForTheTerminal) {
  RunResult a = StagedRun(), b = InplaceRun();
  a.label = "S3\x1b]0;pwned\x07";
  b.stages[4].status = StageStatus::kFailed;
  b.stages[4].error = "decode /data/batch\x1b[31m: bad opcode";
  std::string t = RenderCompareTable({a, b});
  EXPECT_EQ(t.find('\x1b'), std::string::npos) << t;
  EXPECT_EQ(t.find('\x07'), std::string::npos) << t;
  EXPECT_NE(t.find("WEKA: pickled FAILED: decode /data/batch\\x1b[31m: bad opcode"), std::string::npos) << t;
  EXPECT_EQ(RenderStageTable(b).find('\x1b'), std::string::npos);
}

TEST(CompareTable, SingleRunHasNoSpeedupColumn) {
  std::string t = RenderCompareTable({StagedRun()});
  EXPECT_EQ(t.find("Speedup"), std::string::npos) << t;
  EXPECT_NE(t.find("Total Runtime   1458.66"), std::string::npos) << t;
}

}  // namespace
}  // namespace tb::report
