// Stage 1, download: fetch the dataset tarball from the origin (http(s)://, s3://, or a path)
// to local scratch, in parallel ranges where the origin allows, atomically.
#include <optional>

#include <nlohmann/json.hpp>

#include "pipeline/shard.h"
#include "pipeline/stage.h"
#include "pipeline/stream.h"
#include "storage/transfer.h"
#include "util/fs.h"
#include "util/json.h"

namespace tb::pipeline {
namespace {

// In the streamed pass: the source. The tarball is kept as it arrives, under a temporary
// name, and renamed into place once the checks wired on it (integrity) passed.
class DownloadPart : public StreamPart {
 public:
  Status Wire(Context& ctx, StreamWiring& w) override {
    TB_ASSIGN_OR_RETURN(storage::ObjectRef ref, storage::SplitObjectUri(ctx.cfg.origin_url));
    std::string name = ref.key.substr(ref.key.rfind('/') + 1);
    if (name.empty()) return Status::InvalidArgument("origin " + ctx.cfg.origin_url + " names no object");
    dest_ = ctx.cfg.scratch + "/" + name;
    w.source = {[this, &ctx]() -> Result<std::unique_ptr<storage::Reader>> {
                  TB_RETURN_IF_ERROR(MakeDirs(ctx.cfg.scratch));
                  TB_ASSIGN_OR_RETURN(AtomicFile file, AtomicFile::Create(dest_));
                  file_.emplace(std::move(file));
                  if (ctx.open_stream) return ctx.open_stream(ctx.cfg.origin_url, OriginDownloadOptions(ctx));
                  return storage::OpenStream(ctx.cfg.origin_url, OriginDownloadOptions(ctx));
                },
                &span};
    w.taps.push_back({[this](const char* data, size_t n) {
                        bytes_ += n;
                        return file_->Write(data, n);
                      },
                      &span});
    checks_ = &w.source_checks;
    return Status::Ok();
  }

  Status Finish(Context& ctx, const StreamEnd& end, report::StageResult& result) override {
    result.detail_json =
        JsonText(nlohmann::json{{"mode", "streaming"}, {"source", ctx.cfg.origin_url}, {"dest", dest_}});
    result.bytes = bytes_;
    result.files = 1;
    if (end.cancelled) {
      return end.source.IsCancelled() ? end.source
                                      : Status::Cancelled("interrupted while downloading " + ctx.cfg.origin_url);
    }
    TB_RETURN_IF_ERROR(end.source);
    for (const auto& check : *checks_)
      if (!check().ok()) return Status::Ok();  // not kept; the checking stage reports why
    TB_RETURN_IF_ERROR(file_->Commit());
    ctx.tarball_path = dest_;
    return Status::Ok();
  }

 private:
  std::string dest_;
  std::optional<AtomicFile> file_;
  uint64_t bytes_ = 0;
  const std::vector<std::function<Status()>>* checks_ = nullptr;
};

class DownloadStage : public Stage {
 public:
  // Once per host: its local rank 0 does it; the host's other ranks use its output.
  Status Run(Context& ctx, report::StageResult& result) override {
    return OncePerHost(
        ctx, result, "download", [&] { return Work(ctx, result); }, [&] { return AbsolutePath(ctx.tarball_path); },
        [&](const std::string& output) { ctx.tarball_path = output; });
  }

  std::unique_ptr<StreamPart> NewStreamPart() override { return std::make_unique<DownloadPart>(); }

 private:
  static Status Work(Context& ctx, report::StageResult& result) {
    TB_ASSIGN_OR_RETURN(storage::ObjectRef ref, storage::SplitObjectUri(ctx.cfg.origin_url));
    std::string name = ref.key.substr(ref.key.rfind('/') + 1);
    if (name.empty()) return Status::InvalidArgument("origin " + ctx.cfg.origin_url + " names no object");
    TB_RETURN_IF_ERROR(MakeDirs(ctx.cfg.scratch));
    std::string dest = ctx.cfg.scratch + "/" + name;
    Progress progress("download", 0, 0, ProgressEnabled(ctx.progress), ctx.progress_listener);
    auto stats =
        storage::CopyObject(ctx.cfg.origin_url, dest, OriginDownloadOptions(ctx), storage::ProgressOf(progress));
    progress.Finish();
    if (!stats.ok()) return stats.status();
    ctx.tarball_path = dest;
    result.bytes = stats->bytes;
    result.files = 1;
    result.detail_json = JsonText(nlohmann::json{{"source", ctx.cfg.origin_url},
                                                 {"dest", dest},
                                                 {"concurrency", ctx.storage_options.concurrency},
                                                 {"streams", stats->streams},
                                                 {"streams_why", stats->streams_why}});
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
