// Terminal renderings: the reference architecture's stage table for one run, and the side-by-side comparison.
#include <cstdio>

#include "report/compare.h"
#include "report/results.h"
#include "report/text_table.h"

namespace tb::report {
namespace {

using Align = TextTable::Align;
constexpr const char* kDash = "\u2014";

std::string StatusText(const std::string& status) {
  if (status == "failed") return "FAILED";
  if (status == "interrupted") return "INTERRUPTED";
  return status;
}

bool HasTimes(const std::string& status) { return status == "ok" || status == "failed" || status == "interrupted"; }

// Lines under a table: failed stages with their errors, and the overlap note.
std::string Notes(const RunResult& run, const std::string& prefix) {
  std::string out;
  for (const StageResult& s : run.stages)
    if (s.status == "failed" || s.status == "interrupted")
      out += TextTable::Sanitize(prefix + s.name + " " + StatusText(s.status) + (s.error.empty() ? "" : ": " + s.error)) +
             "\n";
  if (run.overlapped_seconds > 0) {
    out += TextTable::Sanitize(prefix) + "stages overlapped (" + FormatSeconds(run.overlapped_seconds) +
           " s ran concurrently), so Total Runtime is less than the sum of the stage times\n";
  }
  return out;
}

std::string CellText(const CompareCell& c) {
  if (!c.present || c.status == "skipped") return kDash;
  if (c.status == "failed") return "FAILED";
  if (c.status == "interrupted") return "INTERRUPTED";
  return FormatSeconds(c.seconds);
}

std::string SpeedupText(const CompareCell& c) { return c.speedup ? FormatSpeedup(*c.speedup) : "n/a"; }

// The runs' header under their names: "(scenario)", with the ranks when there are several.
std::string RunSubtitle(const RunResult& run) {
  std::string inside = run.scenario;
  if (run.world_size > 1) inside += (inside.empty() ? "" : ", ") + std::to_string(run.world_size) + " ranks";
  return inside.empty() ? "" : "(" + inside + ")";
}

std::string Percent(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f%%", x * 100);
  return buf;
}

// Seconds and MB/s per stage against ranks, with the ideal line (compare.h: Scaling).
std::string ScalingTable(const std::vector<RunResult>& runs) {
  std::vector<ScalingRow> rows = Scaling(runs);
  if (rows.empty()) return "";
  TextTable t({Align::kLeft, Align::kRight, Align::kLeft, Align::kRight, Align::kRight, Align::kRight, Align::kRight,
               Align::kRight});
  t.AddRow({"Stage", "Ranks", "Run", "Seconds", "Ideal s", "MB/s", "Ideal MB/s", "Efficiency"});
  t.AddRule();
  for (const ScalingRow& row : rows) {
    bool first = true;
    for (const ScalingPoint& p : row.points) {
      CompareCell cell{!p.status.empty(), p.status, p.seconds, {}};
      bool ok = p.status == "ok";
      t.AddRow({first ? row.stage : "", std::to_string(p.ranks), RunName(runs[p.run], p.run), CellText(cell),
                p.ideal_seconds ? FormatSeconds(*p.ideal_seconds) : kDash, ok ? FormatMbPerS(p.mb_per_s) : kDash,
                p.ideal_mb_per_s ? FormatMbPerS(*p.ideal_mb_per_s) : kDash,
                ok && p.ideal_seconds && p.seconds > 0 ? Percent(*p.ideal_seconds / p.seconds) : kDash});
      first = false;
    }
  }
  return "Scaling by ranks (ideal: linear from the run with the fewest ranks; efficiency = ideal s / s)\n" +
         t.Render();
}

}  // namespace

std::string RenderStageTable(const RunResult& run) {
  TextTable t({Align::kLeft, Align::kLeft, Align::kRight, Align::kRight, Align::kRight});
  t.AddRow({"Stage", "Status", "Seconds", "MB/s", "Files"});
  t.AddRule();
  for (const StageResult& s : run.stages) {
    bool timed = HasTimes(s.status);
    t.AddRow({s.name, StatusText(s.status), timed ? FormatSeconds(s.seconds) : kDash,
              timed ? FormatMbPerS(s.mb_per_s) : kDash, timed && s.files > 0 ? std::to_string(s.files) : kDash});
  }
  t.AddRule();
  t.AddRow({"Total Runtime", run.status == "ok" ? "" : StatusText(run.status), FormatSeconds(run.total_seconds), "",
            ""});
  std::string title = RunName(run, 0);
  if (!run.scenario.empty()) title += " (" + run.scenario + ")";
  return TextTable::Sanitize(title) + "\n" + t.Render() + Notes(run, "");
}

std::string RenderCompareTable(const std::vector<RunResult>& runs) {
  if (runs.empty()) return "";
  Comparison cmp = Compare(runs);
  const size_t n = runs.size();
  std::vector<Align> aligns(1 + n + (n - 1), Align::kRight);
  aligns[0] = Align::kLeft;
  TextTable t(aligns);

  std::vector<std::string> head1{"Stage"}, head2{""};
  for (size_t i = 0; i < n; ++i) {
    head1.push_back(RunName(runs[i], i));
    head2.push_back(RunSubtitle(runs[i]));
  }
  for (size_t i = 1; i < n; ++i) {
    head1.push_back("Speedup");
    head2.push_back(RunName(runs[i], i));
  }
  t.AddRow(head1);
  t.AddRow(head2);
  t.AddRule();
  auto add_row = [&](const CompareRow& row) {
    std::vector<std::string> cells{row.stage};
    for (const CompareCell& c : row.cells) cells.push_back(CellText(c));
    for (size_t i = 1; i < n; ++i) cells.push_back(SpeedupText(row.cells[i]));
    t.AddRow(std::move(cells));
  };
  for (const CompareRow& row : cmp.stages) add_row(row);
  t.AddRule();
  CompareRow total = cmp.total;
  std::vector<std::string> cells{total.stage};
  for (const CompareCell& c : total.cells)
    cells.push_back(FormatSeconds(c.seconds) + (c.status == "ok" ? "" : " (" + StatusText(c.status) + ")"));
  for (size_t i = 1; i < n; ++i) cells.push_back(SpeedupText(total.cells[i]));
  t.AddRow(std::move(cells));

  std::string out = "Seconds per stage (" + std::string(kDash) + " = skipped)\n" + t.Render();
  if (n > 1)
    out += "Speedup = " + TextTable::Sanitize(RunName(runs[0], 0)) +
           " seconds / run seconds (above 1\u00d7: faster than the first run; n/a: a side skipped or failed)\n";
  for (size_t i = 0; i < n; ++i) out += Notes(runs[i], RunName(runs[i], i) + ": ");
  out += ScalingTable(runs);
  return out;
}

}  // namespace tb::report
