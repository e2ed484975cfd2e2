// Stage 3, extract: unpack the tarball into <scratch>/extract safely (see dataset/archive.h).
#include <nlohmann/json.hpp>

#include "dataset/archive.h"
#include "dataset/cifar.h"
#include "pipeline/shard.h"
#include "pipeline/stage.h"
#include "pipeline/stream.h"
#include "util/fs.h"
#include "util/json.h"

namespace tb::pipeline {
namespace {

// In the streamed pass: the consumer. Unpacks the stream into <scratch>/extract as it
// arrives; members go to the member sink (verify) when one is wired.
class ExtractPart : public StreamPart {
 public:
  Status Wire(Context& ctx, StreamWiring& w) override {
    dest_ = ctx.cfg.scratch + "/extract";
    w.consumer = {[this, &ctx](const dataset::ArchiveReadFn& read, const StreamWiring::MemberSink* sink,
                               uint64_t keep_member_bytes) -> Result<dataset::ExtractStats> {
                    TB_RETURN_IF_ERROR(RemoveAll(dest_));  // a previous run's files must not pass for this one's
                    TB_RETURN_IF_ERROR(MakeDirs(dest_));
                    dataset::ExtractOptions options;
                    if (sink) {
                      options.defer_member = *sink;
                      options.keep_member_bytes = keep_member_bytes;
                    }
                    options.cancel = ctx.storage_options.cancel;
                    SetExtractLimits(ctx.cfg, &options);
                    Progress progress("ingest", 0, 0, ProgressEnabled(ctx.progress), ctx.progress_listener);
                    std::function<void(uint64_t, uint64_t)> on_progress = [&](uint64_t b, uint64_t f) {
                      progress.Add(b, f);
                    };
                    options.progress = &on_progress;
                    auto stats = dataset::ExtractStream(read, ctx.cfg.origin_url, dest_, options);
                    progress.Finish();
                    return stats;
                  },
                  &span};
    return Status::Ok();
  }

  Status Finish(Context& ctx, const StreamEnd& end, report::StageResult& result) override {
    result.detail_json = JsonText(nlohmann::json{{"mode", "streaming"}, {"dest", dest_}});
    // The member sink refused a member: its stage (verify) reports why.
    if (!end.unpacked.ok()) return end.sink_refused ? Status::Ok() : end.unpacked.status();
    result.files = end.unpacked->files;
    result.bytes = end.unpacked->bytes;
    ctx.data_root = dest_;
    auto dir = dataset::FindDatasetDir(dest_);
    if (dir.ok()) ctx.dataset_dir = *dir;
    return Status::Ok();
  }

  void Discard(Context& ctx) override {
    (void)RemoveAll(dest_);  // nothing half-ingested may pass for complete
    if (ctx.data_root == dest_) {
      ctx.data_root.clear();
      ctx.dataset_dir.clear();
    }
  }

 private:
  std::string dest_;
};

class ExtractStage : public Stage {
 public:
  // Once per host: its local rank 0 does it; the host's other ranks use its output.
  Status Run(Context& ctx, report::StageResult& result) override {
    return OncePerHost(
        ctx, result, "extract", [&] { return Work(ctx, result); },
        [&] {
          return JsonText(nlohmann::json{{"data_root", AbsolutePath(ctx.data_root)},
                                         {"dataset_dir", AbsolutePath(ctx.dataset_dir)}});
        },
        [&](const std::string& output) {
          auto j = nlohmann::json::parse(output, nullptr, false);
          if (!j.is_object()) return;
          ctx.data_root = j.value("data_root", std::string());
          ctx.dataset_dir = j.value("dataset_dir", std::string());
        });
  }

  std::unique_ptr<StreamPart> NewStreamPart() override { return std::make_unique<ExtractPart>(); }

 private:
  static Status Work(Context& ctx, report::StageResult& result) {
    if (ctx.tarball_path.empty()) return Status::NotFound("no downloaded tarball (stage download is off)");
    std::string dest = ctx.cfg.scratch + "/extract";
    TB_RETURN_IF_ERROR(RemoveAll(dest));  // a previous run's files must not pass for this one's
    TB_RETURN_IF_ERROR(MakeDirs(dest));
    Progress progress("extract", 0, 0, ProgressEnabled(ctx.progress), ctx.progress_listener);
    std::function<void(uint64_t, uint64_t)> on_progress = [&](uint64_t b, uint64_t f) { progress.Add(b, f); };
    dataset::ExtractOptions options;
    options.progress = &on_progress;
    options.cancel = ctx.storage_options.cancel;  // polled per chunk: a large member stops midway
    SetExtractLimits(ctx.cfg, &options);
    auto stats = dataset::ExtractArchive(ctx.tarball_path, dest, options);
    progress.Finish();
    if (!stats.ok()) {
      (void)RemoveAll(dest);  // nothing half-extracted may pass for complete
      return stats.status();
    }
    result.bytes = stats->bytes;
    result.files = stats->files;
    ctx.data_root = dest;
    auto dir = dataset::FindDatasetDir(dest);
    if (dir.ok()) ctx.dataset_dir = *dir;
    result.detail_json = JsonText(nlohmann::json{{"archive", ctx.tarball_path}, {"dest", dest}});
    return Status::Ok();
  }
};

}  // namespace

void SetExtractLimits(const JobConfig& cfg, dataset::ExtractOptions* options) {
  options->max_expansion_ratio = cfg.max_expansion_ratio;
  options->min_free_bytes = cfg.min_free_bytes;
}

std::unique_ptr<Stage> NewExtractStage() { return std::make_unique<ExtractStage>(); }

}  // namespace tb::pipeline
