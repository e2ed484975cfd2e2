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

// Where training waited for data, when measured: "train: AU 0.97 (compute 12.30 s, data wait
// 0.38 s), first batch after 1.21 s, 1081 samples/s".
std::string TrainDataNote(const TrainResult& t) {
  if (!t.au || !t.compute_seconds || !t.data_wait_seconds) return "";
  char buf[96];
  std::snprintf(buf, sizeof buf, "train: AU %.2f (compute ", *t.au);
  std::string out =
      buf + FormatSeconds(*t.compute_seconds) + " s, data wait " + FormatSeconds(*t.data_wait_seconds) + " s)";
  if (t.first_batch_seconds) out += ", first batch after " + FormatSeconds(*t.first_batch_seconds) + " s";
  if (t.samples_per_second) {
    std::snprintf(buf, sizeof buf, ", %.0f samples/s", *t.samples_per_second);
    out += buf;
  }
  return out + "\n";
}

std::string CellText(const CompareCell& c) {
  if (!c.present || c.status == "skipped") return kDash;
  if (c.status == "failed") return "FAILED";
  if (c.status == "interrupted") return "INTERRUPTED";
  return FormatSeconds(c.seconds);
}

std::string SpeedupText(const CompareCell& c) { return c.speedup ? FormatSpeedup(*c.speedup) : "n/a"; }

// A stage's cells in the stage table: stage, status, seconds, MB/s, files.
std::vector<std::string> StageCells(const StageResult& s) {
  bool timed = HasTimes(s.status);
  return {s.name, StatusText(s.status), timed ? FormatSeconds(s.seconds) : kDash,
          timed ? FormatMbPerS(s.mb_per_s) : kDash, timed && s.files > 0 ? std::to_string(s.files) : kDash};
}

// Fixed widths for rows printed one at a time (RenderStageRow): wide enough for "Total
// Runtime", "INTERRUPTED" and a day in seconds.
constexpr size_t kRowWidths[] = {13, 11, 9, 9, 7};

std::string FixedRow(const std::vector<std::string>& cells) {
  std::string line;
  for (size_t i = 0; i < cells.size(); ++i) {
    std::string cell = TextTable::Sanitize(cells[i]);
    size_t w = TextTable::DisplayWidth(cell);
    std::string pad(w < kRowWidths[i] ? kRowWidths[i] - w : 0, ' ');
    line += (i ? "  " : "") + (i < 2 ? cell + pad : pad + cell);
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line + "\n";
}

}  // namespace

std::string RenderStageTableHeader() { return FixedRow({"Stage", "Status", "Seconds", "MB/s", "Files"}); }
std::string RenderStageRow(const StageResult& s) { return FixedRow(StageCells(s)); }

std::string RenderStageTable(const RunResult& run) {
  TextTable t({Align::kLeft, Align::kLeft, Align::kRight, Align::kRight, Align::kRight});
  t.AddRow({"Stage", "Status", "Seconds", "MB/s", "Files"});
  t.AddRule();
  for (const StageResult& s : run.stages) t.AddRow(StageCells(s));
  t.AddRule();
  t.AddRow({"Total Runtime", run.status == "ok" ? "" : StatusText(run.status), FormatSeconds(run.total_seconds), "",
            ""});
  std::string title = RunName(run, 0);
  if (!run.scenario.empty()) title += " (" + run.scenario + ")";
  return TextTable::Sanitize(title) + "\n" + t.Render() + Notes(run, "") + TrainDataNote(run.train);
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
    head2.push_back(runs[i].scenario.empty() ? "" : "(" + runs[i].scenario + ")");
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
  return out;
}

}  // namespace tb::report
