// Stage 9, train: the tutorial CNN with libtorch. Staged: the training input is fetched from
// the S3 upload to <scratch>/train-input first (SageMaker File mode), and that fetch is part of
// this stage's time (reported separately in detail.fetch_seconds). Inplace: trains from the
// files where they are. With several ranks (ctx.cluster) training is data parallel: each rank
// trains on its share of every epoch (replicated) or of the training files (sharded),
// gradients averaged every step; rank 0 writes the model.
#include "train/train.h"
#include "train/input_json.h"

#include <nlohmann/json.hpp>

#include "launch/data_parallel.h"
#include "pipeline/shard.h"
#include "pipeline/stage.h"
#include "storage/transfer.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/json.h"

namespace tb::pipeline {
namespace {

// Staged: the training input fetched from the upload into <scratch>/train-input (*input), once
// per host (its local rank 0); the host's other ranks train from that copy (its absolute path
// is published to them, as their own scratch is another folder).
Status FetchOncePerHost(Context& ctx, report::StageResult& result, nlohmann::json& detail, std::string* input) {
  const std::string src = UploadUri(ctx);
  std::string folder = ctx.cfg.scratch + "/train-input";
  if (ctx.cluster) folder = AbsolutePath(folder);
  *input = folder + "/cifar-10-batches-py";
  return OncePerHost(
      ctx, result, "train-fetch",
      [&]() -> Status {
        TB_RETURN_IF_ERROR(RemoveAll(folder));
        double t0 = NowSeconds();
        Progress progress("fetch", 0, 0, ProgressEnabled(ctx.progress), ctx.progress_listener);
        auto stats = storage::CopyTree(src, *input, ctx.storage_options, storage::ProgressOf(progress));
        progress.Finish();
        if (!stats.ok()) return stats.status().Prefix("fetching training input from " + src);
        detail["fetch_source"] = src;
        detail["fetch_seconds"] = NowSeconds() - t0;
        detail["fetch_bytes"] = stats->bytes;
        result.bytes += stats->bytes;
        result.files += stats->files;
        return Status::Ok();
      },
      [&] { return *input; }, [&](const std::string& output) { *input = output; });
}

// The trainer's options for `input`. With several ranks training is data parallel
// (launch::TrainOnCluster: gradients averaged every step).
//   replicated: every rank has every file; the loader splits each epoch by rank
//     (DistributedSampler's rule, train/loader.h RankShare).
//   sharded: each rank takes its own share of the training batch files (ShareBatches by global
//     rank), so that split is already made: the loader does not split again
//     (split_samples = false), or each rank would see 1/N^2 of the data. It trains on every
//     image of its files; ranks with fewer images repeat some so that every rank takes the
//     same number of steps (train/train.h).
Result<train::TrainOptions> Options(Context& ctx, const std::string& input, nlohmann::json& detail) {
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
  if (!ctx.cfg.input_mode.empty()) options.input_mode = ctx.cfg.input_mode;
  options.shuffle = ctx.cfg.shuffle;
  options.cache_bytes = ctx.cfg.cache_bytes;
  options.read_ahead = ctx.cfg.read_ahead;
  options.storage = ctx.storage_options;
  if (ctx.cluster && ctx.cfg.distribution == "sharded") {
    // Each rank trains on its share of the training batches (and every other file).
    Share share = UploadShare(ctx);
    TB_ASSIGN_OR_RETURN(BatchShare mine, ShareBatches(ctx, input, false, share));
    if (mine.mine.empty())
      return Status::InvalidArgument("pipeline.distribution = \"sharded\": " + std::to_string(share.count) +
                                     " ranks but only " + std::to_string(mine.batches.size()) + " training files in " +
                                     input);
    options.files = mine.listed;
    detail["shard_files"] = mine.mine;
  }
  options.device = ctx.cfg.device;
  options.model_dir = RankOf(ctx) == 0 ? ctx.cfg.model_dir : "";  // one model file per run
  options.max_steps = ctx.cfg.max_steps;
  options.cancel = ctx.storage_options.cancel;
  options.log = [&ctx](const std::string& line) { ctx.log("train: " + line); };
  if (!options.model_dir.empty()) TB_RETURN_IF_ERROR(MakeDirs(options.model_dir));
  const double train_start = NowSeconds();
  if (ctx.progress_listener) {
    options.progress = [&ctx, train_start](const train::TrainProgress& p) {
      ctx.progress_listener(train::TrainSample(p, NowSeconds() - train_start, ctx.cfg.max_steps));
    };
  }
  launch::TrainOnCluster(ctx.cluster, &options);
  if (ctx.cluster && ctx.cfg.distribution == "sharded") options.split_samples = false;
  if (ctx.cluster) detail["sample_split"] = options.split_samples ? "rank" : "files";
  return options;
}

class TrainStage : public Stage {
 public:
  Status Run(Context& ctx, report::StageResult& result) override {
    nlohmann::json detail;
    std::string input = ctx.dataset_uri.empty() ? ctx.dataset_dir : ctx.dataset_uri;
    if (ctx.cfg.scenario == "staged" && !ctx.cfg.upload_dest.empty() && ctx.cfg.StageEnabled(StageId::kUpload)) {
      if (ctx.cfg.input_mode.empty() || ctx.cfg.input_mode == "file") {  // "": LoadConfig not run
        TB_RETURN_IF_ERROR(FetchOncePerHost(ctx, result, detail, &input));
      } else {
        input = UploadUri(ctx);  // FastFile / Pipe: the trainer reads the upload itself
      }
    }
    if (input.empty()) return ctx.NeedDataset();
    ctx.train_input_dir = input;
    TB_ASSIGN_OR_RETURN(train::TrainOptions options, Options(ctx, input, detail));
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
    // Where training waited for data (train::TrainSummary); AU absent when no step counted.
    detail["samples_per_second"] = summary.samples_per_second;
    detail["first_batch_seconds"] = summary.first_batch_seconds;
    detail["data_wait_seconds"] = summary.data_wait_seconds;
    detail["compute_seconds"] = summary.compute_seconds;
    detail["compute_clock"] = summary.compute_clock;
    if (summary.au >= 0) detail["au"] = summary.au;
    detail["epoch_au"] = nlohmann::json::array();
    for (double au : summary.epoch_au) detail["epoch_au"].push_back(au >= 0 ? nlohmann::json(au) : nlohmann::json());
    detail["epoch_seconds"] = summary.epoch_seconds;
    detail["model"] = summary.model_path;
    detail["world_size"] = summary.world_size;
    detail["rank"] = summary.rank;
    detail["batch_size"] = summary.batch_size;
    detail["global_batch_size"] = summary.global_batch_size;
    detail["rank_images"] = summary.rank_images;
    detail["weights_md5"] = summary.weights_md5;
    train::AddInputJson(summary, &detail);
    if (!summary.epoch_input.empty())  // read through a source: files it read ahead (pipe: one)
      detail["read_ahead"] = options.input_mode == "pipe" ? 1 : options.read_ahead;
    if (options.input_mode != "file") {  // what the trainer itself read from the tier
      result.bytes += summary.setup_input.bytes;
      for (const train::SourceStats& e : summary.epoch_input) result.bytes += e.bytes;
    }
    if (!summary.model_path.empty()) result.files += 1;  // rank 0 writes the model
    result.detail_json = JsonText(detail);
    return Status::Ok();
  }
};

}  // namespace

std::unique_ptr<Stage> NewTrainStage() { return std::make_unique<TrainStage>(); }

}  // namespace tb::pipeline
