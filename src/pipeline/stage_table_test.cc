// The stage table: one row per stage, in the order and with the names of report/stage_id.h,
// and scenario applicability as the scenarios define it.
#include <gtest/gtest.h>

#include "pipeline/stage.h"

namespace tb::pipeline {
namespace {

TEST(StageTable, OneRowPerStageInPipelineOrder) {
  const auto& table = StageTable();
  for (size_t i = 0; i < report::kStageCount; ++i) {
    EXPECT_EQ(table[i].id, report::kAllStages[i]) << i;
    EXPECT_EQ(report::StageByName(report::kStageNames[i]), report::kAllStages[i]);
    EXPECT_NE(table[i].make(), nullptr) << report::kStageNames[i];
  }
  EXPECT_FALSE(report::StageByName("Download"));
}

TEST(StageTable, ScenariosDecideWhichStagesApply) {
  JobConfig staged, inplace;
  inplace.scenario = "inplace";
  for (StageId id : {StageId::kDownload, StageId::kIntegrity, StageId::kExtract}) {
    EXPECT_TRUE(SpecOf(id).applies(staged)) << report::StageName(id);
    EXPECT_FALSE(SpecOf(id).applies(inplace)) << report::StageName(id);
  }
  EXPECT_FALSE(SpecOf(StageId::kUpload).applies(staged));  // no upload.dest
  staged.upload_dest = "s3://bucket/prefix";
  EXPECT_TRUE(SpecOf(StageId::kUpload).applies(staged));
  for (StageId id : {StageId::kVerify, StageId::kPickled, StageId::kMeta, StageId::kPreview, StageId::kTrain})
    EXPECT_TRUE(SpecOf(id).applies(inplace)) << report::StageName(id);
  // Streamed: nothing local to fetch or upload; preview renders from the tier (the test split).
  JobConfig streamed;
  streamed.scenario = "streamed";
  streamed.upload_dest = "s3://bucket/prefix";
  for (StageId id : {StageId::kDownload, StageId::kIntegrity, StageId::kExtract, StageId::kUpload})
    EXPECT_FALSE(SpecOf(id).applies(streamed)) << report::StageName(id);
  for (StageId id : {StageId::kVerify, StageId::kPickled, StageId::kMeta, StageId::kPreview, StageId::kTrain})
    EXPECT_TRUE(SpecOf(id).applies(streamed)) << report::StageName(id);
}

TEST(StageStatus, NamesRoundTrip) {
  using report::StageStatus;
  for (StageStatus s : {StageStatus::kOk, StageStatus::kSkipped, StageStatus::kFailed, StageStatus::kInterrupted})
    EXPECT_EQ(report::StatusByName(report::StatusName(s)), s);
  EXPECT_FALSE(report::StatusByName("great"));
  EXPECT_TRUE(report::DidNotComplete(StageStatus::kInterrupted));
  EXPECT_FALSE(report::DidNotComplete(StageStatus::kSkipped));
}

}  // namespace
}  // namespace tb::pipeline
