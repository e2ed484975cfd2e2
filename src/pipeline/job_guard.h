// What a run reads and writes, checked and locked before any stage starts (util/path_guard.h,
// util/path_lock.h): no output of the job (results, log, preview, model, the scratch copies)
// may be one of its inputs (the job file, the origin tarball, its .md5, the manifest, the
// in-place dataset), and no two runs may share a scratch folder, a model folder or a results
// file at the same time.
#pragma once

#include <string>
#include <vector>

#include "pipeline/config.h"
#include "util/path_lock.h"
#include "util/status.h"

namespace tb::pipeline {

// InvalidArgument naming the key, the path and the input it would overwrite (or the folder it
// would write into). `job_file` is the --config path ("" when none); `live_json` the file
// `run --live-json` appends to ("" when none).
Status CheckJobPaths(const JobConfig& cfg, const std::string& job_file, const std::string& live_json = "");

// Locks the scratch folder, the model folder (when train is on) and the results file for the
// whole run; InvalidArgument naming the holder's pid when another run holds one of them. A
// lock that cannot be taken for another reason (the folder cannot be created) is left out and
// its cause added to `unlocked`: the stage that writes there reports that failure, with results.
Result<std::vector<PathLock>> LockJob(const JobConfig& cfg, std::vector<std::string>* unlocked);

}  // namespace tb::pipeline
