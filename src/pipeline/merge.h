// Several ranks, one results file: every rank sends its RunResult to rank 0 at the end of the
// run (Cluster::AllGather of the results JSON) and rank 0 merges them.
//
// Per stage: seconds = the cluster span (first start to last end, by the wall clock each
// stage records), bytes and files = the sums over the ranks, mb_per_s = the aggregate (summed
// bytes over the span), status = the worst of the ranks (failed, interrupted, ok, skipped),
// each rank's part and the slowest rank. Per run: every rank's host, world_size and launcher;
// the total is the longest rank's; the rest (config, training summary) is rank 0's.
#pragma once

#include <string>
#include <vector>

#include "report/results.h"
#include "util/status.h"

namespace tb::launch {
class Cluster;
}

namespace tb::pipeline {

// `ranks[r]` is rank r's own result. An empty `ranks` gives an empty result.
report::RunResult MergeRankResults(const std::vector<report::RunResult>& ranks, const std::string& launcher);

// Collective: every rank calls it with its own result. Rank 0 gets the merged result; the
// others get `mine` back unchanged (they write no results file of the run). A single rank
// gets `mine`. Errors: the gather's (a rank missing) or a rank's JSON that does not parse.
Result<report::RunResult> GatherAndMerge(launch::Cluster& cluster, const report::RunResult& mine);

}  // namespace tb::pipeline
