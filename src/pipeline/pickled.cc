// Stage 5, pickled: decode every CIFAR batch (train and test) into memory, files in parallel.
// Several ranks reading one copy decode a share of the batch files each (pipeline/shard.h).
#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "dataset/cifar.h"
#include "pipeline/shard.h"
#include "pipeline/stage.h"
#include "train/object_source.h"
#include "util/json.h"

namespace tb::pipeline {
namespace {

using train::SourceStats;

// The streamed scenario's load: the batch files verify kept (ctx.verified_bytes: read once,
// md5 matched) decoded from memory, each freed once decoded (the rest when this is destroyed);
// the others read through a train source over the tier (read ahead), opened only when one is
// needed: verify skipped, or files past verify.keep_bytes. Several ranks: each decodes the
// batch files its verify share hashed (ctx.hashed_files), so each is read once by the cluster
// (every file on every rank when verify did not run).
class StreamedLoad {
 public:
  explicit StreamedLoad(Context& ctx) : ctx_(ctx) {
    kept_.swap(ctx.verified_bytes);
    if (auto meta = kept_.find(kMetaFile); meta != kept_.end()) {  // meta's, not ours
      ctx.verified_bytes.insert(kept_.extract(meta));
    }
    if (ctx.cluster && !ctx.hashed_files.empty()) {
      mine_.emplace();
      for (const std::string& path : ctx.hashed_files) mine_->insert(path.substr(path.rfind('/') + 1));
    }
  }

  // The training split's labels and counts (no pixels: training reads its own).
  Status Train(dataset::Split& train) {
    std::vector<std::string> files;  // the training batch files, in order
    if (kept_.empty()) {
      TB_RETURN_IF_ERROR(Open());
      files = source_->files();
    } else {
      TB_ASSIGN_OR_RETURN(files, Listed(true));
    }
    if (mine_) std::erase_if(files, [&](const std::string& name) { return !mine_->count(name); });
    std::vector<uint32_t> order;  // the files not kept, as indices of the source's files
    for (const std::string& name : files) {
      if (kept_.count(name)) continue;
      TB_RETURN_IF_ERROR(Open());
      auto at = std::find(source_->files().begin(), source_->files().end(), name);
      if (at == source_->files().end()) return Status::NotFound(Name(name) + " is not in the listing");
      order.push_back(static_cast<uint32_t>(at - source_->files().begin()));
    }
    if (source_) TB_RETURN_IF_ERROR(source_->StartEpoch(order));
    for (const std::string& name : files) {
      if (ctx_.cancelled()) return Status::Cancelled("pickled interrupted");
      dataset::Split part;
      if (auto it = kept_.find(name); it != kept_.end()) {
        TB_ASSIGN_OR_RETURN(dataset::BatchView view, dataset::DecodeBatchView(it->second, Name(name), false));
        part.count = view.count();
        part.file_bytes = it->second.size();
        part.labels = std::move(view.labels);
        kept_.erase(it);
        ++from_verify_;
      } else {
        TB_ASSIGN_OR_RETURN(bool more, source_->Next(&part));
        if (!more) return Status::Cancelled("pickled interrupted");
        ++read_again_;
      }
      train.count += part.count;
      train.files += 1;
      train.file_bytes += part.file_bytes;
      train.labels.insert(train.labels.end(), part.labels.begin(), part.labels.end());
    }
    return Status::Ok();
  }

  // The test split (pixels too): from verify's bytes when it kept every test file.
  Status Test(dataset::Split& test) {
    std::vector<std::string> names;
    if (!kept_.empty() || mine_) {
      TB_ASSIGN_OR_RETURN(names, Listed(false));
    }
    if (mine_) {
      std::erase_if(names, [&](const std::string& name) { return !mine_->count(name); });
      if (names.empty()) return Status::Ok();  // another rank's share
    }
    bool all_kept = !names.empty();
    for (const std::string& name : names) all_kept = all_kept && kept_.count(name);
    if (!all_kept) {
      TB_RETURN_IF_ERROR(Open());
      TB_ASSIGN_OR_RETURN(test, source_->TestSplit());
      read_again_ += static_cast<uint64_t>(test.files);
      return Status::Ok();
    }
    for (const std::string& name : names) {
      TB_ASSIGN_OR_RETURN(dataset::Split part, dataset::DecodeSplitBytes(kept_[name], Name(name)));
      kept_.erase(name);
      dataset::AppendSplit(&test, part);
      ++from_verify_;
    }
    return Status::Ok();
  }

  // read_from, files_read_again and gets into `detail`; returns what the source read.
  SourceStats Describe(nlohmann::json& detail) const {
    SourceStats read = source_ ? source_->Stats() : SourceStats{};
    detail["read_from"] = read_again_ == 0 ? "verify's read" : from_verify_ == 0 ? "tier" : "verify's read and tier";
    detail["files_read_again"] = read_again_;
    detail["gets"] = read.gets;
    return read;
  }

 private:
  Status Open() {
    if (source_) return Status::Ok();
    TB_ASSIGN_OR_RETURN(source_, OpenDatasetSource(ctx_));
    return Status::Ok();
  }
  std::string Name(const std::string& name) const { return ctx_.dataset_uri + "/" + name; }
  // The split's batch files among those verify listed; NotFound naming the dataset.
  Result<std::vector<std::string>> Listed(bool train) const {
    Result<std::vector<std::string>> files = dataset::SplitFiles("", train, ctx_.listed_files());
    if (!files.ok()) return Status::NotFound(ctx_.dataset_uri + files.status().message());  // ": no …"
    return files;
  }

  Context& ctx_;
  std::map<std::string, std::string> kept_;
  std::optional<std::set<std::string>> mine_;  // several ranks: the batch files of this rank's share
  std::unique_ptr<train::TrainSource> source_;
  uint64_t from_verify_ = 0, read_again_ = 0;
};

class PickledStage : public Stage {
 public:
  Status Run(Context& ctx, report::StageResult& result) override {
    TB_RETURN_IF_ERROR(ctx.NeedDataset());
    dataset::Split train, test;
    nlohmann::json share_detail;
    SourceStats read;
    nlohmann::json streamed;
    if (!ctx.dataset_uri.empty()) {
      StreamedLoad load(ctx);
      TB_RETURN_IF_ERROR(load.Train(train));
      TB_RETURN_IF_ERROR(load.Test(test));
      read = load.Describe(streamed);
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
    if (!ctx.dataset_uri.empty()) result.bytes = read.bytes;  // what crossed the network here
    nlohmann::json detail{{"dir", ctx.dataset_uri.empty() ? ctx.dataset_dir : ctx.dataset_uri},
                          {"train_images", train.count},
                          {"test_images", test.count},
                          {"pixel_bytes", train.pixels.size() + test.pixels.size()},
                          {"train_label_histogram", histogram},
                          {"train_files", train.files},
                          {"test_files", test.files},
                          {"files_from", ctx.verified_files ? "manifest" : "folder"}};
    if (!share_detail.is_null()) detail["share"] = share_detail;
    if (!streamed.is_null()) detail.update(streamed);
    result.detail_json = JsonText(detail);
    // Streamed: preview has no local folder to render from; it takes this split.
    // Several ranks: only the rank whose share held the test split has one to give.
    if (!ctx.dataset_uri.empty() && ctx.cfg.StageEnabled(StageId::kPreview) && test.count > 0)
      ctx.test_split = std::move(test);
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
