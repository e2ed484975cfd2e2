// Stage 2, integrity: md5 of the downloaded tarball against the expected value (a literal in
// the config, or the first word of an .md5 file at a path or URL).
#include <filesystem>
#include <nlohmann/json.hpp>

#include "pipeline/shard.h"
#include "pipeline/stage.h"
#include "util/json.h"
#include "util/md5.h"

namespace tb::pipeline {
namespace {

class IntegrityStage : public Stage {
 public:
  const char* name() const override { return "integrity"; }
  bool AppliesTo(const JobConfig& cfg) const override { return cfg.scenario == "staged"; }

  // Once per host: its local rank 0 does it; the host's other ranks use its output.
  Status Run(Context& ctx, report::StageResult& result) override {
    return OncePerHost(
        ctx, result, name(), [&] { return Work(ctx, result); },
        [&] { return std::string(); },
        [&](const std::string& output) { (void)output; });
  }

 private:
  static Status Work(Context& ctx, report::StageResult& result) {
    if (ctx.tarball_path.empty()) return Status::NotFound("no downloaded tarball (stage download is off)");
    TB_ASSIGN_OR_RETURN(std::string expected, ExpectedMd5(ctx));
    TB_ASSIGN_OR_RETURN(Md5Digest digest, Md5File(ctx.tarball_path));
    std::string actual = ToHex(digest);
    result.files = 1;
    auto size = std::filesystem::file_size(ctx.tarball_path);
    result.bytes = size;
    result.detail_json = JsonText(nlohmann::json{{"file", ctx.tarball_path}, {"expected_md5", expected},
                                                 {"actual_md5", actual}});
    if (actual != expected)
      return Status::Corruption("md5 mismatch for " + ctx.tarball_path + ": expected " + expected +
                                ", actual " + actual);
    return Status::Ok();
  }
};

}  // namespace

std::unique_ptr<Stage> NewIntegrityStage() { return std::make_unique<IntegrityStage>(); }

}  // namespace tb::pipeline
