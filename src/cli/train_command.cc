// tierbench train: the training stage alone, honouring the SageMaker training-container
// contract (see launch/sagemaker.h). Precedence: flags > hyperparameters > defaults.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cli/cluster_join.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "dataset/cifar.h"
#include "launch/data_parallel.h"
#include "launch/sagemaker.h"
#include "train/input_json.h"
#include "train/limits.h"
#include "train/train.h"
#include "util/json.h"
#include "util/path_guard.h"
#include "util/path_lock.h"
#include "util/progress.h"
#include "util/signals.h"
#include "util/terminal_text.h"
#include "util/units.h"

namespace tb::cli {
namespace {

const std::vector<FlagSpec> kSpecs = {
    {"data", "dataset folder (cifar-10-batches-py or its parent); default: the SageMaker training channel", false,
     "DIR"},
    {"epochs", "epochs (default 2)", false, "N"},
    {"batch-size", "mini-batch size (default 4)", false, "N"},
    {"lr", "SGD learning rate (default 0.001)", false, "X"},
    {"momentum", "SGD momentum (default 0.9)", false, "X"},
    {"workers", "loader threads assembling batches ahead (default 2)", false, "N"},
    {"threads", "intra-op threads (default: libtorch's)", false, "N"},
    {"seed", "seed for initialisation and shuffling (default 0)", false, "N"},
    {"device", "auto | cpu | cuda | cuda:N (default auto)", false, "DEV"},
    {"model-dir", "write model.pth here (default: SM_MODEL_DIR or <prefix>/model in SageMaker)", false, "DIR"},
    {"resume", "start from this model.pth (ours or Python's torch.save(state_dict))", false, "FILE"},
    {"log-every", "print the running loss every N mini-batches (default 2000, 0 = never)", false, "N"},
    {"max-steps", "stop after N steps in total (default: no limit)", false, "N"},
    {"engine", "fast (hand-written backward) | autograd (plain libtorch loop)", false, "NAME"},
    {"input-mode",
     "training input: file (the local folder, default) | fastfile (each file read through its "
     "storage tier on demand: --data may be s3://, http(s)://) | pipe (one sequential pass an epoch)",
     false, "MODE"},
    {"shuffle",
     "samples (one shuffle of every image; file mode's default) | files (seeded file order, then the "
     "images of each file: fastfile and pipe, and file mode when asked; same weights in every mode)",
     false, "HOW"},
    {"cache-bytes", "fastfile: LRU cache of file bytes, e.g. 256MiB (default 0 = none)", false, "SIZE"},
    {"read-ahead", "file and fastfile with a source: files read ahead of the step (default 4, 1..64)", false, "N"},
    {"endpoint-url", "S3 endpoint of an s3:// --data (default: AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL)", false, "URL"},
    {"eval-batch-size", "batch size of the test pass (default 4, as in the tutorial)", false, "N"},
    {"evaluate", "run the test set after training (default on; --no-evaluate skips it)", true},
    {"sm-prefix", "SageMaker prefix (default $TB_SM_PREFIX or /opt/ml)", false, "DIR"},
    {"progress", "live progress on stderr (default: when stderr is a terminal)", true},
    {"json", "print the summary as JSON on stdout (the training log goes to stderr)", true},
};

Status ApplyFlags(const Flags& f, train::TrainOptions* o) {
  auto int_flag = [&](const char* name, auto* field) -> Status {
    if (!f.Has(name)) return Status::Ok();
    TB_ASSIGN_OR_RETURN(int64_t v, f.GetInt(name, 0));
    TB_RETURN_IF_ERROR(train::CheckOptionRange(name, static_cast<double>(v)).Prefix(std::string("option --") + name));
    *field = static_cast<std::remove_pointer_t<decltype(field)>>(v);
    return Status::Ok();
  };
  auto double_flag = [&](const char* name, double* field) -> Status {
    if (!f.Has(name)) return Status::Ok();
    TB_ASSIGN_OR_RETURN(*field, f.GetDouble(name, 0));
    TB_RETURN_IF_ERROR(train::CheckOptionRange(name, *field).Prefix(std::string("option --") + name));
    return Status::Ok();
  };
  if (f.Has("data")) o->data_dir = f.Get("data");
  TB_RETURN_IF_ERROR(int_flag("epochs", &o->epochs));
  TB_RETURN_IF_ERROR(int_flag("batch-size", &o->batch_size));
  TB_RETURN_IF_ERROR(double_flag("lr", &o->lr));
  TB_RETURN_IF_ERROR(double_flag("momentum", &o->momentum));
  TB_RETURN_IF_ERROR(int_flag("workers", &o->workers));
  TB_RETURN_IF_ERROR(int_flag("threads", &o->threads));
  TB_RETURN_IF_ERROR(int_flag("seed", &o->seed));
  if (f.Has("device")) o->device = f.Get("device");
  if (f.Has("model-dir")) o->model_dir = f.Get("model-dir");
  if (f.Has("resume")) o->resume = f.Get("resume");
  TB_RETURN_IF_ERROR(int_flag("log-every", &o->log_every));
  TB_RETURN_IF_ERROR(int_flag("max-steps", &o->max_steps));
  if (f.Has("engine")) o->engine = f.Get("engine");
  TB_RETURN_IF_ERROR(int_flag("eval-batch-size", &o->eval_batch_size));
  if (f.Has("input-mode")) o->input_mode = f.Get("input-mode");
  if (f.Has("shuffle")) o->shuffle = f.Get("shuffle");
  if (f.Has("cache-bytes")) {
    Result<uint64_t> bytes = ParseBytes(f.Get("cache-bytes"));
    if (!bytes.ok()) return bytes.status().Prefix("option --cache-bytes");
    o->cache_bytes = *bytes;
  }
  TB_RETURN_IF_ERROR(int_flag("read-ahead", &o->read_ahead));
  if (f.Has("endpoint-url")) o->storage.endpoint_url = f.Get("endpoint-url");
  o->evaluate = f.GetBool("evaluate", true);
  return Status::Ok();
}

// "train  epoch 1/2  step 3400/12500  loss 1.234  4936 samples/s  AU 0.97  ETA 0:08" redrawn
// in place (the run's live line for train, util/progress.h).
class ProgressLine {
 public:
  ProgressLine(bool enabled, int64_t max_steps) : enabled_(enabled), max_steps_(max_steps) {}
  void Show(const train::TrainProgress& p) {
    if (!enabled_) return;
    std::fprintf(stderr, "\r\033[K%s", FormatProgressLine(train::TrainSample(p, 0, max_steps_)).c_str());
    shown_ = true;
  }
  void Clear() {
    if (shown_) std::fputs("\r\033[K", stderr);
    shown_ = false;
  }

 private:
  bool enabled_;
  int64_t max_steps_;
  bool shown_ = false;
};

nlohmann::json SummaryJson(const train::TrainSummary& s) {
  nlohmann::json classes = nlohmann::json::object();
  for (size_t c = 0; c < s.class_names.size() && c < s.class_accuracy.size(); ++c) {
    classes[s.class_names[c]] = s.class_accuracy[c];
  }
  nlohmann::json j = {{"device", s.device},
                      {"engine", s.engine},
                      {"threads", s.threads},
                      {"epochs", s.epochs},
                      {"steps", s.steps},
                      {"train_images", s.train_images},
                      {"test_images", s.test_images},
                      {"final_loss", s.final_loss},
                      {"test_accuracy", s.test_accuracy},
                      {"class_accuracy", classes},
                      {"steps_per_second", s.steps_per_second},
                      {"epoch_seconds", s.epoch_seconds},
                      {"train_seconds", s.train_seconds},
                      {"load_seconds", s.load_seconds},
                      {"test_seconds", s.test_seconds},
                      {"seconds", s.seconds},
                      {"first_batch_seconds", s.first_batch_seconds},
                      {"data_wait_seconds", s.data_wait_seconds},
                      {"compute_seconds", s.compute_seconds},
                      {"compute_clock", s.compute_clock},
                      {"au", s.au >= 0 ? nlohmann::json(s.au) : nlohmann::json()},
                      {"epoch_au", s.epoch_au},
                      {"samples_per_second", s.samples_per_second},
                      {"model_path", s.model_path},
                      {"rank", s.rank},
                      {"world_size", s.world_size},
                      {"batch_size", s.batch_size},
                      {"global_batch_size", s.global_batch_size},
                      {"rank_images", s.rank_images},
                      {"weights_md5", s.weights_md5}};
  train::AddInputJson(s, &j);
  return j;
}

void PrintSummary(FILE* out, const train::TrainSummary& s, bool evaluated) {
  if (evaluated && s.test_images > 0) {
    std::fprintf(out, "Accuracy of the network on the %lld test images: %.2f %%\n",
                 static_cast<long long>(s.test_images), 100 * s.test_accuracy);
    for (size_t c = 0; c < s.class_names.size() && c < s.class_accuracy.size(); ++c) {
      std::fprintf(out, "Accuracy for class: %-5s is %.1f %%\n", TerminalSafe(s.class_names[c]).c_str(),
                   100 * s.class_accuracy[c]);
    }
  }
  std::fprintf(out, "%lld steps in %.2f s: %.1f steps/s on %s (%d thread%s, engine %s)\n",
               static_cast<long long>(s.steps), s.train_seconds, s.steps_per_second,
               s.device.c_str(), s.threads, s.threads == 1 ? "" : "s", s.engine.c_str());
  if (s.world_size > 1) {
    std::fprintf(out, "rank %d of %d: %lld of %lld images an epoch, batch %d, global batch %lld\n", s.rank,
                 s.world_size, static_cast<long long>(s.rank_images), static_cast<long long>(s.train_images),
                 s.batch_size, static_cast<long long>(s.global_batch_size));
  }
  for (size_t e = 0; e < s.epoch_seconds.size(); ++e) {
    std::fprintf(out, "epoch %zu: %.2f s", e + 1, s.epoch_seconds[e]);
    if (e < s.epoch_au.size() && s.epoch_au[e] >= 0) std::fprintf(out, ", AU %.2f", s.epoch_au[e]);
    if (e < s.epoch_input.size()) {
      const train::SourceStats& in = s.epoch_input[e];
      std::fprintf(out, ", %s read %llu bytes in %llu GETs, %llu cache hits", s.input_mode.c_str(),
                   static_cast<unsigned long long>(in.bytes), static_cast<unsigned long long>(in.gets),
                   static_cast<unsigned long long>(in.cache_hits));
      if (in.resumed > 0) std::fprintf(out, ", %llu reads resumed", static_cast<unsigned long long>(in.resumed));
    }
    std::fputc('\n', out);
  }
  if (s.au >= 0)
    std::fprintf(out, "AU %.2f: compute %.2f s, waiting for data %.2f s (first step of each epoch left out); first batch after %.2f s; %.0f samples/s\n",
                 s.au, s.compute_seconds, s.data_wait_seconds, s.first_batch_seconds, s.samples_per_second);
  if (!s.model_path.empty()) std::fprintf(out, "model: %s\n", s.model_path.c_str());
}

// Outputs never overwrite inputs: the failure file, the model folder and model.pth against
// the dataset, --resume and the hyperparameters file. Each output is checked in that order, so
// a refusal of a later one may still be written to the failure file (`failure_ok`).
Status CheckTrainPaths(const launch::SageMakerContext& sm, const train::TrainOptions& o, bool* failure_ok) {
  PathGuard guard;
  if (o.data_dir.find("://") == std::string::npos) {  // a storage URI (fastfile, pipe) is no local folder
    auto found = dataset::FindDatasetDir(o.data_dir);
    guard.AddInputDir("the dataset folder (--data)", found.ok() ? *found : o.data_dir);
  }
  guard.AddInputFile("--resume", o.resume);
  if (sm.hyperparameters_source != "SM_HPS") guard.AddInputFile("the hyperparameters file", sm.hyperparameters_source);
  *failure_ok = false;
  if (!sm.failure_path.empty()) TB_RETURN_IF_ERROR(guard.AddOutputFile("the failure file", sm.failure_path));
  *failure_ok = true;
  if (o.model_dir.empty()) return Status::Ok();
  TB_RETURN_IF_ERROR(guard.AddOutputDir("--model-dir", o.model_dir));
  return guard.AddOutputFile("--model-dir (model.pth)", o.model_dir + "/model.pth");
}

}  // namespace

int TrainCommand(const Args& args, launch::Cluster* cluster) {
  Flags flags("tierbench train [--data DIR] [options]\n\n"
              "Trains the PyTorch CIFAR-10 tutorial CNN with libtorch and reports the test accuracy.\n"
              "Honours the SageMaker training-container contract: hyperparameters from\n"
              "<prefix>/input/config/hyperparameters.json or SM_HPS, data from SM_CHANNEL_TRAINING or\n"
              "<prefix>/input/data/training, model.pth to SM_MODEL_DIR or <prefix>/model, and on error\n"
              "the reason in <prefix>/output/failure. Flags override hyperparameters.",
              kSpecs);
  Status st = flags.Parse(args);
  if (!st.ok()) return ReportError("train", st);
  if (flags.help_requested()) {
    std::fputs(flags.HelpText().c_str(), stdout);
    return 0;
  }
  Result<launch::SageMakerContext> sm = launch::LoadSageMakerContext(flags.Get("sm-prefix"), launch::ProcessEnv());
  if (!sm.ok()) return ReportError("train", sm.status());
  auto fail = [&](const Status& status) {
    Status w = launch::WriteFailure(*sm, "tierbench train: " + status.message());
    if (!w.ok()) std::fprintf(stderr, "tierbench train: writing the failure file: %s\n", w.message().c_str());
    return ReportError("train", status);
  };

  train::TrainOptions options;
  options.data_dir = sm->training_dir;
  options.model_dir = sm->model_dir;
  std::vector<std::string> ignored;
  st = launch::ApplyHyperparameters(sm->hyperparameters, &options, &ignored);
  if (!st.ok()) return fail(st.Prefix(sm->hyperparameters_source));
  for (const std::string& name : ignored) {
    std::fprintf(stderr, "tierbench train: ignoring unknown hyperparameter '%s'\n", name.c_str());
  }
  st = ApplyFlags(flags, &options);
  if (!st.ok()) return fail(st);
  if (options.data_dir.empty()) {
    return fail(Status::InvalidArgument(
        "no dataset: give --data DIR, or set SM_CHANNEL_TRAINING, or provide " + sm->prefix +
        "/input/data/training"));
  }

  // Under a launcher (mpirun, srun, torchrun-style variables, SageMaker with several hosts) the
  // ranks train data parallel: one cluster for the whole command.
  std::unique_ptr<launch::Cluster> joined;
  if (!cluster) {
    launch::WorldOverrides overrides;
    overrides.sm_prefix = flags.Get("sm-prefix");
    auto world = launch::DetectWorld(launch::ProcessEnv(), overrides);
    if (!world.ok()) return fail(world.status());
    if (!world->single()) {
      auto c = JoinCluster("train", *world);
      if (!c.ok()) return fail(c.status());
      joined = std::move(*c);
      cluster = joined.get();
    }
  }
  launch::TrainOnCluster(cluster, &options);

  bool failure_ok = false;
  if (Status s = CheckTrainPaths(*sm, options, &failure_ok); !s.ok())
    return failure_ok ? fail(s) : ReportError("train", s);
  // Another process writing the same model folder is refused (exit 2); held until return.
  // Only rank 0 writes the model: the other ranks of the run neither lock nor write it.
  std::optional<PathLock> model_lock;
  if (!options.model_dir.empty() && options.rank == 0) {
    auto lock = PathLock::LockDir("model folder", options.model_dir);
    if (!lock.ok()) return lock.status().IsInvalidArgument() ? ReportError("train", lock.status()) : fail(lock.status());
    model_lock.emplace(std::move(lock).value());
  }

  bool json = flags.GetBool("json", false);
  FILE* log_out = json ? stderr : stdout;
  ProgressMode mode = flags.Has("progress") ? (flags.GetBool("progress", false) ? ProgressMode::kOn
                                                                                 : ProgressMode::kOff)
                                            : ProgressMode::kAuto;
  ProgressLine progress(ProgressEnabled(mode), options.max_steps);
  options.log = [&](const std::string& line) {
    progress.Clear();
    std::fprintf(log_out, "%s\n", TerminalSafe(line).c_str());
    std::fflush(log_out);
  };
  options.progress = [&](const train::TrainProgress& p) { progress.Show(p); };
  // SIGINT/SIGTERM stop training between steps; the exit status is 128 + the signal.
  options.cancel = InstallCancelHandlers();
  options.storage.cancel = options.cancel;

  Result<train::TrainSummary> summary = train::Train(options);
  progress.Clear();
  if (summary.ok() && options.cancel->load()) summary = Status::Cancelled("train: interrupted");
  if (!summary.ok()) return fail(summary.status());
  PrintSummary(log_out, *summary, options.evaluate);
  if (json) std::printf("%s\n", JsonText(SummaryJson(*summary)).c_str());
  return 0;
}

}  // namespace tb::cli
