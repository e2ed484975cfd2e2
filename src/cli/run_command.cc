// tierbench run: one scenario end to end; prints the stage table, writes results JSON + log.
#include <cstdio>

#include "cli/cluster_join.h"
#include "cli/commands.h"
#include "cli/run_flags.h"
#include "pipeline/job_guard.h"
#include "pipeline/runner.h"
#include "report/results.h"
#include "util/signals.h"
#include "util/terminal_text.h"

namespace tb::cli {

int RunCommand(const Args& args) {
  Flags flags = MakeRunFlags(
      "usage: tierbench run [--config job.toml] [options]\n\n"
      "Runs the nine stages (download integrity extract verify pickled meta upload preview train)\n"
      "of one scenario: staged (origin -> scratch -> S3 -> train) or inplace (data on a mounted\n"
      "filesystem). Prints the stage table, writes the results JSON (--out) and a log (--log).");
  if (Status s = flags.Parse(args); !s.ok()) return ReportError("run", s);
  if (flags.help_requested()) {
    std::fputs(flags.HelpText().c_str(), stdout);
    return 0;
  }
  if (!flags.positionals().empty())
    return ReportError("run", Status::InvalidArgument("unexpected argument '" + flags.positionals()[0] + "'"));
  auto overrides = RunOverrides(flags);
  if (!overrides.ok()) return ReportError("run", overrides.status());
  auto cfg = pipeline::LoadConfig(flags.Get("config"), *overrides);
  if (!cfg.ok()) return ReportError("run", cfg.status());
  // Several ranks (launch/world.h): each writes its own results, log and scratch for now.
  auto world = launch::DetectWorld(launch::ProcessEnv(), WorldOverridesOf(*cfg));
  if (!world.ok()) return ReportError("run", world.status());
  PerRankPaths(*world, &*cfg);
  // Before any stage: outputs that would overwrite inputs, and a scratch, model folder or
  // results file another run is using, are refused (exit 2). The locks last until return.
  if (Status s = pipeline::CheckJobPaths(*cfg, flags.Get("config")); !s.ok()) return ReportError("run", s);
  std::vector<std::string> unlocked;
  auto locks = pipeline::LockJob(*cfg, &unlocked);
  if (!locks.ok()) return ReportError("run", locks.status());
  for (const auto& why : unlocked) std::fprintf(stderr, "tierbench run: warning: not locked: %s\n", why.c_str());

  pipeline::RunOptions options;
  options.tool_version = TB_VERSION;
  options.cancel = InstallCancelHandlers();
  if (flags.Has("progress")) options.progress = flags.GetBool("progress", false) ? ProgressMode::kOn : ProgressMode::kOff;
  options.warn = [](const std::string& line) { std::fprintf(stderr, "tierbench run: warning: %s\n", line.c_str()); };
  if (flags.GetBool("verbose", false))
    options.echo = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  auto cluster = JoinCluster("run", *world);
  if (!cluster.ok()) return ReportError("run", cluster.status());
  options.cluster = cluster->get();

  report::RunResult run = pipeline::RunPipeline(*cfg, options);
  Status written = pipeline::WriteResults(run, cfg->out);
  if (flags.GetBool("json", false)) {
    std::fputs(report::ToJson(run).c_str(), stdout);
    std::fputc('\n', stdout);
  } else {
    std::fputs(report::RenderStageTable(run).c_str(), stdout);
    std::printf("results: %s\nlog:     %s\n", cfg->out.c_str(), cfg->log.c_str());
  }
  for (const auto& s : run.stages)
    if (!s.error.empty()) std::fprintf(stderr, "tierbench run: %s\n", TerminalSafe(s.error).c_str());
  if (!written.ok()) return ReportError("run", written.Prefix("writing results"));
  if (run.status == "interrupted") return InterruptedExitCode();
  return run.status == "ok" ? 0 : 1;
}

}  // namespace tb::cli
