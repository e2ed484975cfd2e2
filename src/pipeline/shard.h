// How the ranks of a run divide the dataset's work (pipeline.distribution and the rank's
// cluster handle, Context::cluster). One rank (no cluster) takes everything, as before.
//
// Shares: the names sorted, name i goes to share i mod count (round robin): shares are
// disjoint, their union is the whole list, their sizes differ by at most one, and every rank
// computes the same split from the same list without talking to the others.
//
// Who splits what:
//   - a copy of the files (the in-place folder, shared by every rank; a host's scratch copy
//     in the staged scenario, shared by that host's ranks) is hashed (verify) and decoded
//     (pickled) once: CopyShare;
//   - the upload destination is one: UploadShare splits the files over every rank;
//   - download, integrity and extract (staged) run once per host, on its local rank 0
//     (OncePerHost); the host's other ranks wait for it and use its output;
//   - preview and the model file: rank 0 only.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "pipeline/stage.h"

namespace tb::pipeline {

struct Share {
  int index = 0;
  int count = 1;
};

// The positions in `names` of share `s` (in name order).
std::vector<size_t> ShareIndices(const std::vector<std::string>& names, Share s);
std::vector<std::string> ShareOf(const std::vector<std::string>& names, Share s);

// The batch files of dataset folder `dir` (training, and test when `with_test`) split by
// `share`: `mine` holds this share's batch names, `listed` every name the loaders may read
// (the verified list, else the folder's names) less the other shares' batches.
struct BatchShare {
  std::vector<std::string> batches;  // all batch names, training first
  size_t train_batches = 0;
  std::vector<std::string> mine;
  size_t mine_train = 0;
  std::vector<std::string> listed;
};
Result<BatchShare> ShareBatches(const Context& ctx, const std::string& dir, bool with_test, Share share);

// `path` made absolute against this process's working folder ("" stays "").
std::string AbsolutePath(const std::string& path);

int RankOf(const Context& ctx);
int WorldSizeOf(const Context& ctx);
bool HostLeader(const Context& ctx);  // local rank 0 (or a single rank)
Share CopyShare(const Context& ctx);
Share UploadShare(const Context& ctx);

// One rank's report in an Exchange.
struct RankReport {
  int rank = 0;
  std::string host;
  int local_rank = 0;
  std::string payload;  // what the rank passed (JSON text by convention)
};

// Every rank reports its outcome of a step (`mine_status`, and a payload) under `tag` and gets
// all ranks' reports, indexed by rank. A rank's own failure comes back as is; another rank's
// as an error naming that rank and its host, so every rank fails the step together. Every
// rank must call it (the ranks that failed too). Single rank: {its own report}.
Result<std::vector<RankReport>> Exchange(Context& ctx, const std::string& tag, const Status& mine_status,
                                         const std::string& payload = "");

// Runs `work` on this host's local rank 0; the text `publish` returns (its output paths)
// reaches the host's other ranks, who `adopt` it and report the stage done by that rank.
// Publish paths absolute (AbsolutePath): each rank has a scratch of its own (<scratch>/rankN,
// cli/cluster_join.h), and the host's other ranks read the leader's copy where it is. A
// failure of `work` reaches every rank, naming the leader that failed.
Status OncePerHost(Context& ctx, report::StageResult& result, const std::string& stage,
                   const std::function<Status()>& work, const std::function<std::string()>& publish,
                   const std::function<void(const std::string&)>& adopt);

}  // namespace tb::pipeline
