// Stage 4, verify: md5 of every dataset file against the manifest, files hashed in parallel.
// Staged: the extracted files in scratch; inplace: the files where they are.
#include <nlohmann/json.hpp>

#include "dataset/manifest.h"
#include "pipeline/stage.h"

namespace tb::pipeline {
namespace {

class VerifyStage : public Stage {
 public:
  const char* name() const override { return "verify"; }

  Status Run(Context& ctx, report::StageResult& result) override {
    TB_RETURN_IF_ERROR(ctx.NeedDataset());
    TB_ASSIGN_OR_RETURN(std::string text, ReadSmallObject(ctx.cfg.manifest, ctx.storage_options));
    TB_ASSIGN_OR_RETURN(auto entries, dataset::ParseManifest(text, ctx.cfg.manifest));
    Progress progress("verify", 0, entries.size(), ProgressEnabled(ctx.progress));
    auto report = dataset::VerifyManifest(ctx.data_root, entries, ctx.cfg.verify_threads,
                                          [&](uint64_t b, uint64_t f) { progress.Add(b, f); });
    progress.Finish();
    if (!report.ok()) return report.status();
    result.bytes = report->bytes;
    result.files = report->files;
    nlohmann::json detail{{"manifest", ctx.cfg.manifest}, {"root", ctx.data_root},
                          {"entries", entries.size()}, {"mismatched", report->mismatched},
                          {"missing", report->missing}};
    result.detail_json = detail.dump();
    if (!report->ok()) {
      std::string what;
      const auto& list = report->mismatched.empty() ? report->missing : report->mismatched;
      for (size_t i = 0; i < list.size() && i < 5; ++i) what += (i ? ", " : "") + list[i];
      if (list.size() > 5) what += ", …";
      return Status::Corruption(std::to_string(report->mismatched.size()) + " file(s) differ from " +
                                ctx.cfg.manifest + " and " + std::to_string(report->missing.size()) +
                                " missing under " + ctx.data_root + ": " + what);
    }
    return Status::Ok();
  }
};

}  // namespace

std::unique_ptr<Stage> NewVerifyStage() { return std::make_unique<VerifyStage>(); }

}  // namespace tb::pipeline
