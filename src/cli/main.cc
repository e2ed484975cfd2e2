// tierbench: the ML data pipeline on any storage tier. Dispatches to one verb.
#include <cstdio>
#include <malloc.h>

#include <cstring>
#include <string>

#include "cli/commands.h"

namespace {

constexpr const char* kUsage = R"(tierbench — run, time and compare the CIFAR-10 ML data pipeline on any storage tier

usage: tierbench <verb> [options]      (tierbench <verb> --help for details)

verbs:
  run       run one scenario (staged | inplace): prints the stage table, writes results JSON
  compare   side-by-side table of results files, speedups, --svg / --html
  dataset   generate | verify | inspect CIFAR-10 datasets
  cp        copy between tiers (path, http(s)://, s3://), parallel and verified
  train     the training stage alone (SageMaker training-container contract)
  preview   a random labelled grid of images to PNG
  doctor    check that an environment is ready for a job
  cluster-check  check that the ranks a launcher started meet (barrier, all-gather, all-reduce)
  version   print the version

exit status: 0 ok, 1 a stage failed, 2 bad usage or config, 130/143 interrupted
)";

}  // namespace

int main(int argc, char** argv) {
  // Stages stream through many short-lived buffers of 0.1-16 MiB (chunks, members): keep them
  // in the heap instead of a fresh mmap (page faults, zeroing) for each one.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 128 << 20);
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  std::string verb = argv[1];
  tb::cli::Args args(argv + 2, argv + argc);
  if (verb == "run") return tb::cli::RunCommand(args);
  if (verb == "compare") return tb::cli::CompareCommand(args);
  if (verb == "dataset") return tb::cli::DatasetCommand(args);
  if (verb == "cp") return tb::cli::CpCommand(args);
  if (verb == "train") return tb::cli::TrainCommand(args);
  if (verb == "preview") return tb::cli::PreviewCommand(args);
  if (verb == "doctor") return tb::cli::DoctorCommand(args);
  if (verb == "cluster-check") return tb::cli::ClusterCheckCommand(args);
  if (verb == "version" || verb == "--version") {
    std::printf("tierbench %s\n", TB_VERSION);
    return 0;
  }
  std::fprintf(stderr, "tierbench: unknown verb '%s'\n\n%s", verb.c_str(), kUsage);
  return 2;
}
