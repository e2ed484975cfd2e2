// Training sources (train/source.h) over a storage tier: File mode over a local folder,
// FastFile and Pipe over any tier (s3://, http(s)://, a local path, mem://).
//
// Every object is read with its size and ETag from the listing taken when the source opens:
// a read that fails in the middle with a retryable error is resumed from the byte it reached
// (a ranged read of the rest), up to `max_retries` times per object; the bytes are then
// checked against that listing (the md5 where the ETag is one, else the size and a fresh
// ETag), so an object changed since the start of training fails the epoch with an error
// naming it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "storage/storage.h"
#include "train/source.h"

namespace tb::train {

struct SourceOptions {
  std::string mode = "fastfile";  // file | fastfile | pipe
  // fastfile: file bytes kept in a local LRU cache of at most this many bytes (0 = none).
  uint64_t cache_bytes = 0;
  // file and fastfile: files of the epoch's order being read or read but not yet consumed,
  // at most; threads reading them. Pipe reads one object at a time (1 and 1).
  int read_ahead = 4;
  int threads = 4;
  int max_retries = 5;  // resumed reads per object after a failure in the middle
  // Set: the backoff before a resumed read wakes early and gives up (storage::Options::cancel).
  const std::atomic<bool>* cancel = nullptr;
  // The largest object read (0: storage.max_object_bytes, else 4 GiB).
  uint64_t max_object_bytes = 0;
  // When set, the only file names used (those a verified manifest lists).
  std::vector<std::string> listed;
  bool use_listed = false;
};

// Opens the dataset at `uri` (the folder or prefix holding batches.meta, or its parent holding
// cifar-10-batches-py/): lists it once, with sizes and ETags.
Result<std::unique_ptr<TrainSource>> OpenTrainSource(const std::string& uri, const SourceOptions& options,
                                                     const storage::Options& storage_options);
// The same over an opened storage (tests: mem:// and the fault wrappers); `where` names it.
Result<std::unique_ptr<TrainSource>> NewTrainSource(std::unique_ptr<storage::Storage> storage,
                                                    const SourceOptions& options);

}  // namespace tb::train
