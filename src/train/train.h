// Training the PyTorch CIFAR-10 tutorial CNN with libtorch. This header has no libtorch in it:
// the implementation lives in a plugin library (libtierbench_torch.so) that Train() loads on
// first use, so verbs that do not train never pay libtorch's start-up cost.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "storage/storage.h"
#include "train/source.h"
#include "util/progress.h"
#include "util/status.h"

namespace tb::train {

// Live progress, reported every few hundred steps and at the end of each epoch.
struct TrainProgress {
  int epoch = 0;                 // 1-based
  int epochs = 0;
  int64_t step = 0;              // within the epoch, 1-based
  int64_t steps_per_epoch = 0;
  double loss = 0;               // running mean since the last report
  double steps_per_second = 0;   // this epoch so far
  double samples_per_second = 0;  // this epoch so far
  double au = -1;                 // this epoch so far (see TrainSummary); < 0 not known yet
};

// `p` as a live-view sample labelled "train": `elapsed_s` since training started, the ETA
// from the steps left (all epochs, or max_steps when smaller; 0 = no limit).
ProgressSample TrainSample(const TrainProgress& p, double elapsed_s, int64_t max_steps);

struct TrainOptions {
  std::string data_dir;  // a cifar-10-batches-py folder (or its parent); fastfile/pipe: a URI
  // Training input mode (train/source.h): "file" (the local folder), "fastfile" (each file
  // read through its storage tier on demand, `read_ahead` files ahead, `cache_bytes` of LRU
  // cache) or "pipe" (one sequential pass per epoch). shuffle: "samples" (one global shuffle
  // of every image: file mode only, its default) or "files" (the files in a seeded order per
  // epoch, the images of each file in a seeded order: what every mode can follow, so the
  // three give the same weights); "" = samples for file, files otherwise. File mode with
  // "files", fastfile and pipe read through a TrainSource that Train() opens (one rank).
  std::string input_mode = "file";
  std::string shuffle;
  uint64_t cache_bytes = 0;
  int read_ahead = 4;
  storage::Options storage;       // how fastfile and pipe reach the tier
  TrainSource* source = nullptr;  // set by Train(); tests may pass their own
  // When set, the only files of the dataset folder read (names relative to it: those a
  // verified manifest lists); unset, every batch in the folder.
  std::optional<std::vector<std::string>> files;
  int epochs = 2;
  int batch_size = 4;
  double lr = 0.001;
  double momentum = 0.9;
  int workers = 2;             // loader threads assembling batches ahead of the step
  int threads = 0;             // intra-op threads (0 = libtorch default)
  uint64_t seed = 0;
  std::string device = "auto"; // auto | cpu | cuda | cuda:N
  std::string model_dir;       // model.pth written here when non-empty
  std::string resume;          // model.pth to start from
  int log_every = 2000;        // print running loss every N mini-batches (0 = never)
  int64_t max_steps = 0;       // stop early after N steps in total (0 = no limit)
  std::function<void(const std::string&)> log;  // receives each printed line
  std::function<void(const TrainProgress&)> progress;  // live progress (may be empty)
  // "fast": hand-written backward pass and fused SGD step (no autograd graph);
  // "autograd": the plain libtorch loop (autograd + torch::optim::SGD), for comparison.
  std::string engine = "fast";
  // Test-set batch (accuracy does not depend on it). 4 as in the tutorial: on CPU with the
  // reference BLAS, batch 1000 measured 8x slower (24.4 s vs 2.9 s for 10,000 images).
  int eval_batch_size = 4;
  bool evaluate = true;        // run the test set after training
  const std::atomic<bool>* cancel = nullptr;
  // Data parallelism: this process is rank `rank` of `world_size`. Every rank starts from the
  // same weights (same seed or the same `resume` file), trains on its share of each epoch's
  // order (RankShare in train/loader.h: DistributedSampler's rule) with `batch_size` images a
  // step, and averages the gradients over the ranks before every step through
  // `all_reduce_mean` (one call a step, over all gradients in one flat buffer; it must return
  // the same mean on every rank), so the weights stay identical on every rank. Only rank 0
  // writes model.pth; every rank evaluates the whole test set. world_size 1: one rank,
  // all_reduce_mean is not called.
  int rank = 0;
  int world_size = 1;
  std::function<Status(float* data, size_t n)> all_reduce_mean;
  // false: `files` are already this rank's own share of the data (pipeline.distribution =
  // "sharded"), so the loader does not split each epoch by rank again: the rank trains on
  // every image of its files. The ranks agree on the largest rank's image count first (one
  // all_reduce_mean), and a rank with fewer images pads its epoch order by repeating its start
  // (as DistributedSampler pads), so every rank takes the same number of steps. Gradients are
  // averaged over world_size either way.
  bool split_samples = true;
};

struct TrainSummary {
  std::string device;
  int epochs = 0;
  int64_t steps = 0;
  int64_t train_images = 0;
  int64_t test_images = 0;
  double final_loss = 0;
  double test_accuracy = 0;              // 0..1
  std::vector<double> class_accuracy;    // 0..1, per class
  std::vector<std::string> class_names;
  double steps_per_second = 0;
  double seconds = 0;                     // whole call: loading, training, testing, saving
  double train_seconds = 0;               // the epochs alone
  std::vector<double> epoch_seconds;
  double load_seconds = 0;                // decoding both splits
  double test_seconds = 0;
  // Where training waited for data. first_batch_seconds: from the start of the call (reading
  // the dataset included) until the first batch is in hand. Per step, the loop measures the
  // time it blocks in the loader for the batch (data wait) and the time from then to the end
  // of the update (compute: forward, backward, SGD step; on CUDA up to a device synchronise,
  // so it is the device's time, not the launch time). The first step of each epoch is left
  // out of both (its wait is the loader's warm-up). AU (accelerator utilisation) =
  // compute / (compute + data wait), per epoch and over all epochs; < 0 when no step counted.
  double first_batch_seconds = 0;
  double data_wait_seconds = 0;
  double compute_seconds = 0;
  // What timed compute: "host steady clock" (CPU), "CUDA events" (two events on the default
  // stream around each step), or "host steady clock after a device synchronize" (CUDA without
  // a CUDA runtime to take events from).
  std::string compute_clock;
  double au = -1;
  std::vector<double> epoch_au;
  double samples_per_second = 0;          // training images / train_seconds
  int threads = 0;                        // intra-op threads in effect
  std::string engine;
  std::string model_path;  // empty on ranks other than 0
  int rank = 0;
  int world_size = 1;
  int batch_size = 0;             // per rank
  int64_t global_batch_size = 0;  // batch_size x world_size: images per step, all ranks
  int64_t rank_images = 0;        // training images per epoch on this rank
  std::string weights_md5;        // of the final weights (float bytes, parameter order)
  // Training input (TrainOptions::input_mode): what the source read outside the epochs - the
  // label names before the first, the test split for the test pass after the last
  // (setup_input) - and per epoch (epoch_input); empty without a source. With a source the
  // test split is read only when evaluating (test_images 0 otherwise).
  std::string input_mode;
  std::string shuffle;
  SourceStats setup_input;
  std::vector<SourceStats> epoch_input;
};

Result<TrainSummary> Train(const TrainOptions& options);

// Checks input_mode and shuffle, and fills the default shuffle of the mode.
Status ResolveInputMode(TrainOptions* options);

// For `doctor`: loads the plugin and resolves `device` (auto|cpu|cuda[:N]) to what training
// would use, e.g. "cpu (libtorch 1.13.1, CUDA not available)". Errors say what is missing.
Result<std::string> ProbeDevice(const std::string& device);

}  // namespace tb::train
