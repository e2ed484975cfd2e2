#include "train/loader.h"

#include <algorithm>
#include <cstring>
#include <exception>
#include <limits>
#include <string>

namespace tb::train {
namespace {

struct NormalizeTable {
  float v[256];
  NormalizeTable() {
    for (int i = 0; i < 256; ++i) {
      float x = static_cast<float>(i) / 255.0f;  // ToTensor: div(255) in float
      v[i] = (x - 0.5f) / 0.5f;                  // Normalize: sub_(mean).div_(std)
    }
  }
};
const NormalizeTable kTable;
const dataset::Split kNoSplit;  // streamed epochs hold their samples in chunks

}  // namespace

size_t RankSamples(size_t n, int world_size) {
  size_t w = static_cast<size_t>(std::max(1, world_size));
  return (n + w - 1) / w;
}

std::vector<uint32_t> RankShare(const std::vector<uint32_t>& order, int rank, int world_size) {
  if (world_size <= 1) return order;
  const size_t n = order.size(), w = static_cast<size_t>(world_size);
  std::vector<uint32_t> share(RankSamples(n, world_size));
  if (n == 0) return {};
  // Position p of the padded order is order[p % n] (the padding repeats the order's start).
  for (size_t i = 0; i < share.size(); ++i) share[i] = order[(static_cast<size_t>(rank) + i * w) % n];
  return share;
}

float NormalizePixel(uint8_t v) { return kTable.v[v]; }

std::vector<uint32_t> FileOrder(size_t files, uint64_t seed, int epoch) { return ShuffledOrder(files, seed, epoch); }

std::vector<uint32_t> InFileOrder(size_t count, uint64_t seed, int epoch, uint32_t file) {
  // Each file its own stream of orders, apart from FileOrder's (file + 1, odd multiplier).
  return ShuffledOrder(count, seed ^ ((uint64_t{file} + 1) * 0x9E3779B97F4A7C15ull), epoch);
}

std::vector<uint32_t> FileShare(const std::vector<uint32_t>& order, int rank, int world_size) {
  if (world_size <= 1) return order;
  std::vector<uint32_t> share;
  for (size_t i = static_cast<size_t>(rank); i < order.size(); i += static_cast<size_t>(world_size))
    share.push_back(order[i]);
  return share;
}

BatchLoader::BatchLoader(TrainSource* source, const LoaderOptions& options) : BatchLoader(kNoSplit, options) {
  std::lock_guard<std::mutex> lock(mu_);
  source_ = source;
  if (options.split && options.world_size > 1) {
    file_rank_ = options.rank;
    file_world_ = options.world_size;
  }
  options_.world_size = 1;
  options_.rank = 0;
  batches_ = 0;
}

BatchLoader::BatchLoader(const dataset::Split& split, const LoaderOptions& options)
    : split_(&split), options_(options) {
  options_.batch_size = std::max(1, options_.batch_size);
  options_.workers = std::max(0, options_.workers);
  options_.world_size = std::max(1, options_.world_size);
  options_.rank = std::clamp(options_.rank, 0, options_.world_size - 1);
  const size_t samples = options_.split ? RankSamples(split_->count, options_.world_size)
                         : options_.epoch_samples > 0 && split_->count > 0 ? options_.epoch_samples
                                                                           : split_->count;
  batches_ = static_cast<int64_t>((samples + options_.batch_size - 1) / options_.batch_size);
  int prefetch = options_.prefetch > 0 ? options_.prefetch : std::max(8, 4 * options_.workers);
  // Batches assembled ahead stay within a memory budget however many workers or however large
  // the batch (workers beyond the slots simply wait their turn).
  constexpr size_t kPrefetchBudgetBytes = size_t{512} << 20;
  size_t slot_bytes = static_cast<size_t>(options_.batch_size) * (kImageFloats * sizeof(float) + sizeof(int64_t));
  prefetch = static_cast<int>(std::min<size_t>(static_cast<size_t>(prefetch), kPrefetchBudgetBytes / slot_bytes));
  slots_.resize(std::max(2, prefetch));
  for (Slot& s : slots_) {
    s.images.resize(static_cast<size_t>(options_.batch_size) * kImageFloats);
    s.labels.resize(options_.batch_size);
  }
  for (int i = 0; i < options_.workers; ++i) threads_.emplace_back([this] { WorkerLoop(); });
}

BatchLoader::~BatchLoader() {
  StopFeed();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void BatchLoader::StopAssembly(std::unique_lock<std::mutex>& lock) {
  active_ = false;
  ready_cv_.wait(lock, [this] { return in_flight_ == 0; });
}

int64_t BatchLoader::batches_per_epoch() const {
  if (!source_) return batches_;
  std::lock_guard<std::mutex> lock(const_cast<std::mutex&>(mu_));
  return feed_done_ ? batches_ : last_batches_;
}

size_t BatchLoader::epoch_samples() const {
  std::lock_guard<std::mutex> lock(const_cast<std::mutex&>(mu_));
  return fed_;
}

void BatchLoader::StopFeed() {
  if (!feeder_.joinable()) return;
  feed_stop_ = true;
  source_->Stop();
  feeder_.join();
  feed_stop_ = false;
}

// Streamed epochs: the source's files in the epoch's order (this rank's share of it), each
// file's images in its own order, appended as chunks of the epoch's positions.
Status BatchLoader::Feed(int epoch) {
  std::vector<uint32_t> order(source_->files().size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<uint32_t>(i);
  if (options_.shuffle) order = FileOrder(order.size(), options_.seed, epoch);
  if (file_world_ > 1 && order.size() < static_cast<size_t>(file_world_)) {
    return Status::InvalidArgument("train: " + std::to_string(file_world_) + " ranks read the training files of " +
                                   source_->where() + " in turn, but it has only " + std::to_string(order.size()) +
                                   ": every rank needs at least one file");
  }
  order = FileShare(order, file_rank_, file_world_);
  TB_RETURN_IF_ERROR(source_->StartEpoch(order));
  for (size_t k = 0; !feed_stop_; ++k) {
    auto part = std::make_shared<dataset::Split>();
    TB_ASSIGN_OR_RETURN(bool more, source_->Next(part.get()));
    if (!more) break;
    if (options_.shuffle && k < order.size() && part->count > 1) {
      std::vector<uint32_t> in = InFileOrder(part->count, options_.seed, epoch, order[k]);
      auto shuffled = std::make_shared<dataset::Split>();
      shuffled->count = part->count;
      shuffled->labels.resize(part->count);
      shuffled->pixels.resize(part->count * dataset::kImageBytes);
      for (size_t i = 0; i < in.size(); ++i) {
        shuffled->labels[i] = part->labels[in[i]];
        std::memcpy(shuffled->pixels.data() + i * dataset::kImageBytes,
                    part->pixels.data() + static_cast<size_t>(in[i]) * dataset::kImageBytes, dataset::kImageBytes);
      }
      part = std::move(shuffled);
    }
    std::lock_guard<std::mutex> lock(mu_);
    chunks_.push_back({fed_, std::move(part)});
    fed_ += chunks_.back().split->count;
    work_cv_.notify_all();
    if (consumer_waiting_) ready_cv_.notify_all();
  }
  return Status::Ok();
}

void BatchLoader::FeedLoop(int epoch) {
  Status status = Feed(epoch);
  std::lock_guard<std::mutex> lock(mu_);
  feed_status_ = std::move(status);
  feed_done_ = true;
  batches_ = static_cast<int64_t>((fed_ + options_.batch_size - 1) / options_.batch_size);
  work_cv_.notify_all();
  ready_cv_.notify_all();
}

bool BatchLoader::Fed(int64_t batch) const {
  return feed_done_ || static_cast<size_t>(batch + 1) * options_.batch_size <= fed_;
}

std::vector<BatchLoader::Chunk> BatchLoader::ChunksOf(int64_t batch) const {
  std::vector<Chunk> out;
  if (!source_) return out;
  const size_t begin = static_cast<size_t>(batch) * options_.batch_size, end = begin + options_.batch_size;
  for (const Chunk& c : chunks_) {
    if (c.begin >= end) break;
    if (c.begin + c.split->count > begin) out.push_back(c);
  }
  return out;
}

void BatchLoader::StartEpoch(int epoch) {
  StopFeed();
  std::unique_lock<std::mutex> lock(mu_);
  StopAssembly(lock);
  if (source_) {
    if (feed_done_ && feed_status_.ok() && batches_ > 0) last_batches_ = batches_;
    chunks_.clear();
    fed_ = 0;
    feed_done_ = false;
    feed_status_ = Status::Ok();
    batches_ = std::numeric_limits<int64_t>::max();
    feeder_ = std::thread([this, epoch] { FeedLoop(epoch); });
  } else if (options_.shuffle) {
    order_ = ShuffledOrder(split_->count, options_.seed, epoch);
  } else {
    order_.resize(split_->count);
    for (size_t i = 0; i < order_.size(); ++i) order_[i] = static_cast<uint32_t>(i);
  }
  if (options_.split && options_.world_size > 1) {
    order_ = RankShare(order_, options_.rank, options_.world_size);
  } else if (!options_.split && options_.epoch_samples > 0 && !order_.empty()) {
    const size_t n = order_.size();
    order_.resize(options_.epoch_samples);
    for (size_t i = n; i < order_.size(); ++i) order_[i] = order_[i % n];
  }
  for (Slot& s : slots_) s.filled = -1;
  next_fill_ = next_take_ = 0;
  active_ = true;
  lock.unlock();
  work_cv_.notify_all();
}

Status BatchLoader::Assemble(int64_t batch, Slot* slot, const std::vector<Chunk>& chunks) const {
  try {
    size_t begin = static_cast<size_t>(batch) * options_.batch_size;
    size_t end = std::min(begin + options_.batch_size, source_ ? SIZE_MAX : order_.size());
    if (source_) end = chunks.empty() ? begin : std::min(end, chunks.back().begin + chunks.back().split->count);
    float* dst = slot->images.data();
    size_t c = 0;
    for (size_t i = begin; i < end; ++i) {
      const dataset::Split* from = split_;
      size_t image = source_ ? 0 : order_[i];
      if (source_) {  // position i of the epoch: in the chunk holding it
        while (chunks[c].begin + chunks[c].split->count <= i) ++c;
        from = chunks[c].split.get();
        image = i - chunks[c].begin;
      }
      uint8_t label = from->labels[image];
      if (label >= options_.num_classes) {
        return Status::Corruption("loader: image " + std::to_string(image) + " has label " +
                                  std::to_string(label) + ", outside 0.." +
                                  std::to_string(options_.num_classes - 1));
      }
      slot->labels[i - begin] = label;
      const uint8_t* src = from->pixels.data() + image * dataset::kImageBytes;
      for (int k = 0; k < kImageFloats; ++k) dst[k] = kTable.v[src[k]];
      dst += kImageFloats;
    }
    return Status::Ok();
  } catch (const std::exception& e) {
    return Status::Internal(std::string("loader: assembling batch ") + std::to_string(batch) +
                            ": " + e.what());
  }
}

void BatchLoader::WorkerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    // A worker may fill batch b once the slot it goes to is free: the consumer holds at most
    // the batch before next_take_.
    auto can_fill = [this] {
      int64_t limit = next_take_ + static_cast<int64_t>(slots_.size()) - 1;
      return active_ && next_fill_ < batches_ && next_fill_ < limit && (!source_ || Fed(next_fill_));
    };
    while (!stop_ && !can_fill()) {
      ++workers_waiting_;
      work_cv_.wait(lock);
      --workers_waiting_;
    }
    if (stop_) return;
    int64_t batch = next_fill_++;
    Slot* slot = &slots_[batch % slots_.size()];
    ++in_flight_;
    std::vector<Chunk> chunks = ChunksOf(batch);
    lock.unlock();
    Status status = Assemble(batch, slot, chunks);
    lock.lock();
    --in_flight_;
    slot->status = std::move(status);
    slot->filled = batch;
    if (consumer_waiting_ || (!active_ && in_flight_ == 0)) ready_cv_.notify_all();
  }
}

Result<bool> BatchLoader::Next(BatchView* out) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!active_) return false;
  int64_t batch = next_take_;
  while (source_ && !Fed(batch)) {
    consumer_waiting_ = true;
    ready_cv_.wait(lock);
    consumer_waiting_ = false;
  }
  if (source_ && !feed_status_.ok()) {
    StopAssembly(lock);
    return feed_status_;
  }
  if (next_take_ >= batches_) return false;
  Slot* slot = &slots_[batch % slots_.size()];
  if (threads_.empty()) {
    std::vector<Chunk> chunks = ChunksOf(batch);
    lock.unlock();
    slot->status = Assemble(batch, slot, chunks);
    slot->filled = batch;
    lock.lock();
  } else {
    while (slot->filled != batch) {
      consumer_waiting_ = true;
      ready_cv_.wait(lock);
      consumer_waiting_ = false;
    }
  }
  ++next_take_;  // releases the batch returned before: its slot may be refilled
  const size_t taken = static_cast<size_t>(next_take_) * options_.batch_size;
  while (!chunks_.empty() && chunks_.front().begin + chunks_.front().split->count <= taken) chunks_.pop_front();
  if (workers_waiting_ > 0) work_cv_.notify_one();
  if (!slot->status.ok()) {
    StopAssembly(lock);
    return slot->status;
  }
  out->slot = static_cast<int>(batch % slots_.size());
  out->index = batch;
  size_t begin = static_cast<size_t>(batch) * options_.batch_size;
  out->size = static_cast<int>(std::min<size_t>(options_.batch_size, (source_ ? fed_ : order_.size()) - begin));
  out->images = slot->images.data();
  out->labels = slot->labels.data();
  return true;
}

}  // namespace tb::train
