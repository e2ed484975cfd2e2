// Stage 5, pickled: decode every CIFAR batch (train and test) into memory, files in parallel.
// Several ranks reading one copy decode a share of the batch files each (pipeline/shard.h).
#include <nlohmann/json.hpp>

#include "dataset/cifar.h"
#include "pipeline/shard.h"
#include "pipeline/stage.h"
#include "train/object_source.h"
#include "util/json.h"

namespace tb::pipeline {
namespace {

using train::SourceStats;

class PickledStage : public Stage {
 public:
  Status Run(Context& ctx, report::StageResult& result) override {
    TB_RETURN_IF_ERROR(ctx.NeedDataset());
    dataset::Split train, test;
    nlohmann::json share_detail;
    SourceStats read;
    if (!ctx.dataset_uri.empty()) {
      TB_RETURN_IF_ERROR(LoadStreamed(ctx, train, test, &read));
    } else if (!ctx.cluster) {
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
    if (!ctx.dataset_uri.empty()) result.bytes = read.bytes;  // what crossed the network
    nlohmann::json detail{{"dir", ctx.dataset_uri.empty() ? ctx.dataset_dir : ctx.dataset_uri},
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
  // Streamed: every listed batch file read from the tier and decoded, one pass (read ahead).
  static Status LoadStreamed(Context& ctx, dataset::Split& train, dataset::Split& test, SourceStats* read) {
    TB_ASSIGN_OR_RETURN(std::unique_ptr<train::TrainSource> source, OpenDatasetSource(ctx));
    std::vector<uint32_t> order(source->files().size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<uint32_t>(i);
    TB_RETURN_IF_ERROR(source->StartEpoch(order));
    dataset::Split part;
    for (;;) {
      if (ctx.cancelled()) return Status::Cancelled("pickled interrupted");
      TB_ASSIGN_OR_RETURN(bool more, source->Next(&part));
      if (!more) break;
      train.count += part.count;
      train.files += 1;
      train.file_bytes += part.file_bytes;
      train.labels.insert(train.labels.end(), part.labels.begin(), part.labels.end());
    }
    TB_ASSIGN_OR_RETURN(test, source->TestSplit());
    *read = source->Stats();
    return Status::Ok();
  }

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

Result<std::unique_ptr<train::TrainSource>> OpenDatasetSource(const Context& ctx) {
  train::SourceOptions options;
  options.mode = "fastfile";
  options.max_retries = ctx.storage_options.max_retries;
  if (ctx.verified_files) {
    options.listed = *ctx.verified_files;
    options.use_listed = true;
  }
  return train::OpenTrainSource(ctx.dataset_uri, options, ctx.storage_options);
}

std::unique_ptr<Stage> NewPickledStage() { return std::make_unique<PickledStage>(); }

}  // namespace tb::pipeline
