// tierbench compare A.json B.json … [--svg FILE] [--html FILE] [--json]
// Side-by-side table of results files (speedups against the first), chart and report page.
#include <cstdio>

#include "cli/commands.h"
#include "cli/flags.h"
#include "report/results.h"
#include "util/fs.h"
#include "util/path_guard.h"

namespace tb::cli {
namespace {

// The chart and the page must not overwrite a results file being compared, nor each other.
Status CheckCompareOutputs(const Flags& flags) {
  PathGuard guard;
  for (const std::string& path : flags.positionals()) guard.AddInputFile("the results file", path);
  for (const char* flag : {"svg", "html"}) {
    if (auto path = flags.Find(flag)) TB_RETURN_IF_ERROR(guard.AddOutputFile(std::string("--") + flag, *path));
  }
  return Status::Ok();
}

}  // namespace

int CompareCommand(const Args& args) {
  Flags flags(
      "usage: tierbench compare RESULTS.json [RESULTS.json …] [--svg FILE] [--html FILE] [--json] [--columns LIST]\n\n"
      "Shows the results of runs side by side: seconds per stage and in total, and the speedup of each\n"
      "run against the first (first run's seconds / this run's seconds).\n\n"
      "Break-even (runs whose train stage has epoch times): cumulative wall seconds after n epochs =\n"
      "one-off + epoch seconds, one-off = the stages before train (overlap counted once) + the train\n"
      "stage's time outside its epochs (fetch, set-up, evaluation); beyond the measured epochs each\n"
      "epoch costs the steady epoch (mean of the measured epochs after the first, else the one). Shown\n"
      "against the first run: the epoch from which the run with the higher one-off cost is cheaper,\n"
      "\"never\", or \"from the start\" (equal one-off costs); the chart stops at 100 epochs.",
      {{"svg",
        "write a grouped bar chart (seconds per stage, one bar per run) to FILE, and the scaling and "
        "break-even charts when they apply",
        false, "FILE"},
       {"html", "write a self-contained report page (table, chart, hosts, configs) to FILE", false, "FILE"},
       {"columns",
        "extra columns, comma-separated: device,cache,net,cpu (or all): where each stage's bytes "
        "came from and its CPU time",
        false, "LIST"},
       {"json", "print the comparison as JSON instead of a table", true}});
  if (Status s = flags.Parse(args); !s.ok()) return ReportError("compare", s);
  if (flags.help_requested()) {
    std::fputs(flags.HelpText().c_str(), stdout);
    return 0;
  }
  if (flags.positionals().empty())
    return ReportError("compare", Status::InvalidArgument("no results files given (try --help)"));
  if (Status s = CheckCompareOutputs(flags); !s.ok()) return ReportError("compare", s);
  auto columns = report::ParseIoColumns(flags.Get("columns"));
  if (!columns.ok()) return ReportError("compare", columns.status());

  std::vector<report::RunResult> runs;
  for (const std::string& path : flags.positionals()) {
    Result<report::RunResult> run = report::LoadRunResult(path);
    if (!run.ok()) {
      // Unreadable or invalid input is a usage problem: exit 2, naming the file.
      std::fprintf(stderr, "tierbench compare: %s\n", run.status().message().c_str());
      return 2;
    }
    runs.push_back(std::move(run).value());
  }

  std::string out =
      flags.GetBool("json", false) ? report::RenderCompareJson(runs) : report::RenderCompareTable(runs, *columns);
  std::fputs(out.c_str(), stdout);
  std::fflush(stdout);

  if (auto svg = flags.Find("svg")) {
    if (Status s = WriteFileAtomic(*svg, report::RenderCompareSvg(runs)); !s.ok())
      return ReportError("compare", s.Prefix("writing chart"));
  }
  if (auto html = flags.Find("html")) {
    if (Status s = WriteFileAtomic(*html, report::RenderCompareHtml(runs)); !s.ok())
      return ReportError("compare", s.Prefix("writing report page"));
  }
  return 0;
}

}  // namespace tb::cli
