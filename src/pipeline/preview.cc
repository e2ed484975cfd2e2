// Stage 8, preview: a random batch rendered as a labelled grid PNG.
#include <filesystem>
#include <nlohmann/json.hpp>

#include "pipeline/shard.h"
#include "pipeline/stage.h"
#include "render/preview.h"
#include "util/fs.h"
#include "util/json.h"

namespace tb::pipeline {
namespace {

class PreviewStage : public Stage {
 public:
  Status Run(Context& ctx, report::StageResult& result) override {
    TB_RETURN_IF_ERROR(ctx.NeedDataset());
    if (RankOf(ctx) != 0) {  // one picture per run, at the path the config names
      result.detail_json = JsonText(nlohmann::json{{"reason", "rendered by rank 0"}});
      return Status::Ok();
    }
    std::string dir = std::filesystem::path(ctx.cfg.preview_out).parent_path().string();
    if (!dir.empty()) TB_RETURN_IF_ERROR(MakeDirs(dir));
    render::PreviewOptions options;
    options.data_dir = ctx.dataset_dir;
    options.out_png = ctx.cfg.preview_out;
    options.count = ctx.cfg.preview_count;
    options.scale = ctx.cfg.preview_scale;
    options.seed = ctx.cfg.seed;
    options.files = ctx.verified_files;
    TB_ASSIGN_OR_RETURN(render::PreviewResult preview, render::RenderPreview(options));
    std::string names;
    for (const auto& n : preview.class_names) names += (names.empty() ? "" : " ") + n;
    ctx.log("preview: " + names);
    result.files = 1;
    std::error_code ec;
    result.bytes = std::filesystem::file_size(ctx.cfg.preview_out, ec);
    result.detail_json = JsonText(nlohmann::json{{"png", ctx.cfg.preview_out}, {"classes", preview.class_names},
                                                 {"width", preview.width}, {"height", preview.height}});
    return Status::Ok();
  }
};

}  // namespace

std::unique_ptr<Stage> NewPreviewStage() { return std::make_unique<PreviewStage>(); }

}  // namespace tb::pipeline
