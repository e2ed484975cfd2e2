// Stage 5, pickled: decode every CIFAR batch (train and test) into memory, files in parallel.
#include <nlohmann/json.hpp>

#include "dataset/cifar.h"
#include "pipeline/stage.h"
#include "util/json.h"

namespace tb::pipeline {
namespace {

class PickledStage : public Stage {
 public:
  Status Run(Context& ctx, report::StageResult& result) override {
    TB_RETURN_IF_ERROR(ctx.NeedDataset());
    // After verify, only the files the manifest lists (ctx.verified_files).
    TB_ASSIGN_OR_RETURN(dataset::Split train, dataset::LoadSplit(ctx.dataset_dir, true, 0, ctx.listed_files()));
    TB_ASSIGN_OR_RETURN(dataset::Split test, dataset::LoadSplit(ctx.dataset_dir, false, 0, ctx.listed_files()));
    result.bytes = train.file_bytes + test.file_bytes;
    result.files = static_cast<uint64_t>(train.files + test.files);
    std::vector<uint64_t> histogram(10, 0);
    for (uint8_t l : train.labels)
      if (l < histogram.size()) histogram[l]++;
    result.detail_json = JsonText(nlohmann::json{{"dir", ctx.dataset_dir}, {"train_images", train.count},
                                        {"test_images", test.count}, {"pixel_bytes",
                                        train.pixels.size() + test.pixels.size()},
                                        {"train_label_histogram", histogram},
                                        {"train_files", train.files}, {"test_files", test.files},
                                        {"files_from", ctx.verified_files ? "manifest" : "folder"}});
    return Status::Ok();
  }
};

}  // namespace

std::unique_ptr<Stage> NewPickledStage() { return std::make_unique<PickledStage>(); }

}  // namespace tb::pipeline
