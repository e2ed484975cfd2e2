// The training data loader: a decoded CIFAR split held in memory, read in a seeded shuffled
// order by worker threads that assemble and normalise whole batches ahead of the training
// step into preallocated slots (a bounded ring: no allocation per sample or per batch).
// Batches are delivered in order, so a run is deterministic for a seed whatever the number
// of workers. A worker's failure is carried to the consumer as the Status of Next().
//
// Streamed epochs (the constructor over a TrainSource, train/source.h): the epoch's samples
// arrive file by file from the source on a feeder thread, and workers assemble a batch as
// soon as its samples have arrived; files whose samples are all consumed are released, so an
// epoch holds only the files between the step and the source's read-ahead. The epoch's
// length is known once the source's last file arrived.
//
// Thread-safety: one consumer thread calls StartEpoch()/Next(); the workers are internal.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "dataset/cifar.h"
#include "dataset/shuffle.h"
#include "train/source.h"
#include "util/status.h"

namespace tb::train {

using dataset::kChannels;
using dataset::kHeight;
using dataset::kWidth;
inline constexpr int kImageFloats = kChannels * kHeight * kWidth;
using dataset::ShuffledOrder;  // the epoch's order of the split, shared with the preview

// Data-parallel sharding, as torch.utils.data.DistributedSampler (drop_last=False) does it:
// every rank computes the same epoch order (same seed), pads it to a multiple of world_size
// by repeating its first elements (cyclically when the order is shorter than the padding),
// and rank r takes the positions r, r + world_size, r + 2 * world_size, ... Each rank gets
// ceil(n / world_size) samples (RankSamples), so every rank takes the same number of steps;
// when n is not divisible by world_size, the first ceil(n / world_size) * world_size - n
// samples of the epoch's order are trained on twice in that epoch (by different ranks),
// whatever the order puts there. With equal batch sizes, batch k of all ranks together is exactly
// positions [k * B * world_size, (k + 1) * B * world_size) of the order: batch k of one rank
// with batch size B * world_size. world_size 1 returns `order` unchanged.
std::vector<uint32_t> RankShare(const std::vector<uint32_t>& order, int rank, int world_size);
size_t RankSamples(size_t n, int world_size);

// train.shuffle = "files", the order all input modes can follow: epoch `epoch` visits the
// training files in FileOrder(files, seed, epoch), and the images inside file `file` (its
// index in key order) in InFileOrder(count, seed, epoch, file).
std::vector<uint32_t> FileOrder(size_t files, uint64_t seed, int epoch);
std::vector<uint32_t> InFileOrder(size_t count, uint64_t seed, int epoch, uint32_t file);
// Rank `rank`'s files of an epoch's file order: order[rank], order[rank + world_size], ...
// (no padding: ranks differ by at most one file).
std::vector<uint32_t> FileShare(const std::vector<uint32_t>& order, int rank, int world_size);

// The tutorial's transform of one pixel byte: ToTensor() (v / 255) then
// Normalize(0.5, 0.5) ((x - 0.5) / 0.5), computed in float exactly like torchvision.
float NormalizePixel(uint8_t v);

struct LoaderOptions {
  int batch_size = 4;
  int workers = 2;        // 0: batches are assembled on the consumer's thread
  int prefetch = 0;       // batches assembled ahead; 0 = max(8, 4 * workers)
  // Samples: ShuffledOrder over the split. Streamed epochs: FileOrder and InFileOrder (false:
  // the files in key order, each file's images in file order).
  bool shuffle = true;
  uint64_t seed = 0;
  int num_classes = 10;   // labels outside [0, num_classes) are an error
  // This loader's share of each epoch (RankShare): rank in [0, world_size).
  int rank = 0;
  int world_size = 1;
  // false: no RankShare split (the split is this rank's own already); every rank then takes
  // `epoch_samples` samples an epoch (0: the split's count): its epoch order padded by
  // repeating its start (cyclically), or cut.
  bool split = true;
  size_t epoch_samples = 0;
};

// One assembled batch; valid until the next call of Next() or StartEpoch().
struct BatchView {
  int slot = -1;
  int size = 0;                    // images in this batch (the last one may be short)
  int64_t index = 0;               // batch number within the epoch
  const float* images = nullptr;   // size x 3 x 32 x 32, normalised, NCHW
  const int64_t* labels = nullptr; // size
};

class BatchLoader {
 public:
  // `split` must outlive the loader.
  BatchLoader(const dataset::Split& split, const LoaderOptions& options);
  // Streamed epochs from `source` (which must outlive the loader). With several ranks and
  // `split`, this rank reads its share of each epoch's file order (FileShare); every rank
  // needs at least one file. The samples are not split again.
  BatchLoader(TrainSource* source, const LoaderOptions& options);
  ~BatchLoader();
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  // Streamed epochs: the last finished epoch's count until the source's last file arrived
  // (0 in the first epoch).
  int64_t batches_per_epoch() const;
  // Streamed epochs: the samples the epoch's files held (so far).
  size_t epoch_samples() const;
  int slots() const { return static_cast<int>(slots_.size()); }
  // The preallocated buffers of a slot (batch_size images / labels), e.g. to wrap in tensors
  // once; Next() always hands out one of these.
  float* slot_images(int slot) { return slots_[slot].images.data(); }
  int64_t* slot_labels(int slot) { return slots_[slot].labels.data(); }

  // Starts epoch `epoch` (its order comes from seed and epoch); abandons any unfinished one.
  void StartEpoch(int epoch);
  // The next batch of the epoch, waiting for it if needed. Returns false at the end of the
  // epoch, or a worker's error (naming the image and the cause).
  Result<bool> Next(BatchView* out);

 private:
  struct Slot {
    std::vector<float> images;
    std::vector<int64_t> labels;
    int64_t filled = -1;  // batch number held, -1 none
    Status status;
  };
  // A file's samples in an epoch's order: positions [begin, begin + split->count).
  struct Chunk {
    size_t begin = 0;
    std::shared_ptr<const dataset::Split> split;
  };
  void WorkerLoop();
  Status Assemble(int64_t batch, Slot* slot, const std::vector<Chunk>& chunks) const;
  std::vector<Chunk> ChunksOf(int64_t batch) const;
  bool Fed(int64_t batch) const;
  void StopAssembly(std::unique_lock<std::mutex>& lock);
  void StopFeed();
  void FeedLoop(int epoch);
  Status Feed(int epoch);

  const dataset::Split* split_ = nullptr;
  TrainSource* source_ = nullptr;
  int file_rank_ = 0, file_world_ = 1;  // streamed epochs: whose share of the file order
  LoaderOptions options_;
  int64_t batches_ = 0;
  std::vector<Slot> slots_;
  std::vector<uint32_t> order_;

  std::mutex mu_;
  std::condition_variable work_cv_, ready_cv_;
  bool stop_ = false;
  bool active_ = false;
  int64_t next_fill_ = 0;   // next batch a worker will take
  int64_t next_take_ = 0;   // next batch the consumer will take
  int in_flight_ = 0;
  int workers_waiting_ = 0;
  bool consumer_waiting_ = false;
  std::vector<std::thread> threads_;
  // Streamed epochs (under mu_ but feed_stop_).
  std::deque<Chunk> chunks_;
  size_t fed_ = 0;
  bool feed_done_ = false;
  Status feed_status_;
  int64_t last_batches_ = 0;
  std::atomic<bool> feed_stop_{false};
  std::thread feeder_;
};

}  // namespace tb::train
