// Stage 5, pickled: decode every CIFAR batch (train and test) into memory, files in parallel.
// Several ranks reading one copy decode a share of the batch files each (pipeline/shard.h).
#include <nlohmann/json.hpp>

#include "dataset/cifar.h"
#include "pipeline/shard.h"
#include "pipeline/stage.h"
#include "util/json.h"

namespace tb::pipeline {
namespace {

class PickledStage : public Stage {
 public:
  Status Run(Context& ctx, report::StageResult& result) override {
    TB_RETURN_IF_ERROR(ctx.NeedDataset());
    dataset::Split train, test;
    nlohmann::json share_detail;
    if (!ctx.cluster) {
      // After verify, only the files the manifest lists (ctx.verified_files).
      TB_ASSIGN_OR_RETURN(train, dataset::LoadSplit(ctx.dataset_dir, true, 0, ctx.listed_files()));
      TB_ASSIGN_OR_RETURN(test, dataset::LoadSplit(ctx.dataset_dir, false, 0, ctx.listed_files()));
    } else {
      // A failure on one rank fails the stage on all: the runner's frame exchanges outcomes.
      TB_RETURN_IF_ERROR(LoadShare(ctx, train, test, share_detail));
    }
    result.bytes = train.file_bytes + test.file_bytes;
    result.files = static_cast<uint64_t>(train.files + test.files);
    std::vector<uint64_t> histogram(10, 0);
    for (uint8_t l : train.labels)
      if (l < histogram.size()) histogram[l]++;
    nlohmann::json detail{{"dir", ctx.dataset_dir},
                          {"train_images", train.count},
                          {"test_images", test.count},
                          {"pixel_bytes", train.pixels.size() + test.pixels.size()},
                          {"train_label_histogram", histogram},
                          {"train_files", train.files},
                          {"test_files", test.files},
                          {"files_from", ctx.verified_files ? "manifest" : "folder"}};
    if (!share_detail.is_null()) detail["share"] = share_detail;
    result.detail_json = JsonText(detail);
    return Status::Ok();
  }

 private:
  static Status LoadShare(Context& ctx, dataset::Split& train, dataset::Split& test, nlohmann::json& detail) {
    Share share = CopyShare(ctx);
    TB_ASSIGN_OR_RETURN(BatchShare mine, ShareBatches(ctx, ctx.dataset_dir, true, share));
    if (mine.mine_train > 0) {
      TB_ASSIGN_OR_RETURN(train, dataset::LoadSplit(ctx.dataset_dir, true, 0, &mine.listed));
    }
    if (mine.mine.size() > mine.mine_train) {
      TB_ASSIGN_OR_RETURN(test, dataset::LoadSplit(ctx.dataset_dir, false, 0, &mine.listed));
    }
    detail = {{"index", share.index}, {"count", share.count}, {"files", mine.mine.size()}};
    return Status::Ok();
  }
};

}  // namespace

std::unique_ptr<Stage> NewPickledStage() { return std::make_unique<PickledStage>(); }

}  // namespace tb::pipeline
