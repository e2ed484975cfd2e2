// The libtorch training plugin's entry points (see train/plugin_abi.h) and the training loop.
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>
#include <c10/core/InferenceMode.h>
#include <c10/util/Exception.h>
#include <torch/cuda.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <string>

#include "dataset/cifar.h"
#include "train/loader.h"
#include "train/plugin_abi.h"
#include "train/source.h"
#include "train/torch/cuda_timer.h"
#include "train/torch/net.h"
#include "train/torch/weights.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/md5.h"
#include "util/parallel.h"

namespace tb::train::torchplugin {
namespace {

Result<at::Device> ResolveDevice(const std::string& name) {
  bool cuda = torch::cuda::is_available();
  if (name.empty() || name == "auto") return cuda ? at::Device(at::kCUDA, 0) : at::Device(at::kCPU);
  if (name == "cpu") return at::Device(at::kCPU);
  if (name.rfind("cuda", 0) == 0) {
    int index = 0;
    if (name.size() > 4) {
      if (name[4] != ':' || name.size() == 5 ||
          name.find_first_not_of("0123456789", 5) != std::string::npos) {
        return Status::InvalidArgument("device '" + name + "': expected auto, cpu, cuda or cuda:N");
      }
      index = std::stoi(name.substr(5));
    }
    if (!cuda) {
      return Status::Unsupported("device '" + name +
                                 "': this libtorch build has no CUDA support or no GPU is visible");
    }
    if (index >= static_cast<int>(torch::cuda::device_count())) {
      return Status::InvalidArgument("device '" + name + "': only " +
                                     std::to_string(torch::cuda::device_count()) + " GPU(s)");
    }
    return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  return Status::InvalidArgument("device '" + name + "': expected auto, cpu, cuda or cuda:N");
}

std::string DeviceName(const at::Device& d) { return d.str(); }

void Log(const TrainOptions& o, const std::string& line) {
  if (o.log) o.log(line);
}

struct Data {
  dataset::Split train, test;
  std::vector<std::string> names;
};

Result<Data> LoadData(const TrainOptions& o) {
  if (o.source) {  // the training files stream from it epoch by epoch; the test split is
    Data d;        // read for the test pass (ReadTestSplit), not before the first batch
    TB_ASSIGN_OR_RETURN(d.names, o.source->LabelNames());
    return d;
  }
  if (o.data_dir.empty()) return Status::InvalidArgument("train: no dataset folder given");
  TB_ASSIGN_OR_RETURN(std::string dir, dataset::FindDatasetDir(o.data_dir));
  Data d;
  int threads = DefaultThreads();
  const std::vector<std::string>* listed = o.files ? &*o.files : nullptr;
  TB_ASSIGN_OR_RETURN(d.train, dataset::LoadSplit(dir, true, threads, listed));
  TB_ASSIGN_OR_RETURN(d.test, dataset::LoadSplit(dir, false, threads, listed));
  TB_RETURN_IF_ERROR(dataset::RequireListed(dir, "batches.meta", listed));
  TB_ASSIGN_OR_RETURN(d.names, dataset::ReadLabelNames(dir + "/batches.meta"));
  if (d.names.empty()) return Status::Corruption("train: " + dir + "/batches.meta has no label names");
  if (d.train.count == 0) return Status::InvalidArgument("train: " + dir + " has no training images");
  return d;
}

// Tensors over each loader slot's buffers, made once.
struct SlotTensors {
  std::vector<at::Tensor> images, labels;
  SlotTensors(BatchLoader* loader, int batch_size) {
    for (int s = 0; s < loader->slots(); ++s) {
      images.push_back(at::from_blob(loader->slot_images(s), {batch_size, kChannels, kHeight, kWidth},
                                     at::kFloat));
      labels.push_back(at::from_blob(loader->slot_labels(s), {batch_size}, at::kLong));
    }
  }
};

// A loss that is NaN or infinite means the weights are no longer numbers: training has
// diverged, and nothing after this point (more steps, the test set, the saved model) would
// mean anything. `steps` is the number of steps whose summed loss was not finite, the last
// of which is `step` of `epoch`. `elsewhere`: it was another rank's loss.
Status DivergedError(const TrainOptions& o, int epoch, int64_t step, int64_t steps, bool elsewhere = false) {
  char lr[32];
  std::snprintf(lr, sizeof lr, "%g", o.lr);
  std::string where = "epoch " + std::to_string(epoch) + ", step " + std::to_string(step);
  if (steps > 1) where += " (within steps " + std::to_string(step - steps + 1) + "-" + std::to_string(step) + ")";
  if (elsewhere) where += " on another rank";
  return Status::Internal("train: loss is nan/inf at " + where + ": training diverged (lr " + lr +
                          "; try a smaller train.lr)");
}

// Data parallelism: averages a step's gradients over the ranks with one all_reduce_mean call
// over one flat host buffer (every gradient, then a "stop" and an "out" slot). A rank that has
// to stop (interrupted, or its batch could not be loaded) still joins the step's collective
// with its stop slot at 1 and no gradients, so every rank learns it at the same step and stops
// there instead of waiting for a rank that will not come. A rank whose share of a streamed
// epoch has run out joins with its out slot at 1: that epoch ends on every rank at that step,
// which no rank takes (ranks differ by at most one file of the epoch's order).
class GradientAverager {
 public:
  enum class Want { kStep, kOut, kStop };
  GradientAverager(const TrainOptions& o, const Params& params) : o_(o) {
    size_t n = 0;
    for (const at::Tensor& p : params) n += static_cast<size_t>(p.numel());
    flat_.assign(n + 2, 0.0f);
  }

  // Replaces `grads` by their mean over the ranks when every rank takes the step; returns
  // what the ranks do at it (kStop wins over kOut).
  Result<Want> Average(const Params& grads, Want want, int epoch, int64_t step) {
    c10::NoGradGuard no_grad;
    const size_t n = flat_.size() - 2;
    if (want == Want::kStep) ForEach(grads, [](float* flat, const at::Tensor& g) { CopyOut(g, flat); });
    flat_[n] = want == Want::kStop ? 1.0f : 0.0f;
    flat_[n + 1] = want == Want::kOut ? 1.0f : 0.0f;
    Status s = o_.all_reduce_mean(flat_.data(), flat_.size());
    if (!s.ok()) {
      return s.Prefix("train: averaging gradients over " + std::to_string(o_.world_size) + " ranks at epoch " +
                      std::to_string(epoch) + ", step " + std::to_string(step));
    }
    if (flat_[n] != 0.0f) return Want::kStop;
    if (flat_[n + 1] != 0.0f) return Want::kOut;
    ForEach(grads, [](float* flat, const at::Tensor& g) { CopyIn(flat, g); });
    return Want::kStep;
  }

  // Whether any rank saw a non-finite loss (`mine` for this rank) at a report step.
  Result<bool> AnyDiverged(bool mine) {
    float flag = mine ? 1.0f : 0.0f;
    TB_RETURN_IF_ERROR(o_.all_reduce_mean(&flag, 1).Prefix("train: comparing losses across ranks"));
    return flag != 0.0f;
  }

 private:
  template <typename Fn>
  void ForEach(const Params& grads, Fn fn) {
    float* flat = flat_.data();
    for (const at::Tensor& g : grads) {
      fn(flat, g);
      flat += g.numel();
    }
  }
  static void CopyOut(const at::Tensor& g, float* flat) {
    if (g.is_cpu() && g.is_contiguous() && g.scalar_type() == at::kFloat) {
      std::memcpy(flat, g.data_ptr<float>(), static_cast<size_t>(g.numel()) * sizeof(float));
    } else {
      at::from_blob(flat, g.sizes(), at::kFloat).copy_(g);
    }
  }
  static void CopyIn(const float* flat, const at::Tensor& g) {
    if (g.is_cpu() && g.is_contiguous() && g.scalar_type() == at::kFloat) {
      std::memcpy(g.data_ptr<float>(), flat, static_cast<size_t>(g.numel()) * sizeof(float));
    } else {
      g.copy_(at::from_blob(const_cast<float*>(flat), g.sizes(), at::kFloat));
    }
  }

  const TrainOptions& o_;
  std::vector<float> flat_;
};

// One optimizer step on `batch`, or none where `halt` says why this rank cannot take it. With
// several ranks the gradients are averaged first, and every rank learns whether any stopped.
template <typename Step>
// Takes a step: this rank's batch forward and backward (unless it halts or is `out` of its
// epoch's share), gradients averaged over the ranks, the update. Returns false when the epoch
// ended on some rank at this step (no rank updates then).
Result<bool> TakeStep(const TrainOptions& o, const at::Device& device, SlotTensors& slots, const BatchView& batch,
                      Step* step, GradientAverager* averager, const Status& halt, bool out, int epoch, int64_t i) {
  const bool on_cpu = device.is_cpu();
  if (!halt.ok() && !averager) return halt;
  if (halt.ok() && !out) {
    at::Tensor x = slots.images[batch.slot], y = slots.labels[batch.slot];
    if (batch.size != o.batch_size) {
      x = x.narrow(0, 0, batch.size);
      y = y.narrow(0, 0, batch.size);
    }
    if (!on_cpu) {
      x = x.to(device);
      y = y.to(device);
    }
    step->ForwardBackward(x, y);
  }
  if (averager) {
    using Want = GradientAverager::Want;
    const Want want = !halt.ok() ? Want::kStop : out ? Want::kOut : Want::kStep;
    Result<Want> agreed = averager->Average(step->grads(), want, epoch + 1, i + 1);
    if (!halt.ok()) return halt;  // the cause, whether or not the others could be told
    if (!agreed.ok()) return agreed.status();
    if (*agreed == Want::kStop) {
      return Status::Cancelled("train: stopped in epoch " + std::to_string(epoch + 1) + ", step " +
                               std::to_string(i + 1) + ": another rank was interrupted or failed");
    }
    if (*agreed == Want::kOut) return false;
  }
  step->Update();
  return true;
}

// A step's compute time, from `got` (the batch in hand) to the end of the update: on CUDA the
// device's time between the timer's events (waiting for the step's last kernel), or without a
// timer the host's time up to a device synchronise; on CPU the host's time.
Result<double> StepCompute(const at::Device& device, CudaStepTimer* timer, double got) {
  if (timer) {
    TB_RETURN_IF_ERROR(timer->Stop());
    return timer->Seconds();
  }
  if (!device.is_cpu()) torch::cuda::synchronize(device.index());
  return NowSeconds() - got;
}

// An epoch's loss bookkeeping: the running loss printed every log_every steps, the live
// progress, the epoch's mean; a non-finite loss is divergence (on any rank, with several).
struct EpochLog {
  const TrainOptions& o;
  GradientAverager* averager;
  int epoch;
  double epoch_start;
  double log_sum = 0, progress_sum = 0, epoch_sum = 0;
  int64_t log_n = 0, progress_n = 0, pending = 0;

  // Takes the loss of the `pending` steps up to step i (1-based).
  template <typename Step>
  Status Flush(Step* step, int64_t i, int64_t steps_per_epoch, double wait, double compute) {
    double s = step->TakeLossSum();
    if (averager) {  // every rank stops at the same step when any rank's loss is not finite
      TB_ASSIGN_OR_RETURN(bool any, averager->AnyDiverged(!std::isfinite(s)));
      if (any && std::isfinite(s)) return DivergedError(o, epoch + 1, i, pending, /*elsewhere=*/true);
    }
    if (!std::isfinite(s)) return DivergedError(o, epoch + 1, i, pending);
    log_sum += s;
    progress_sum += s;
    epoch_sum += s;
    log_n += pending;
    progress_n += pending;
    pending = 0;
    if (o.progress) {
      TrainProgress p;
      p.epoch = epoch + 1;
      p.epochs = o.epochs;
      p.step = i;
      p.steps_per_epoch = steps_per_epoch;
      p.loss = progress_sum / progress_n;
      p.steps_per_second = i / std::max(1e-9, NowSeconds() - epoch_start);
      p.samples_per_second = p.steps_per_second * o.batch_size;
      p.au = compute + wait > 0 ? compute / (compute + wait) : -1;
      o.progress(p);
      progress_sum = 0;
      progress_n = 0;
    }
    return Status::Ok();
  }
  void Print(int64_t i) {
    if (o.log_every <= 0 || i % o.log_every != 0) return;
    char line[64];
    std::snprintf(line, sizeof(line), "[%d, %5lld] loss: %.3f", epoch + 1, static_cast<long long>(i),
                  log_sum / o.log_every);
    Log(o, line);
    log_sum = 0;
    log_n = 0;
  }
};

// The training loader: over the whole split in memory, or streamed from the input source.
void MakeLoader(const TrainOptions& o, const Data& data, const TrainSummary& summary, std::optional<BatchLoader>* out) {
  LoaderOptions lo;
  lo.batch_size = o.batch_size;
  lo.workers = o.workers;
  lo.seed = o.seed;
  lo.num_classes = static_cast<int>(data.names.size());
  lo.rank = o.rank;
  lo.world_size = o.world_size;
  lo.split = o.split_samples;
  if (!o.split_samples) lo.epoch_samples = static_cast<size_t>(summary.rank_images);
  if (o.source) {
    out->emplace(o.source, lo);
  } else {
    out->emplace(data.train, lo);
  }
}

// After an epoch: its time, AU and what the input source read during it.
void EndEpoch(const TrainOptions& o, const BatchLoader& loader, int epoch, double epoch_start, double wait,
              double compute, const SourceStats& input_before, TrainSummary* summary) {
  summary->epoch_seconds.push_back(NowSeconds() - epoch_start);
  summary->epoch_au.push_back(compute + wait > 0 ? compute / (compute + wait) : -1);
  summary->data_wait_seconds += wait;
  summary->compute_seconds += compute;
  summary->epochs = epoch + 1;
  if (o.source) {
    summary->epoch_input.push_back(o.source->Stats() - input_before);
    if (epoch == 0) summary->train_images = summary->rank_images = static_cast<int64_t>(loader.epoch_samples());
  }
}

template <typename Step>
Status RunEpochs(const TrainOptions& o, const at::Device& device, const Data& data, Step* step,
                 GradientAverager* averager, TrainSummary* summary) {
  std::optional<BatchLoader> loader_holder;
  MakeLoader(o, data, *summary, &loader_holder);
  BatchLoader& loader = *loader_holder;
  SlotTensors slots(&loader, o.batch_size);
  std::unique_ptr<CudaStepTimer> timer = device.is_cuda() ? CudaStepTimer::Create(device.index()) : nullptr;
  summary->compute_clock = device.is_cpu() ? "host steady clock"
                           : timer         ? "CUDA events"
                                           : "host steady clock after a device synchronize";
  const int64_t report_every =
      o.log_every > 0 ? std::min<int64_t>(o.log_every, 200) : 200;
  double last_epoch_loss = 0;
  double train_start = NowSeconds();
  int64_t total = 0, images = 0;
  bool stop = false;
  for (int epoch = 0; epoch < o.epochs && !stop; ++epoch) {
    double epoch_start = NowSeconds();
    SourceStats input_before = o.source ? o.source->Stats() : SourceStats{};
    loader.StartEpoch(epoch);
    EpochLog log{o, averager, epoch, epoch_start};
    int64_t i = 0;
    double wait = 0, compute = 0;  // this epoch's steps but its first (see TrainSummary)
    BatchView batch;
    for (;;) {
      double asked = NowSeconds();
      Result<bool> more = loader.Next(&batch);
      double got = NowSeconds();
      Status halt;  // why this rank cannot take the step
      bool out = false;  // this rank's share of a streamed epoch is done; the others may go on
      if (!more.ok()) {
        halt = more.status();
      } else if (!*more) {
        if (!averager || !o.source) break;
        out = true;
      } else if (o.cancel && o.cancel->load(std::memory_order_relaxed)) {
        halt = Status::Cancelled("train: interrupted in epoch " + std::to_string(epoch + 1));
      } else if (total == 0) {
        summary->first_batch_seconds = got;  // RunTraining makes it relative
      }
      if (timer) TB_RETURN_IF_ERROR(timer->Start());
      TB_ASSIGN_OR_RETURN(bool stepped, TakeStep(o, device, slots, batch, step, averager, halt, out, epoch, i));
      TB_ASSIGN_OR_RETURN(double step_compute, StepCompute(device, timer.get(), got));
      if (!stepped) break;  // the epoch ended on a rank whose share ran out
      if (i > 0) {
        wait += got - asked;
        compute += step_compute;
      }
      images += batch.size;
      ++i;
      ++total;
      ++log.pending;
      bool last = (o.max_steps > 0 && total >= o.max_steps);
      // A flush is a collective with several ranks: at the epoch's last batch only when every
      // rank's epoch has that length (a streamed share's does not; the epoch end flushes).
      if (log.pending == report_every || (o.log_every > 0 && i % o.log_every == 0) || last ||
          (i == loader.batches_per_epoch() && !(averager && o.source))) {
        TB_RETURN_IF_ERROR(log.Flush(step, i, loader.batches_per_epoch(), wait, compute));
      }
      log.Print(i);
      if (last) {
        stop = true;
        break;
      }
    }
    // A streamed epoch's length is known only at its end: the steps not yet taken into account.
    if (log.pending > 0) TB_RETURN_IF_ERROR(log.Flush(step, i, loader.batches_per_epoch(), wait, compute));
    if (i > 0) last_epoch_loss = log.epoch_sum / i;
    EndEpoch(o, loader, epoch, epoch_start, wait, compute, input_before, summary);
  }
  summary->train_seconds = NowSeconds() - train_start;
  summary->steps = total;
  summary->final_loss = last_epoch_loss;
  summary->steps_per_second = total / std::max(1e-9, summary->train_seconds);
  summary->samples_per_second = images / std::max(1e-9, summary->train_seconds);
  double busy = summary->compute_seconds + summary->data_wait_seconds;
  summary->au = busy > 0 ? summary->compute_seconds / busy : -1;
  Log(o, "Finished Training");
  return Status::Ok();
}

Status Evaluate(const TrainOptions& o, const at::Device& device, const Data& data,
                const Params& params, TrainSummary* summary) {
  c10::InferenceMode inference;
  LoaderOptions lo;
  lo.batch_size = std::max(1, o.eval_batch_size);
  lo.workers = std::min(o.workers, 1);
  lo.shuffle = false;
  lo.num_classes = static_cast<int>(data.names.size());
  BatchLoader loader(data.test, lo);
  SlotTensors slots(&loader, lo.batch_size);
  loader.StartEpoch(0);
  size_t classes = data.names.size();
  std::vector<int64_t> correct(classes), total(classes);
  BatchView batch;
  for (;;) {
    TB_ASSIGN_OR_RETURN(bool more, loader.Next(&batch));
    if (!more) break;
    if (o.cancel && o.cancel->load(std::memory_order_relaxed)) {
      return Status::Cancelled("train: interrupted in the test pass");
    }
    at::Tensor x = slots.images[batch.slot].narrow(0, 0, batch.size);
    if (!device.is_cpu()) x = x.to(device);
    at::Tensor pred = at::argmax(Forward(params, x), 1).to(at::kCPU).contiguous();
    const int64_t* p = pred.data_ptr<int64_t>();
    for (int k = 0; k < batch.size; ++k) {
      int64_t label = batch.labels[k];
      total[label]++;
      if (p[k] == label) correct[label]++;
    }
  }
  int64_t all_correct = 0, all = 0;
  summary->class_accuracy.assign(classes, 0);
  for (size_t c = 0; c < classes; ++c) {
    all_correct += correct[c];
    all += total[c];
    summary->class_accuracy[c] = total[c] ? static_cast<double>(correct[c]) / total[c] : 0;
  }
  summary->test_accuracy = all ? static_cast<double>(all_correct) / all : 0;
  return Status::Ok();
}

// md5 of the weights' float bytes, parameters in order: equal on ranks with equal weights.
std::string WeightsMd5(const Params& params) {
  Md5 md5;
  for (const at::Tensor& p : params) {
    at::Tensor t = p.to(at::kCPU).contiguous();
    md5.Update(t.data_ptr<float>(), static_cast<size_t>(t.numel()) * sizeof(float));
  }
  return ToHex(md5.Finish());
}

Status CheckOptions(const TrainOptions& o) {
  if (o.epochs < 0) return Status::InvalidArgument("train: epochs must be >= 0");
  if (o.batch_size < 1) return Status::InvalidArgument("train: batch size must be >= 1");
  if (!(o.lr > 0)) return Status::InvalidArgument("train: lr must be > 0");
  if (o.momentum < 0 || o.momentum >= 1) return Status::InvalidArgument("train: momentum must be in [0, 1)");
  if (o.workers < 0) return Status::InvalidArgument("train: workers must be >= 0");
  if (o.threads < 0) return Status::InvalidArgument("train: threads must be >= 0");
  if (o.engine != "fast" && o.engine != "autograd") {
    return Status::InvalidArgument("train: engine '" + o.engine + "': expected fast or autograd");
  }
  if (o.world_size < 1 || o.rank < 0 || o.rank >= o.world_size) {
    return Status::InvalidArgument("train: rank " + std::to_string(o.rank) + " of world size " +
                                   std::to_string(o.world_size) + ": expected 0 <= rank < world size");
  }
  if (o.world_size > 1 && !o.all_reduce_mean) {
    return Status::InvalidArgument("train: world size " + std::to_string(o.world_size) +
                                   " without a gradient all-reduce");
  }
  return Status::Ok();
}

// Unsplit ranks (TrainOptions::split_samples false): the largest training-image count of any
// rank, through one all_reduce_mean over a slot per rank (exact for counts below 2^24).
Result<size_t> LargestRankCount(const TrainOptions& o, size_t mine) {
  if (o.world_size <= 1) return mine;
  std::vector<float> counts(static_cast<size_t>(o.world_size), 0.0f);
  counts[static_cast<size_t>(o.rank)] = static_cast<float>(mine);
  TB_RETURN_IF_ERROR(
      o.all_reduce_mean(counts.data(), counts.size()).Prefix("train: comparing image counts across ranks"));
  size_t largest = 0;
  for (float c : counts) largest = std::max(largest, static_cast<size_t>(std::llround(c * o.world_size)));
  return largest;
}

Result<TrainSummary> RunTraining(const TrainOptions& o) {
  double start = NowSeconds();
  TB_RETURN_IF_ERROR(CheckOptions(o));
  TB_ASSIGN_OR_RETURN(at::Device device, ResolveDevice(o.device));
  if (o.threads > 0) at::set_num_threads(o.threads);
  TrainSummary summary;
  summary.device = DeviceName(device);
  summary.threads = at::get_num_threads();
  summary.engine = o.engine;
  summary.input_mode = o.input_mode;
  summary.shuffle = o.shuffle;
  summary.rank = o.rank;
  summary.world_size = o.world_size;
  summary.batch_size = o.batch_size;
  summary.global_batch_size = static_cast<int64_t>(o.batch_size) * o.world_size;
  std::string ranks;
  if (o.world_size > 1) {
    ranks = ", rank " + std::to_string(o.rank) + " of " + std::to_string(o.world_size) + ", global batch " +
            std::to_string(summary.global_batch_size);
  }
  Log(o,
      "device: " + summary.device + ", threads: " + std::to_string(summary.threads) + ", engine: " + o.engine + ranks);

  double load_start = NowSeconds();
  TB_ASSIGN_OR_RETURN(Data data, LoadData(o));
  summary.load_seconds = NowSeconds() - load_start;
  if (o.source) summary.setup_input = o.source->Stats();
  summary.train_images = static_cast<int64_t>(data.train.count);
  summary.rank_images = static_cast<int64_t>(RankSamples(data.train.count, o.world_size));
  if (!o.split_samples) {
    TB_ASSIGN_OR_RETURN(size_t largest, LargestRankCount(o, data.train.count));
    summary.rank_images = static_cast<int64_t>(largest);
  }
  summary.test_images = static_cast<int64_t>(data.test.count);
  summary.class_names = data.names;
  if (data.names.size() != 10) {
    return Status::InvalidArgument("train: the tutorial Net has 10 outputs; the dataset has " +
                                   std::to_string(data.names.size()) + " classes");
  }

  // A generator of this call's own: ranks run as threads of one process draw the same weights.
  Params params = InitParams(at::TensorOptions().dtype(at::kFloat), at::make_generator<at::CPUGeneratorImpl>(o.seed));
  if (!o.resume.empty()) {
    TB_RETURN_IF_ERROR(LoadWeights(o.resume, &params));
    Log(o, "resumed from " + o.resume);
  }
  for (at::Tensor& p : params) p = p.to(device);
  Sgd sgd{o.lr, o.momentum};
  std::optional<GradientAverager> averager;
  if (o.world_size > 1) averager.emplace(o, params);
  GradientAverager* avg = averager ? &*averager : nullptr;

  if (o.engine == "fast") {
    c10::InferenceMode inference;  // no autograd bookkeeping at all: the backward is explicit
    FastStep step(&params, sgd);
    TB_RETURN_IF_ERROR(RunEpochs(o, device, data, &step, avg, &summary));
  } else {
    AutogradStep step(&params, sgd);
    TB_RETURN_IF_ERROR(RunEpochs(o, device, data, &step, avg, &summary));
    for (at::Tensor& p : params) p = p.detach();
  }
  if (summary.first_batch_seconds > 0) summary.first_batch_seconds -= start;  // from the call's start
  summary.weights_md5 = WeightsMd5(params);

  if (o.source && o.evaluate) {  // the test split, after training (counted as setup input)
    const SourceStats before = o.source->Stats();
    TB_ASSIGN_OR_RETURN(data.test, o.source->TestSplit());
    summary.setup_input = summary.setup_input + (o.source->Stats() - before);
    summary.test_images = static_cast<int64_t>(data.test.count);
  }
  if (o.evaluate && data.test.count > 0) {
    double test_start = NowSeconds();
    TB_RETURN_IF_ERROR(Evaluate(o, device, data, params, &summary));
    summary.test_seconds = NowSeconds() - test_start;
  }
  // An interrupted run writes no model: a model.pth means training ran to its end.
  if (o.cancel && o.cancel->load()) return Status::Cancelled("train: interrupted before saving the model");
  if (!o.model_dir.empty() && o.rank == 0) {  // the weights are the same on every rank
    TB_RETURN_IF_ERROR(MakeDirs(o.model_dir));
    summary.model_path = o.model_dir + "/model.pth";
    TB_RETURN_IF_ERROR(SaveWeights(params, summary.model_path));
  }
  summary.seconds = NowSeconds() - start;
  return summary;
}

template <typename Fn>
void Guard(tb::Status* status, const char* what, Fn fn) {
  try {
    *status = fn();
  } catch (const c10::Error& e) {
    *status = Status::Internal(std::string(what) + ": libtorch: " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    *status = Status::Internal(std::string(what) + ": " + e.what());
  }
}

}  // namespace

// Compares FastStep's gradients with autograd's on one random batch from the same weights.
Status CheckGradients(uint64_t seed, double* max_abs_diff) {
  at::manual_seed(seed);
  Params a = InitParams(at::TensorOptions().dtype(at::kFloat));
  Params b;
  for (int i = 0; i < kNumParams; ++i) b[i] = a[i].clone();
  at::Tensor x = at::rand({4, 3, 32, 32}) * 2 - 1;
  at::Tensor y = at::randint(0, 10, {4}, at::kLong);
  Sgd sgd;
  AutogradStep reference(&a, sgd);
  reference.ForwardBackward(x, y);
  Params ga = reference.grads();
  double loss_a = reference.TakeLossSum();
  c10::InferenceMode inference;
  FastStep fast(&b, sgd);
  fast.ForwardBackward(x, y);
  double loss_b = fast.TakeLossSum();
  double diff = std::abs(loss_a - loss_b);
  for (int i = 0; i < kNumParams; ++i) {
    diff = std::max(diff, (ga[i] - fast.grads()[i]).abs().max().item<double>());
  }
  *max_abs_diff = diff;
  return Status::Ok();
}

}  // namespace tb::train::torchplugin

#define TB_EXPORT extern "C" __attribute__((visibility("default")))

TB_EXPORT int tb_torch_abi() { return TB_TORCH_PLUGIN_ABI; }

TB_EXPORT void tb_torch_train(const tb::train::TrainOptions* options,
                              tb::train::TrainSummary* summary, tb::Status* status) {
  using namespace tb::train::torchplugin;
  Guard(status, "train", [&]() -> tb::Status {
    tb::Result<tb::train::TrainSummary> r = RunTraining(*options);
    if (!r.ok()) return r.status();
    *summary = std::move(r).value();
    return tb::Status::Ok();
  });
}

// Used by train/probe.cc (doctor): the device `device` resolves to, e.g. "cpu" or "cuda:0".
TB_EXPORT void tb_torch_probe_device(const std::string* device, std::string* resolved,
                                     tb::Status* status) {
  using namespace tb::train::torchplugin;
  Guard(status, "device probe", [&]() -> tb::Status {
    tb::Result<at::Device> d = ResolveDevice(*device);
    if (!d.ok()) return d.status();
    *resolved = d->str();
    return tb::Status::Ok();
  });
}

TB_EXPORT void tb_torch_check_gradients(uint64_t seed, double* max_abs_diff, tb::Status* status) {
  using namespace tb::train::torchplugin;
  Guard(status, "gradient check", [&] { return CheckGradients(seed, max_abs_diff); });
}
