// Stage 1, download: fetch the dataset tarball from the origin (http(s)://, s3://, or a path)
// to local scratch, in parallel ranges where the origin allows, atomically.
#include <nlohmann/json.hpp>

#include "pipeline/shard.h"
#include "pipeline/stage.h"
#include "storage/transfer.h"
#include "util/fs.h"
#include "util/json.h"

namespace tb::pipeline {
namespace {

class DownloadStage : public Stage {
 public:
  const char* name() const override { return "download"; }
  bool AppliesTo(const JobConfig& cfg) const override { return cfg.scenario == "staged"; }

  // Once per host: its local rank 0 does it; the host's other ranks use its output.
  Status Run(Context& ctx, report::StageResult& result) override {
    return OncePerHost(
        ctx, result, name(), [&] { return Work(ctx, result); },
        [&] { return ctx.tarball_path; },
        [&](const std::string& output) { ctx.tarball_path = output; });
  }

 private:
  static Status Work(Context& ctx, report::StageResult& result) {
    TB_ASSIGN_OR_RETURN(storage::ObjectRef ref, storage::SplitObjectUri(ctx.cfg.origin_url));
    std::string name = ref.key.substr(ref.key.rfind('/') + 1);
    if (name.empty()) return Status::InvalidArgument("origin " + ctx.cfg.origin_url + " names no object");
    TB_RETURN_IF_ERROR(MakeDirs(ctx.cfg.scratch));
    std::string dest = ctx.cfg.scratch + "/" + name;
    Progress progress("download", 0, 0, ProgressEnabled(ctx.progress));
    auto stats = storage::CopyObject(ctx.cfg.origin_url, dest, OriginDownloadOptions(ctx),
                                     [&](uint64_t b, uint64_t f) { progress.Add(b, f); });
    progress.Finish();
    if (!stats.ok()) return stats.status();
    ctx.tarball_path = dest;
    result.bytes = stats->bytes;
    result.files = 1;
    result.detail_json = JsonText(nlohmann::json{{"source", ctx.cfg.origin_url}, {"dest", dest},
                                                 {"concurrency", ctx.storage_options.concurrency}});
    return Status::Ok();
  }
};

}  // namespace

storage::Options OriginDownloadOptions(const Context& ctx) {
  storage::Options o = ctx.storage_options;
  o.max_object_bytes = ctx.cfg.max_download_bytes;
  o.max_object_source = "limits.max_download_bytes";
  auto free_bytes = FreeBytes(ctx.cfg.scratch);
  if (free_bytes.ok()) {
    uint64_t room = *free_bytes > ctx.cfg.min_free_bytes ? *free_bytes - ctx.cfg.min_free_bytes : 1;
    if (room < o.max_object_bytes) {
      o.max_object_bytes = room;
      o.max_object_source = "the free space on " + ctx.cfg.scratch + ", " + std::to_string(*free_bytes) +
                            " bytes, less limits.min_free_bytes, " + std::to_string(ctx.cfg.min_free_bytes);
    }
  }
  return o;
}

std::unique_ptr<Stage> NewDownloadStage() { return std::make_unique<DownloadStage>(); }

}  // namespace tb::pipeline
