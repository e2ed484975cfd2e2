// Stage 6, meta: read batches.meta (the label names).
#include <filesystem>
#include <nlohmann/json.hpp>

#include "dataset/cifar.h"
#include "pipeline/stage.h"
#include "util/json.h"

namespace tb::pipeline {
namespace {

class MetaStage : public Stage {
 public:
  Status Run(Context& ctx, report::StageResult& result) override {
    TB_RETURN_IF_ERROR(ctx.NeedDataset());
    if (!ctx.dataset_uri.empty()) {  // streamed: batches.meta from verify's read, else from the tier
      if (auto kept = ctx.verified_bytes.extract(kMetaFile)) {
        const std::string path = ctx.dataset_uri + "/" + kMetaFile;
        TB_ASSIGN_OR_RETURN(ctx.label_names, dataset::LabelNamesFromBytes(kept.mapped(), path));
        result.files = 1;
        result.detail_json =
            JsonText(nlohmann::json{{"file", path}, {"label_names", ctx.label_names}, {"read_from", "verify's read"}});
        return Status::Ok();
      }
      TB_ASSIGN_OR_RETURN(std::unique_ptr<train::TrainSource> source, OpenDatasetSource(ctx));
      TB_ASSIGN_OR_RETURN(ctx.label_names, source->LabelNames());
      result.files = 1;
      result.bytes = source->Stats().bytes;
      result.detail_json = JsonText(nlohmann::json{
          {"file", ctx.dataset_uri + "/" + kMetaFile}, {"label_names", ctx.label_names}, {"read_from", "tier"}});
      return Status::Ok();
    }
    TB_RETURN_IF_ERROR(dataset::RequireListed(ctx.dataset_dir, "batches.meta", ctx.listed_files()));
    std::string path = ctx.dataset_dir + "/batches.meta";
    TB_ASSIGN_OR_RETURN(ctx.label_names, dataset::ReadLabelNames(path));
    result.files = 1;
    std::error_code ec;
    result.bytes = std::filesystem::file_size(path, ec);
    result.detail_json = JsonText(nlohmann::json{{"file", path}, {"label_names", ctx.label_names}});
    return Status::Ok();
  }
};

}  // namespace

std::unique_ptr<Stage> NewMetaStage() { return std::make_unique<MetaStage>(); }

}  // namespace tb::pipeline
