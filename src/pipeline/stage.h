// A pipeline stage and the context stages share. The runner (runner.h) owns timing, logging,
// skip and failure handling — the template-method shape: stages only do their work.
//
// Stages keep no globals: everything flows through Context, so that data stages can later
// shard by rank and several pipelines can run in one process.
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dataset/archive.h"
#include "dataset/cifar.h"
#include "dataset/manifest.h"
#include "launch/cluster.h"
#include "pipeline/config.h"
#include "report/results.h"
#include "storage/storage.h"
#include "train/source.h"
#include "util/progress.h"
#include "util/status.h"

namespace tb::pipeline {

// The label names file of a CIFAR-10 dataset folder (meta reads it).
inline constexpr const char* kMetaFile = "batches.meta";

struct Context {
  const JobConfig& cfg;
  storage::Options storage_options;
  ProgressMode progress = ProgressMode::kAuto;
  // When set (by the runner), stages' Progress counters hand their samples here instead of
  // drawing a line themselves: pass it as Progress's listener.
  ProgressListener progress_listener;
  std::function<void(const std::string&)> log;  // one line to the log file (and stderr if verbose)
  std::function<void(const std::string&)> warn;  // a warning: the log file and always stderr
  // Opens the origin as one stream for the streamed pass; empty: storage::OpenStream. Unit
  // tests put the fault-injecting wrappers (storage/wrappers.h) here.
  std::function<Result<std::unique_ptr<storage::Reader>>(const std::string& uri, const storage::Options&)> open_stream;
  // The ranks of the run (train is data parallel across them; data stages split their files by
  // it, pipeline/shard.h); null: one rank.
  launch::Cluster* cluster = nullptr;

  // Produced by stages, consumed by later ones.
  std::string tarball_path;     // download: the local copy of the origin
  std::string data_root;        // the folder the manifest's paths are relative to
  std::string dataset_dir;      // the cifar-10-batches-py folder
  std::string dataset_uri;      // streamed: the cifar-10-batches-py folder in S3 (no dataset_dir)
  std::string train_input_dir;  // train: where training reads from
  std::vector<std::string> label_names;  // meta
  // verify: the files of dataset_dir the manifest lists (names relative to it). Once set, the
  // data stages after verify (pickled, meta, preview, train) read only these, so what is
  // trained is what was verified. Unset when verify is switched off.
  std::optional<std::vector<std::string>> verified_files;
  // verify: the manifest's files this rank hashed (its share; all of them for a single rank).
  std::vector<std::string> hashed_files;
  // verify, streamed scenario: the bytes of the batch files (and of kMetaFile) it read from the
  // tier and whose md5 matched the manifest, by name in the dataset folder, at most
  // verify.keep_bytes in all. Pickled decodes the batch files instead of reading them again,
  // meta the label names; each frees what it used.
  std::map<std::string, std::string> verified_bytes;
  // pickled, streamed scenario: the test split it decoded (pixels too), kept for preview when
  // preview is to run; preview renders from it and frees it.
  std::optional<dataset::Split> test_split;
  std::string no_dataset_reason = "no dataset folder (stage extract is off or did not run)";

  explicit Context(const JobConfig& c) : cfg(c) {}
  // OK when dataset_dir is known, else NotFound with the reason.
  Status NeedDataset() const {
    return dataset_dir.empty() && dataset_uri.empty() ? Status::NotFound(no_dataset_reason) : Status::Ok();
  }
  bool cancelled() const { return storage_options.cancel && storage_options.cancel->load(); }
  // The list the dataset loaders take (dataset/cifar.h): nullptr = every file in the folder.
  const std::vector<std::string>* listed_files() const { return verified_files ? &*verified_files : nullptr; }
};

// Files in the dataset folder that the manifest does not list.
struct UnlistedFiles {
  uint64_t count = 0;
  std::vector<std::string> first;  // the first few names (relative to the data root), for details
};

// Called by verify (sequential or streaming) once the manifest's entries matched: sets
// ctx.verified_files from `entries` and looks for files in ctx.dataset_dir the manifest does
// not list. Those are never read by later stages; they are reported with a warning naming
// them, or, under verify.unlisted = "fail", the returned error names them.
Status ApplyManifest(Context& ctx, const std::vector<dataset::ManifestEntry>& entries, UnlistedFiles* unlisted);

class StreamPart;

class Stage {
 public:
  virtual ~Stage() = default;
  // Does the work; fills bytes, files and detail_json of `result`. Errors name the object.
  virtual Status Run(Context& ctx, report::StageResult& result) = 0;
  // The stage's part in the streamed pass (stream.h); nullptr when it cannot take part.
  virtual std::unique_ptr<StreamPart> NewStreamPart();
};

std::unique_ptr<Stage> NewDownloadStage();
std::unique_ptr<Stage> NewIntegrityStage();
std::unique_ptr<Stage> NewExtractStage();
std::unique_ptr<Stage> NewVerifyStage();
std::unique_ptr<Stage> NewPickledStage();
std::unique_ptr<Stage> NewMetaStage();
std::unique_ptr<Stage> NewUploadStage();
std::unique_ptr<Stage> NewPreviewStage();
std::unique_ptr<Stage> NewTrainStage();

// The stage table: one row per stage in pipeline order (report::kAllStages), with the
// scenarios it belongs to and its factory. Names and order are in report/stage_id.h.
struct StageSpec {
  StageId id;
  bool (*applies)(const JobConfig&);  // false: not part of this job's scenario
  std::unique_ptr<Stage> (*make)();
};
const std::array<StageSpec, report::kStageCount>& StageTable();
inline const StageSpec& SpecOf(StageId id) { return StageTable()[static_cast<size_t>(id)]; }

// The streamed scenario: the dataset at ctx.dataset_uri read through a training source in
// fastfile mode (train/object_source.h: no cache, read ahead), only the files verify listed.
Result<std::unique_ptr<train::TrainSource>> OpenDatasetSource(const Context& ctx);

// s3://bucket/prefix/cifar-10-batches-py: where upload puts the dataset and train fetches it.
std::string UploadUri(const Context& ctx);

// The storage options for fetching the origin tarball into scratch: the body is capped by
// limits.max_download_bytes and by the scratch's free space less limits.min_free_bytes.
storage::Options OriginDownloadOptions(const Context& ctx);

// The extraction limits of the job (limits.max_expansion_ratio, limits.min_free_bytes).
void SetExtractLimits(const JobConfig& cfg, dataset::ExtractOptions* options);

// Reads a small object (an .md5 file, a manifest) from a path or URL into memory.
Result<std::string> ReadSmallObject(const std::string& uri, const storage::Options& options);

// The expected md5 of the origin tarball, lower case: origin.md5 when set, else the first word
// of the origin.md5_file object. Errors: InvalidArgument for an origin.md5 that is not 32 hex
// digits, Corruption for a file that does not start with one, the read error prefixed
// "expected md5 from <file>".
Result<std::string> ExpectedMd5(const Context& ctx);

}  // namespace tb::pipeline
