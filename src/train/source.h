// Where training reads its data from: the training input mode (SageMaker's File, FastFile and
// Pipe modes). A TrainSource yields the epoch's training batch files decoded, one at a time,
// in the epoch's file order (FileOrder in train/loader.h), as they arrive; the loader feeds
// their samples to the training step (BatchLoader's streamed epochs). The test split and the
// label names are read once.
//
//   file      the dataset folder on local storage (the staged scenario fetches it first)
//   fastfile  each file opened through its storage tier on demand, the next files of the
//             epoch's order read ahead on a few threads, a bounded LRU cache of file bytes
//   pipe      one sequential pass over the channel's objects per epoch, one object at a time
//
// This header has no storage in it: train/object_source.h opens sources over storage tiers;
// the training plugin sees only this interface.
//
// Thread-safety: one consumer thread calls StartEpoch()/Next()/Stop(); Stats() from any.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dataset/cifar.h"
#include "util/status.h"

namespace tb::train {

// What the source read from its storage tier, counted by the transport wrapper
// (storage::CountingStorage): body bytes, GET requests (objects or ranges opened), files
// served from the local cache instead, and reads resumed after they broke off in the middle.
struct SourceStats {
  uint64_t bytes = 0;
  uint64_t gets = 0;
  uint64_t cache_hits = 0;
  uint64_t cache_hit_bytes = 0;
  // By the transport (a request for the rest, Reader::resumed) or by the source reopening
  // the object from the byte reached.
  uint64_t resumed = 0;
};

inline SourceStats operator+(const SourceStats& a, const SourceStats& b) {
  return {a.bytes + b.bytes, a.gets + b.gets, a.cache_hits + b.cache_hits, a.cache_hit_bytes + b.cache_hit_bytes,
          a.resumed + b.resumed};
}
inline SourceStats operator-(const SourceStats& a, const SourceStats& b) {
  return {a.bytes - b.bytes, a.gets - b.gets, a.cache_hits - b.cache_hits, a.cache_hit_bytes - b.cache_hit_bytes,
          a.resumed - b.resumed};
}

class TrainSource {
 public:
  virtual ~TrainSource() = default;
  // "file", "fastfile" or "pipe".
  virtual std::string mode() const = 0;
  // Where the dataset is (URI or folder), for messages and results.
  virtual std::string where() const = 0;
  // The training batch files (data_batch_1..N order), as listed when the source was opened.
  virtual const std::vector<std::string>& files() const = 0;
  // Starts an epoch that visits files()[order[0]], files()[order[1]], ...; abandons any
  // unfinished one.
  virtual Status StartEpoch(const std::vector<uint32_t>& order) = 0;
  // The next file of the epoch decoded into *out (its images in file order); false at the
  // end of the epoch. Errors name the object and the cause.
  virtual Result<bool> Next(dataset::Split* out) = 0;
  // Stops the epoch's reads (e.g. training stopped early); Next() then returns false.
  virtual void Stop() = 0;
  // The test split (empty when the dataset has none) and the label names, read once.
  virtual Result<dataset::Split> TestSplit() = 0;
  virtual Result<std::vector<std::string>> LabelNames() = 0;
  virtual SourceStats Stats() const = 0;  // since the source was opened
};

}  // namespace tb::train
