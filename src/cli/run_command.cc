// tierbench run: one scenario end to end; prints the stage table, writes results JSON + log.
#include <cstdio>

#include "cli/cluster_join.h"
#include "cli/commands.h"
#include "cli/live_view.h"
#include "cli/run_flags.h"
#include "pipeline/job_guard.h"
#include "pipeline/repeat.h"
#include "pipeline/runner.h"
#include "report/results.h"
#include "util/signals.h"
#include "util/terminal_text.h"

namespace tb::cli {

int RunCommand(const Args& args) {
  Flags flags = MakeRunFlags(
      "usage: tierbench run [--config job.toml] [options]\n\n"
      "Runs the nine stages (download integrity extract verify pickled meta upload preview train)\n"
      "of one scenario: staged (origin -> scratch -> S3 -> train), inplace (data on a mounted\n"
      "filesystem) or streamed (data already in S3, --dataset-uri: read there, trained in fastfile\n"
      "mode). Prints the stage table, writes the results JSON (--out) and a log (--log).");
  if (Status s = flags.Parse(args); !s.ok()) return ReportError("run", s);
  if (flags.help_requested()) {
    std::fputs(flags.HelpText().c_str(), stdout);
    return 0;
  }
  if (!flags.positionals().empty())
    return ReportError("run", Status::InvalidArgument("unexpected argument '" + flags.positionals()[0] + "'"));
  auto columns = report::ParseIoColumns(flags.Get("columns"));
  if (!columns.ok()) return ReportError("run", columns.status());
  auto overrides = RunOverrides(flags);
  if (!overrides.ok()) return ReportError("run", overrides.status());
  auto cfg = pipeline::LoadConfig(flags.Get("config"), *overrides);
  if (!cfg.ok()) return ReportError("run", cfg.status());
  // Several ranks (launch/world.h): rank 0 writes the merged results to --out; each rank its
  // own log and scratch, the others their own results too (cluster_join.h PerRankPaths).
  auto world = launch::DetectWorld(launch::ProcessEnv(), WorldOverridesOf(*cfg));
  if (!world.ok()) return ReportError("run", world.status());
  PerRankPaths(*world, &*cfg);
  // Before any stage: outputs that would overwrite inputs, and a scratch, model folder or
  // results file another run is using, are refused (exit 2). The locks last until return.
  if (Status s = pipeline::CheckJobPaths(*cfg, flags.Get("config"), flags.Get("live-json")); !s.ok())
    return ReportError("run", s);
  std::vector<std::string> unlocked;
  auto locks = pipeline::LockJob(*cfg, &unlocked);
  if (!locks.ok()) return ReportError("run", locks.status());
  for (const auto& why : unlocked) std::fprintf(stderr, "tierbench run: warning: not locked: %s\n", why.c_str());

  pipeline::RunOptions options;
  options.tool_version = TB_VERSION;
  options.cancel = InstallCancelHandlers();
  if (flags.Has("progress")) options.progress = flags.GetBool("progress", false) ? ProgressMode::kOn : ProgressMode::kOff;
  // The live view: rows as stages end unless --no-progress; the live line where progress is
  // on (by default on a terminal); --live-json appends the samples for dashboards.
  LiveViewOptions live;
  live.rows = flags.GetBool("progress", true);
  live.line = ProgressEnabled(options.progress);
  live.json_path = flags.Get("live-json");
  auto view = LiveView::Open(live);
  if (!view.ok()) return ReportError("run", view.status());
  (*view)->Attach(&options);
  LiveView* shown = view->get();
  options.warn = [shown](const std::string& line) { shown->Message("tierbench run: warning: " + line); };
  if (flags.GetBool("verbose", false)) options.echo = [shown](const std::string& line) { shown->Message(line); };
  auto cluster = JoinCluster("run", *world);
  if (!cluster.ok()) return ReportError("run", cluster.status());
  options.cluster = cluster->get();

  // --repeat/--warmup: each run announced on stderr (pipeline/repeat.h); one run otherwise.
  report::RunResult run = pipeline::RunRepeated(
      *cfg, options, [shown](const std::string& line) { shown->Message("tierbench run: " + line); });
  (*view)->Close();
  Status written = pipeline::WriteResults(run, cfg->out);
  if (flags.GetBool("json", false)) {
    std::fputs(report::ToJson(run).c_str(), stdout);
    std::fputc('\n', stdout);
  } else {
    std::fputs(report::RenderStageTable(run, *columns).c_str(), stdout);
    std::printf("results: %s\nlog:     %s\n", cfg->out.c_str(), cfg->log.c_str());
  }
  for (const auto& s : run.stages)
    if (!s.error.empty()) std::fprintf(stderr, "tierbench run: %s\n", TerminalSafe(s.error).c_str());
  if (!written.ok()) return ReportError("run", written.Prefix("writing results"));
  if (run.status == report::StageStatus::kInterrupted) return InterruptedExitCode();
  return run.status == report::StageStatus::kOk ? 0 : 1;
}

}  // namespace tb::cli
