// One entry point per verb. Each returns the process exit status:
// 0 success, 1 a stage/operation failed, 2 bad usage or config, 130/143 interrupted.
#pragma once

#include <string>
#include <vector>

#include "util/status.h"

namespace tb::launch {
class Cluster;
}

namespace tb::cli {

using Args = std::vector<std::string>;  // arguments after the verb

int RunCommand(const Args& args);      // run_command.cc
int CompareCommand(const Args& args);  // compare_command.cc
int DatasetCommand(const Args& args);  // dataset_command.cc
int CpCommand(const Args& args);       // cp_command.cc
// train_command.cc; `cluster`: the ranks of the run, training data parallel (null: one rank).
int TrainCommand(const Args& args, launch::Cluster* cluster = nullptr);
int PreviewCommand(const Args& args);  // preview_command.cc
int DoctorCommand(const Args& args);   // doctor_command.cc
int ClusterCheckCommand(const Args& args);  // cluster_command.cc

// Prints "tierbench <verb>: <message>" to stderr (control characters escaped, see
// util/terminal_text.h); returns 2 for InvalidArgument, 128 + the signal that cancelled (130
// SIGINT, 143 SIGTERM, see util/signals.h) for Cancelled, else 1.
int ReportError(const std::string& verb, const Status& status);

}  // namespace tb::cli
