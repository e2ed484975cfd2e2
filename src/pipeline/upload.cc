// Stage 7, upload: the unpacked files to s3://bucket/prefix/<relative path>, as SageMaker's
// Session.upload_data does — parallel, multipart for large files, verified.
#include <nlohmann/json.hpp>

#include "pipeline/shard.h"
#include "pipeline/stage.h"
#include "storage/s3_storage.h"
#include "storage/transfer.h"
#include "util/json.h"

namespace tb::pipeline {
namespace {

class UploadStage : public Stage {
 public:
  Status Run(Context& ctx, report::StageResult& result) override {
    TB_RETURN_IF_ERROR(ctx.NeedDataset());
    std::string dest = UploadUri(ctx);
    std::string bucket = storage::S3BucketOf(ctx.cfg.upload_dest);
    // Like `tierbench cp`, the stage creates a bucket only when told to, and says so. Several
    // ranks: rank 0 checks (and creates) it; the others wait for its answer before uploading.
    Result<bool> created = false;
    if (RankOf(ctx) == 0) created = storage::EnsureBucket(bucket, ctx.storage_options, ctx.cfg.upload_create_bucket);
    if (!created.ok() && created.status().IsNotFound())
      created = Status::NotFound(created.status().message() + "; create it first (aws s3 mb s3://" + bucket +
                                 ") or let the upload stage create it: upload.create_bucket = true (--create-bucket)");
    TB_RETURN_IF_ERROR(Exchange(ctx, "upload-bucket", created.status()).status());
    if (*created) ctx.log("upload: created bucket " + bucket + " (upload.create_bucket = true)");
    result.detail_json = JsonText(nlohmann::json{{"dest", dest}, {"bucket", bucket}, {"bucket_created", *created}});
    Progress progress("upload", 0, 0, ProgressEnabled(ctx.progress), ctx.progress_listener);
    // Several ranks: each uploads its share of the files, so each file is uploaded once.
    storage::SelectKeys select;
    if (ctx.cluster)
      select = [&](const std::vector<std::string>& keys) { return ShareIndices(keys, UploadShare(ctx)); };
    auto stats = storage::CopyTree(ctx.dataset_dir, dest, ctx.storage_options, storage::ProgressOf(progress), select);
    progress.Finish();
    if (!stats.ok()) return stats.status();  // the runner's frame fails the stage on every rank
    result.bytes = stats->bytes;
    result.files = stats->files;
    for (size_t i = 0; i < stats->skipped.size() && i < 20; ++i)
      ctx.log("upload: not uploaded " + stats->skipped[i].key + ": " + stats->skipped[i].kind);
    result.detail_json = JsonText(nlohmann::json{{"source", ctx.dataset_dir},
                                                 {"dest", dest},
                                                 {"bucket", bucket},
                                                 {"bucket_created", *created},
                                                 {"skipped", stats->skipped.size()},
                                                 {"concurrency", ctx.storage_options.concurrency},
                                                 {"part_size_bytes", ctx.storage_options.part_size_bytes},
                                                 {"streams", stats->streams},
                                                 {"streams_why", stats->streams_why}});
    return Status::Ok();
  }
};

}  // namespace

// s3://bucket/prefix/cifar-10-batches-py: where upload puts the dataset and train fetches it.
std::string UploadUri(const Context& ctx) {
  std::string dest = ctx.cfg.upload_dest;
  while (!dest.empty() && dest.back() == '/') dest.pop_back();
  return dest + "/cifar-10-batches-py";
}

std::unique_ptr<Stage> NewUploadStage() { return std::make_unique<UploadStage>(); }

}  // namespace tb::pipeline
