// The stage table (stage.h): to add a stage, add its id and name in report/stage_id.h and its
// row here, in pipeline order.
#include "pipeline/stage.h"

namespace tb::pipeline {
namespace {

bool Staged(const JobConfig& cfg) { return cfg.scenario == "staged"; }
bool Always(const JobConfig&) { return true; }
bool HasUploadDest(const JobConfig& cfg) { return !cfg.upload_dest.empty() && cfg.scenario != "streamed"; }

}  // namespace

const std::array<StageSpec, report::kStageCount>& StageTable() {
  static const std::array<StageSpec, report::kStageCount> table = {{
      {StageId::kDownload, Staged, NewDownloadStage},
      {StageId::kIntegrity, Staged, NewIntegrityStage},
      {StageId::kExtract, Staged, NewExtractStage},
      {StageId::kVerify, Always, NewVerifyStage},
      {StageId::kPickled, Always, NewPickledStage},
      {StageId::kMeta, Always, NewMetaStage},
      {StageId::kUpload, HasUploadDest, NewUploadStage},
      {StageId::kPreview, Always, NewPreviewStage},
      {StageId::kTrain, Always, NewTrainStage},
  }};
  return table;
}

}  // namespace tb::pipeline
