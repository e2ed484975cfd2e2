#include "train/train.h"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>

#include "dataset/cifar.h"
#include "train/object_source.h"
#include "train/plugin_abi.h"
#include "util/clock.h"

namespace tb::train {
namespace {

std::string PluginPath() {
  if (const char* env = std::getenv("TB_TORCH_PLUGIN"); env && *env) return env;
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  std::string exe = n > 0 ? std::string(buf, n) : "";
  size_t slash = exe.rfind('/');
  std::string dir = slash == std::string::npos ? "." : exe.substr(0, slash);
  return dir + "/" + kTorchPluginName;
}

struct Plugin {
  void* handle = nullptr;
  Status status;
};

const Plugin& LoadPlugin() {
  static Plugin plugin;
  static std::once_flag once;
  std::call_once(once, [] {
    std::string path = PluginPath();
    if (access(path.c_str(), F_OK) != 0) {
      plugin.status = Status::Unsupported(
          "tierbench was built without libtorch: the training plugin " + path +
          " is missing (rebuild with -DTB_WITH_TORCH=ON, or point TB_TORCH_PLUGIN at it)");
      return;
    }
    plugin.handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!plugin.handle) {
      const char* err = dlerror();
      plugin.status = Status::Unsupported("loading the training plugin " + path + ": " +
                                          (err ? err : "dlopen failed"));
      return;
    }
    auto abi = reinterpret_cast<TbTorchAbiFn>(dlsym(plugin.handle, "tb_torch_abi"));
    if (!abi || abi() != TB_TORCH_PLUGIN_ABI) {
      plugin.status = Status::Unsupported("the training plugin " + path +
                                          " was built from another version of tierbench");
      plugin.handle = nullptr;
    }
  });
  return plugin;
}

}  // namespace

Result<void*> TorchPluginSymbol(const std::string& symbol) {
  const Plugin& plugin = LoadPlugin();
  if (!plugin.status.ok()) return plugin.status;
  void* fn = dlsym(plugin.handle, symbol.c_str());
  if (!fn) return Status::Unsupported("the training plugin lacks " + symbol);
  return fn;
}

Result<TrainSummary> Train(const TrainOptions& options) {
  TB_ASSIGN_OR_RETURN(void* sym, TorchPluginSymbol("tb_torch_train"));
  TrainOptions o = options;
  TB_RETURN_IF_ERROR(ResolveInputMode(&o));
  std::unique_ptr<TrainSource> source;
  const double start = NowSeconds();
  if (!o.source && (o.input_mode != "file" || o.shuffle == "files")) {
    SourceOptions so;
    so.mode = o.input_mode;
    so.cache_bytes = o.cache_bytes;
    so.read_ahead = so.threads = o.read_ahead;
    so.max_retries = o.storage.max_retries;
    so.cancel = o.cancel;
    if (o.files) {
      so.listed = *o.files;
      so.use_listed = true;
    }
    std::string where = o.data_dir;
    if (o.input_mode == "file") {
      TB_ASSIGN_OR_RETURN(where, dataset::FindDatasetDir(o.data_dir));
    }
    TB_ASSIGN_OR_RETURN(source, OpenTrainSource(where, so, o.storage));
    o.source = source.get();
  }
  TrainSummary summary;
  Status status;
  // Opening the source (listing the dataset) is part of the wait for the first batch.
  const double opening = NowSeconds() - start;
  reinterpret_cast<TbTorchTrainFn>(sym)(&o, &summary, &status);
  if (!status.ok()) return status;
  if (summary.first_batch_seconds > 0) summary.first_batch_seconds += opening;
  summary.load_seconds += opening;
  summary.seconds += opening;
  return summary;
}

Status ResolveInputMode(TrainOptions* o) {
  const std::string& m = o->input_mode;
  if (m != "file" && m != "fastfile" && m != "pipe") {
    return Status::InvalidArgument("train: input mode '" + m + "': expected file, fastfile or pipe");
  }
  if (o->shuffle.empty()) o->shuffle = m == "file" ? "samples" : "files";
  if (o->shuffle != "samples" && o->shuffle != "files") {
    return Status::InvalidArgument("train: shuffle '" + o->shuffle + "': expected samples or files");
  }
  if (m != "file" && o->shuffle == "samples") {
    return Status::InvalidArgument("train: shuffle 'samples' needs every image in memory first (input mode file); " +
                                   m + " reads the files in turn: use shuffle 'files'");
  }
  if (m == "file" && o->data_dir.find("://") != std::string::npos && o->data_dir.rfind("file://", 0) != 0) {
    return Status::InvalidArgument("train: input mode file reads a local folder, not " + o->data_dir +
                                   " (fetch it first, or use input mode fastfile or pipe)");
  }
  return Status::Ok();
}

ProgressSample TrainSample(const TrainProgress& p, double elapsed_s, int64_t max_steps) {
  ProgressSample s;
  s.label = "train";
  s.train = true;
  s.elapsed_s = elapsed_s;
  s.epoch = p.epoch;
  s.epochs = p.epochs;
  s.step = p.step;
  s.steps_per_epoch = p.steps_per_epoch;
  s.loss = p.loss;
  s.samples_per_s = p.samples_per_second;
  s.au = p.au;
  int64_t done = static_cast<int64_t>(p.epoch - 1) * p.steps_per_epoch + p.step;
  int64_t left = static_cast<int64_t>(p.epochs) * p.steps_per_epoch - done;
  if (max_steps > 0) left = std::min(left, max_steps - done);
  if (p.steps_per_second > 0) s.eta_s = static_cast<double>(std::max<int64_t>(left, 0)) / p.steps_per_second;
  return s;
}

Result<double> CheckGradients(uint64_t seed) {
  TB_ASSIGN_OR_RETURN(void* sym, TorchPluginSymbol("tb_torch_check_gradients"));
  double diff = 0;
  Status status;
  reinterpret_cast<TbTorchCheckGradientsFn>(sym)(seed, &diff, &status);
  if (!status.ok()) return status;
  return diff;
}

}  // namespace tb::train
