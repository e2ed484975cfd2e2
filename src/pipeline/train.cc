// Stage 9, train: the tutorial CNN with libtorch. Staged: the training input is fetched from
// the S3 upload to <scratch>/train-input first (SageMaker File mode), and that fetch is part of
// this stage's time (reported separately in detail.fetch_seconds). Inplace: trains from the
// files where they are.
#include "train/train.h"

#include <nlohmann/json.hpp>

#include "pipeline/shard.h"
#include "pipeline/stage.h"
#include "storage/transfer.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/json.h"

namespace tb::pipeline {
namespace {

class TrainStage : public Stage {
 public:
  const char* name() const override { return "train"; }

  Status Run(Context& ctx, report::StageResult& result) override {
    nlohmann::json detail;
    std::string input = ctx.dataset_dir;
    if (ctx.cfg.scenario == "staged" && !ctx.cfg.upload_dest.empty() && ctx.cfg.StageEnabled("upload")) {
      std::string src = UploadUri(ctx);
      input = ctx.cfg.scratch + "/train-input/cifar-10-batches-py";
      // Once per host (its local rank 0); the host's other ranks train from that copy.
      TB_RETURN_IF_ERROR(OncePerHost(
          ctx, result, "train-fetch",
          [&]() -> Status {
            TB_RETURN_IF_ERROR(RemoveAll(ctx.cfg.scratch + "/train-input"));
            double t0 = NowSeconds();
            Progress progress("fetch", 0, 0, ProgressEnabled(ctx.progress));
            auto stats = storage::CopyTree(src, input, ctx.storage_options,
                                           [&](uint64_t b, uint64_t f) { progress.Add(b, f); });
            progress.Finish();
            if (!stats.ok()) return stats.status().Prefix("fetching training input from " + src);
            detail["fetch_source"] = src;
            detail["fetch_seconds"] = NowSeconds() - t0;
            detail["fetch_bytes"] = stats->bytes;
            result.bytes += stats->bytes;
            result.files += stats->files;
            return Status::Ok();
          },
          [] { return std::string(); }, [](const std::string&) {}));
    }
    if (input.empty()) return ctx.NeedDataset();
    ctx.train_input_dir = input;
    train::TrainOptions options;
    options.data_dir = input;
    options.epochs = ctx.cfg.epochs;
    options.batch_size = ctx.cfg.batch_size;
    options.lr = ctx.cfg.lr;
    options.momentum = ctx.cfg.momentum;
    options.workers = ctx.cfg.workers;
    options.threads = ctx.cfg.threads;
    options.seed = ctx.cfg.seed;
    options.files = ctx.verified_files;  // the same names in the fetched copy
    if (ctx.cluster && ctx.cfg.distribution == "sharded") {
      // Each rank trains on its share of the training batches (and every other file).
      Share share = UploadShare(ctx);
      TB_ASSIGN_OR_RETURN(BatchShare mine, ShareBatches(ctx, input, false, share));
      if (mine.mine.empty())
        return Status::InvalidArgument("pipeline.distribution = \"sharded\": " + std::to_string(share.count) +
                                       " ranks but only " + std::to_string(mine.batches.size()) +
                                       " training files in " + input);
      options.files = mine.listed;
      detail["shard_files"] = mine.mine;
    }
    options.device = ctx.cfg.device;
    options.model_dir = RankOf(ctx) == 0 ? ctx.cfg.model_dir : "";  // one model file per run
    options.max_steps = ctx.cfg.max_steps;
    options.cancel = ctx.storage_options.cancel;
    options.log = [&](const std::string& line) { ctx.log("train: " + line); };
    if (!options.model_dir.empty()) TB_RETURN_IF_ERROR(MakeDirs(options.model_dir));
    TB_ASSIGN_OR_RETURN(train::TrainSummary summary, train::Train(options));
    detail["input"] = input;
    detail["device"] = summary.device;
    detail["epochs"] = summary.epochs;
    detail["steps"] = summary.steps;
    detail["files_from"] = ctx.verified_files ? "manifest" : "folder";
    detail["train_images"] = summary.train_images;
    detail["test_images"] = summary.test_images;
    detail["final_loss"] = summary.final_loss;
    detail["test_accuracy"] = summary.test_accuracy;
    detail["class_accuracy"] = summary.class_accuracy;
    detail["class_names"] = summary.class_names;
    detail["steps_per_second"] = summary.steps_per_second;
    detail["model"] = summary.model_path;
    result.files += 1;
    result.detail_json = JsonText(detail);
    return Status::Ok();
  }
};

}  // namespace

std::unique_ptr<Stage> NewTrainStage() { return std::make_unique<TrainStage>(); }

}  // namespace tb::pipeline
