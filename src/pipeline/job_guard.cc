#include "pipeline/job_guard.h"

#include <filesystem>

#include "dataset/cifar.h"
#include "storage/storage.h"
#include "util/fs.h"
#include "util/path_guard.h"

namespace tb::pipeline {
namespace {

std::string Key(const std::string& key) { return "key '" + key + "'"; }

// The staged scenario's copy of the tarball: <scratch>/<the origin's file name>.
std::string TarballCopy(const JobConfig& cfg) {
  auto ref = storage::SplitObjectUri(cfg.origin_url);
  if (!ref.ok()) return "";
  std::string name = ref->key.substr(ref->key.rfind('/') + 1);
  return name.empty() ? "" : cfg.scratch + "/" + name;
}

// The upload stage writes under <upload.dest>/cifar-10-batches-py/: an s3:// input there would
// be overwritten by the upload.
Status CheckUploadTarget(const JobConfig& cfg) {
  if (cfg.scenario != "staged" || cfg.upload_dest.empty() || !cfg.StageEnabled(StageId::kUpload)) return Status::Ok();
  std::string dest = cfg.upload_dest;
  while (!dest.empty() && dest.back() == '/') dest.pop_back();
  dest += "/cifar-10-batches-py/";
  const std::pair<const char*, const std::string*> inputs[] = {
      {"origin.url", &cfg.origin_url}, {"origin.md5_file", &cfg.origin_md5_file}, {"origin.manifest", &cfg.manifest}};
  for (const auto& [key, uri] : inputs) {
    if (uri->rfind(dest, 0) == 0)
      return Status::InvalidArgument(Key("upload.dest") + " '" + cfg.upload_dest + "' would upload over " + Key(key) +
                                     " '" + *uri + "': an output must never overwrite an input");
  }
  return Status::Ok();
}

}  // namespace

Status CheckJobPaths(const JobConfig& cfg, const std::string& job_file, const std::string& live_json) {
  PathGuard guard;
  guard.AddInputFile("the job file (--config)", job_file);
  guard.AddInputFile(Key("origin.url") + " (the origin tarball)", LocalPathOf(cfg.origin_url));
  guard.AddInputFile(Key("origin.md5_file"), LocalPathOf(cfg.origin_md5_file));
  guard.AddInputFile(Key("origin.manifest"), LocalPathOf(cfg.manifest));
  if (cfg.scenario == "inplace") {
    std::string dir = LocalPathOf(cfg.inplace_dir);
    auto found = dataset::FindDatasetDir(dir);
    guard.AddInputDir("the dataset folder of " + Key("inplace.dir"), found.ok() ? *found : dir);
  }

  // Folders first, so that files inside a replaced folder are caught whichever comes first.
  TB_RETURN_IF_ERROR(guard.AddOutputDir(Key("scratch"), cfg.scratch));
  bool staged = cfg.scenario == "staged";
  if (staged && cfg.StageEnabled(StageId::kExtract))
    TB_RETURN_IF_ERROR(guard.AddOutputDir(Key("scratch") + " (its extract folder)", cfg.scratch + "/extract", true));
  bool train = cfg.StageEnabled(StageId::kTrain);
  if (staged && train && cfg.StageEnabled(StageId::kUpload) && !cfg.upload_dest.empty())
    TB_RETURN_IF_ERROR(
        guard.AddOutputDir(Key("scratch") + " (its train-input folder)", cfg.scratch + "/train-input", true));
  if (train) TB_RETURN_IF_ERROR(guard.AddOutputDir(Key("train.model_dir"), cfg.model_dir));

  TB_RETURN_IF_ERROR(guard.AddOutputFile(Key("scratch") + " (its lock file)",
                                         cfg.scratch + "/" + PathLock::kDirLockName));
  if (staged && cfg.StageEnabled(StageId::kDownload)) {
    std::string copy = TarballCopy(cfg);
    if (!copy.empty()) TB_RETURN_IF_ERROR(guard.AddOutputFile(Key("scratch") + " (the tarball's copy)", copy));
  }
  if (train) TB_RETURN_IF_ERROR(guard.AddOutputFile(Key("train.model_dir") + " (model.pth)", cfg.model_dir + "/model.pth"));
  TB_RETURN_IF_ERROR(guard.AddOutputFile(Key("out"), cfg.out));
  TB_RETURN_IF_ERROR(guard.AddOutputFile(Key("out") + " (its lock file)", cfg.out + ".lock"));
  TB_RETURN_IF_ERROR(guard.AddOutputFile(Key("log"), cfg.log));
  if (!live_json.empty()) TB_RETURN_IF_ERROR(guard.AddOutputFile("--live-json", live_json));
  if (cfg.StageEnabled(StageId::kPreview)) TB_RETURN_IF_ERROR(guard.AddOutputFile(Key("preview.out"), cfg.preview_out));
  return CheckUploadTarget(cfg);
}

Result<std::vector<PathLock>> LockJob(const JobConfig& cfg, std::vector<std::string>* unlocked) {
  std::vector<PathLock> locks;
  auto take = [&](Result<PathLock> lock) -> Status {
    if (lock.ok()) locks.push_back(std::move(lock).value());
    else if (lock.status().IsInvalidArgument()) return lock.status();
    else unlocked->push_back(lock.status().message());
    return Status::Ok();
  };
  TB_RETURN_IF_ERROR(take(PathLock::LockDir("scratch", cfg.scratch)));
  if (cfg.StageEnabled(StageId::kTrain)) {
    std::error_code ec1, ec2;
    bool same = std::filesystem::weakly_canonical(cfg.model_dir, ec1) ==
                std::filesystem::weakly_canonical(cfg.scratch, ec2);
    if (!same) TB_RETURN_IF_ERROR(take(PathLock::LockDir("model folder", cfg.model_dir)));
  }
  std::string out_dir = std::filesystem::path(cfg.out).parent_path().string();
  Status made = out_dir.empty() ? Status::Ok() : MakeDirs(out_dir);
  TB_RETURN_IF_ERROR(take(made.ok() ? PathLock::LockFile("results file", cfg.out) : Result<PathLock>(made)));
  return locks;
}

}  // namespace tb::pipeline
