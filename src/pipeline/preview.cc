// Stage 8, preview: a random batch rendered as a labelled grid PNG.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>

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
    std::optional<dataset::Split> test;  // streamed: pickled's test split, freed when this returns
    test.swap(ctx.test_split);
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
    nlohmann::json detail;
    render::PreviewResult preview;
    if (ctx.dataset_uri.empty()) {
      TB_ASSIGN_OR_RETURN(preview, render::RenderPreview(options));
    } else {
      TB_ASSIGN_OR_RETURN(preview, RenderFromTier(ctx, std::move(test), options, detail));
    }
    std::string names;
    for (const auto& n : preview.class_names) names += (names.empty() ? "" : " ") + n;
    ctx.log("preview: " + names);
    result.files = 1;
    std::error_code ec;
    result.bytes = std::filesystem::file_size(ctx.cfg.preview_out, ec);
    detail.update(nlohmann::json{{"png", ctx.cfg.preview_out},
                                 {"classes", preview.class_names},
                                 {"width", preview.width},
                                 {"height", preview.height}});
    result.detail_json = JsonText(detail);
    return Status::Ok();
  }

 private:
  // Streamed: no local folder. The test split pickled decoded (`test`), else the test split read
  // through a train source over the tier; the label names meta read, else batches.meta from the
  // tier. `detail` names where the images came from.
  static Result<render::PreviewResult> RenderFromTier(Context& ctx, std::optional<dataset::Split> test,
                                                      const render::PreviewOptions& options, nlohmann::json& detail) {
    std::unique_ptr<train::TrainSource> source;
    if (!test || ctx.label_names.empty()) {
      TB_ASSIGN_OR_RETURN(source, OpenDatasetSource(ctx));
    }
    detail["images_from"] = test ? "test split decoded by pickled" : "test split read through the tier";
    if (!test) {
      TB_ASSIGN_OR_RETURN(test, source->TestSplit());
    }
    std::vector<std::string> names = ctx.label_names;
    if (names.empty()) {
      TB_ASSIGN_OR_RETURN(names, source->LabelNames());
    }
    detail["split"] = "test";
    detail["gets"] = source ? source->Stats().gets : 0;
    return render::RenderPreviewOf(*test, names, options, ctx.dataset_uri + " (test split)");
  }
};

}  // namespace

std::unique_ptr<Stage> NewPreviewStage() { return std::make_unique<PreviewStage>(); }

}  // namespace tb::pipeline
