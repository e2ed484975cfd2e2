// tierbench doctor: the reference architecture's "control script" — is this environment ready for a job?
// One line per check with what to fix (--json: one JSON object); exit 1 if any check fails,
// 2 for a bad config.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/run_flags.h"
#include "dataset/cifar.h"
#include "pipeline/job_guard.h"
#include "pipeline/stage.h"
#include "storage/s3_storage.h"
#include "storage/storage.h"
#include "train/train.h"
#include "util/fs.h"
#include "util/progress.h"
#include "util/redact.h"
#include "util/terminal_text.h"

namespace tb::cli {
namespace {

// The checks, printed as they run ("[ OK ] name: detail"), or collected for --json.
struct Check {
  explicit Check(bool json) : json(json) {}
  bool json;
  int failures = 0;
  nlohmann::json checks = nlohmann::json::array();
  void Line(bool ok, const std::string& what, const std::string& detail, const std::string& fix = "") {
    std::string shown = RedactUrlUserinfo(detail);
    if (!ok) ++failures;
    if (json) {
      nlohmann::json c = {{"name", what}, {"ok", ok}, {"detail", shown}};
      if (!ok && !fix.empty()) c["fix"] = fix;
      checks.push_back(std::move(c));
      return;
    }
    std::printf("[%s] %s: %s\n", ok ? " OK " : "FAIL", what.c_str(), TerminalSafe(shown).c_str());
    if (!ok && !fix.empty()) std::printf("       fix: %s\n", fix.c_str());
    std::fflush(stdout);
  }
  // The closing line, or with --json the one JSON object {"ready", "failures", "checks"}.
  void Finish() {
    if (json) {
      nlohmann::json out = {{"ready", failures == 0}, {"failures", failures}, {"checks", checks}};
      std::printf("%s\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    } else {
      std::printf("%s\n", failures ? "doctor: some checks failed" : "doctor: ready");
    }
  }
};

storage::Options StorageOptions(const pipeline::JobConfig& cfg) {
  storage::Options o;
  o.endpoint_url = cfg.s3_endpoint_url;
  o.region = cfg.s3_region;
  o.profile = cfg.s3_profile;
  o.max_retries = 1;
  o.connect_timeout_s = 5;
  return o;
}

// Stat of one object URI; returns its size.
Result<uint64_t> StatUri(const std::string& uri, const storage::Options& o) {
  TB_ASSIGN_OR_RETURN(storage::ObjectRef ref, storage::SplitObjectUri(uri));
  TB_ASSIGN_OR_RETURN(auto store, storage::Open(ref.root, o));
  TB_ASSIGN_OR_RETURN(storage::ObjectInfo info, store->Stat(ref.key));
  return info.size_bytes;
}

}  // namespace

int DoctorCommand(const Args& args) {
  Flags flags = MakeRunFlags(
      "usage: tierbench doctor [--config job.toml] [options]\n\n"
      "Checks that the environment is ready for the job: origin reachable, S3 credentials and\n"
      "bucket usable, scratch writable with room, in-place data readable, training device.\n"
      "--json prints one JSON object instead: {ready, failures, checks: [{name, ok, detail, fix}]}.");
  if (Status s = flags.Parse(args); !s.ok()) return ReportError("doctor", s);
  if (flags.help_requested()) {
    std::fputs(flags.HelpText().c_str(), stdout);
    return 0;
  }
  auto overrides = RunOverrides(flags);
  if (!overrides.ok()) return ReportError("doctor", overrides.status());
  auto cfg_or = pipeline::LoadConfig(flags.Get("config"), *overrides);
  if (!cfg_or.ok()) return ReportError("doctor", cfg_or.status());
  const pipeline::JobConfig& cfg = *cfg_or;
  storage::Options o = StorageOptions(cfg);
  Check check(flags.GetBool("json", false));
  check.Line(true, "config", "scenario " + cfg.scenario + ", label " + cfg.label);
  Status paths = pipeline::CheckJobPaths(cfg, flags.Get("config"));
  check.Line(paths.ok(), "outputs", paths.ok() ? "no output overwrites an input" : paths.message(),
             "choose output paths outside the job's inputs and the dataset");

  uint64_t dataset_bytes = 0;
  if (cfg.scenario == "staged" && cfg.StageEnabled(pipeline::StageId::kDownload)) {
    auto size = StatUri(cfg.origin_url, o);
    if (size.ok()) dataset_bytes = *size;
    check.Line(size.ok(), "origin", size.ok() ? cfg.origin_url + " (" + HumanBytes(*size) + ")" : size.status().message(),
               "make the tarball reachable at origin.url or fix the URL / credentials");
    if (cfg.StageEnabled(pipeline::StageId::kIntegrity)) {
      if (!cfg.origin_md5.empty()) {
        check.Line(true, "expected md5", cfg.origin_md5);
      } else {
        auto md5 = pipeline::ReadSmallObject(cfg.origin_md5_file, o);
        check.Line(md5.ok(), "expected md5", md5.ok() ? cfg.origin_md5_file : md5.status().message(),
                   "set origin.md5 or publish <tarball>.md5 beside the tarball");
      }
    }
  }
  if (cfg.StageEnabled(pipeline::StageId::kVerify)) {
    auto manifest = pipeline::ReadSmallObject(cfg.manifest, o);
    check.Line(manifest.ok(), "manifest", manifest.ok() ? cfg.manifest : manifest.status().message(),
               "set origin.manifest to an md5sum-format file of the dataset");
  }
  if (cfg.scenario == "inplace") {
    auto dir = dataset::FindDatasetDir(cfg.inplace_dir);
    bool readable = dir.ok() && access((*dir + "/batches.meta").c_str(), R_OK) == 0;
    check.Line(readable, "in-place data", dir.ok() ? *dir : dir.status().message(),
               "mount the shared filesystem and point inplace.dir at cifar-10-batches-py");
  }
  if (cfg.scenario == "streamed") {
    auto meta = StatUri(cfg.dataset_uri + "/batches.meta", o);
    check.Line(meta.ok(), "streamed data", meta.ok() ? cfg.dataset_uri : meta.status().message(),
               "point streamed.dataset_uri at the cifar-10-batches-py folder in S3 (and check the credentials)");
  }
  if (!cfg.upload_dest.empty() && cfg.StageEnabled(pipeline::StageId::kUpload) && cfg.scenario != "streamed") {
    std::string bucket = storage::S3BucketOf(cfg.upload_dest);
    auto store = storage::Open("s3://" + bucket, o);
    Status s = store.ok() ? (*store)->List("tierbench-doctor-probe/").status() : store.status();
    std::string detail = "bucket " + bucket + " listable with the configured credentials";
    if (!s.ok() && s.IsNotFound() && cfg.upload_create_bucket) {  // the upload stage will create it
      auto exists = storage::EnsureBucket(bucket, o, /*create=*/false);
      if (!exists.ok() && exists.status().IsNotFound()) {
        s = Status::Ok();
        detail = "bucket " + bucket + " does not exist; the upload stage will create it (upload.create_bucket = true)";
      }
    }
    check.Line(s.ok(), "s3", s.ok() ? detail : s.message(),
               "check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the profile, the endpoint and that the bucket exists "
               "(or set upload.create_bucket = true)");
  }
  {
    Status s = MakeDirs(cfg.scratch);
    if (s.ok()) s = WriteFileAtomic(cfg.scratch + "/.tierbench-doctor", "ok");
    if (s.ok()) std::filesystem::remove(cfg.scratch + "/.tierbench-doctor");
    check.Line(s.ok(), "scratch writable", s.ok() ? cfg.scratch : s.message(), "choose a writable scratch directory");
    auto free_bytes = FreeBytes(cfg.scratch);
    // tarball + extracted files + training input fetched from S3: about 3x the tarball.
    uint64_t need = dataset_bytes * 3;
    bool room = free_bytes.ok() && *free_bytes >= need;
    check.Line(room, "scratch space",
               free_bytes.ok() ? HumanBytes(static_cast<double>(*free_bytes)) + " free, about " +
                                     HumanBytes(static_cast<double>(need)) + " needed"
                               : free_bytes.status().message(),
               "free space on the scratch filesystem or pick another scratch");
  }
  if (cfg.StageEnabled(pipeline::StageId::kTrain)) {
    auto device = train::ProbeDevice(cfg.device);
    check.Line(device.ok(), "training device", device.ok() ? *device : device.status().message(),
               "install libtorch (scripts/install-deps.sh) or choose --device cpu");
  }
  check.Finish();
  return check.failures ? 1 : 0;
}

}  // namespace tb::cli
