// Stage 2, integrity: md5 of the downloaded tarball against the expected value (a literal in
// the config, or the first word of an .md5 file at a path or URL).
#include <filesystem>
#include <nlohmann/json.hpp>

#include "pipeline/stage.h"
#include "util/json.h"
#include "util/md5.h"

namespace tb::pipeline {
namespace {

bool IsMd5Hex(const std::string& s) {
  if (s.size() != 32) return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The expected md5: the literal, or the first token of the .md5 file.
Result<std::string> ExpectedMd5(const Context& ctx) {
  if (!ctx.cfg.origin_md5.empty()) {
    if (!IsMd5Hex(ctx.cfg.origin_md5))
      return Status::InvalidArgument("origin.md5 is not 32 hex digits: '" + ctx.cfg.origin_md5 + "'");
    return Lower(ctx.cfg.origin_md5);
  }
  auto text = ReadSmallObject(ctx.cfg.origin_md5_file, ctx.storage_options);
  if (!text.ok()) return text.status().Prefix("expected md5 from " + ctx.cfg.origin_md5_file);
  std::string word = text->substr(0, text->find_first_of(" \t\r\n"));
  if (!IsMd5Hex(word))
    return Status::Corruption(ctx.cfg.origin_md5_file + " does not start with an md5 (32 hex digits)");
  return Lower(word);
}

class IntegrityStage : public Stage {
 public:
  const char* name() const override { return "integrity"; }
  bool AppliesTo(const JobConfig& cfg) const override { return cfg.scenario == "staged"; }

  Status Run(Context& ctx, report::StageResult& result) override {
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
