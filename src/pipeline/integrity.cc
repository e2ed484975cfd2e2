// Stage 2, integrity: md5 of the downloaded tarball against the expected value (a literal in
// the config, or the first word of an .md5 file at a path or URL).
#include <filesystem>
#include <nlohmann/json.hpp>

#include "pipeline/shard.h"
#include "pipeline/stage.h"
#include "pipeline/stream.h"
#include "storage/storage.h"
#include "util/json.h"
#include "util/md5.h"

namespace tb::pipeline {
namespace {

std::string Mismatch(const std::string& file, const std::string& expected, const std::string& actual) {
  return "md5 mismatch for " + file + ": expected " + expected + ", actual " + actual;
}

// In the streamed pass: hashes the tarball's chunks as they arrive, and gates keeping it.
class IntegrityPart : public StreamPart {
 public:
  Status Wire(Context& ctx, StreamWiring& w) override {
    TB_ASSIGN_OR_RETURN(expected_, ExpectedMd5(ctx));
    auto ref = storage::SplitObjectUri(ctx.cfg.origin_url);
    if (ref.ok()) file_ = ctx.cfg.scratch + "/" + ref->key.substr(ref->key.rfind('/') + 1);
    w.taps.push_back({[this](const char* data, size_t n) {
                        md5_.Update(data, n);
                        bytes_ += n;
                        return Status::Ok();
                      },
                      &span});
    w.source_checks.push_back([this] { return Check(); });
    return Status::Ok();
  }

  Status Finish(Context&, const StreamEnd& end, report::StageResult& result) override {
    result.bytes = bytes_;
    result.files = 1;
    result.detail_json = JsonText(
        nlohmann::json{{"mode", "streaming"}, {"file", file_}, {"expected_md5", expected_}, {"actual_md5", Actual()}});
    Status s = Check();
    if (!s.ok() && !end.unpacked.ok())  // the tarball itself is corrupt: that is why unpacking failed
      return Status::Corruption(s.message() + " (unpacking it had failed: " + end.unpacked.status().message() + ")");
    return s;
  }

 private:
  const std::string& Actual() {
    if (actual_.empty()) actual_ = ToHex(md5_.Finish());
    return actual_;
  }
  Status Check() {
    return Actual() == expected_ ? Status::Ok() : Status::Corruption(Mismatch(file_, expected_, Actual()));
  }

  std::string expected_, actual_, file_;
  Md5 md5_;
  uint64_t bytes_ = 0;
};

class IntegrityStage : public Stage {
 public:
  // Once per host: its local rank 0 does it; the host's other ranks use its output.
  Status Run(Context& ctx, report::StageResult& result) override {
    return OncePerHost(
        ctx, result, "integrity", [&] { return Work(ctx, result); }, [&] { return std::string(); },
        [&](const std::string& output) { (void)output; });
  }

  std::unique_ptr<StreamPart> NewStreamPart() override { return std::make_unique<IntegrityPart>(); }

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
    if (actual != expected) return Status::Corruption(Mismatch(ctx.tarball_path, expected, actual));
    return Status::Ok();
  }
};

}  // namespace

std::unique_ptr<Stage> NewIntegrityStage() { return std::make_unique<IntegrityStage>(); }

}  // namespace tb::pipeline
