// Terminal renderings: the reference architecture's stage table for one run, and the side-by-side comparison.
#include <cstdio>

#include "report/compare.h"
#include "report/io_columns.h"
#include "report/results.h"
#include "report/text_table.h"

namespace tb::report {
namespace {

using Align = TextTable::Align;
constexpr const char* kDash = "\u2014";

std::string StatusText(StageStatus status) {
  if (status == StageStatus::kFailed) return "FAILED";
  if (status == StageStatus::kInterrupted) return "INTERRUPTED";
  return StatusName(status);
}

bool HasTimes(StageStatus status) { return status != StageStatus::kSkipped; }

// Lines under a table: failed stages with their errors, and the overlap note.
std::string Notes(const RunResult& run, const std::string& prefix) {
  std::string out;
  for (const StageResult& s : run.stages)
    if (DidNotComplete(s.status))
      out += TextTable::Sanitize(prefix + s.name + " " + StatusText(s.status) + (s.error.empty() ? "" : ": " + s.error)) +
             "\n";
  if (run.overlapped_seconds > 0) {
    out += TextTable::Sanitize(prefix) + "stages overlapped (" + FormatSeconds(run.overlapped_seconds) +
           " s ran concurrently), so Total Runtime is less than the sum of the stage times\n";
  }
  out += IoNotes(run, prefix);
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
  if (!c.present || c.status == StageStatus::kSkipped) return kDash;
  if (DidNotComplete(c.status)) return StatusText(c.status);
  return FormatSeconds(c.seconds);
}

std::string SpeedupText(const CompareCell& c) { return FormatSpeedupInterval(c); }

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
      CompareCell cell{p.status.has_value(), p.status.value_or(StageStatus::kSkipped), p.seconds, {}};
      bool ok = p.status == StageStatus::kOk;
      t.AddRow({first ? row.stage : "", std::to_string(p.ranks), RunName(runs[p.run], p.run), CellText(cell),
                p.ideal_seconds ? FormatSeconds(*p.ideal_seconds) : kDash, ok ? FormatMbPerS(p.mb_per_s) : kDash,
                p.ideal_mb_per_s ? FormatMbPerS(*p.ideal_mb_per_s) : kDash,
                ok && p.ideal_seconds && p.seconds > 0 ? Percent(*p.ideal_seconds / p.seconds) : kDash});
      first = false;
    }
  }
  return "Scaling by ranks (ideal: linear from the run with the fewest ranks; efficiency = ideal s / s)\n" + t.Render();
}

// The selected provenance columns of each run, side by side (a row per stage).
std::string IoCompareTable(const std::vector<RunResult>& runs, const Comparison& cmp, const IoColumns& columns) {
  std::vector<std::string> heads = IoColumnHeads(columns);
  std::vector<Align> aligns(1 + runs.size() * heads.size(), Align::kRight);
  aligns[0] = Align::kLeft;
  TextTable t(aligns);
  std::vector<std::string> head1{"Stage"}, head2{""};
  for (size_t i = 0; i < runs.size(); ++i)
    for (const std::string& h : heads) {
      head1.push_back(h);
      head2.push_back(RunName(runs[i], i));
    }
  t.AddRow(head1);
  t.AddRow(head2);
  t.AddRule();
  for (const CompareRow& row : cmp.stages) {
    std::vector<std::string> cells{row.stage};
    for (const RunResult& run : runs) {
      StageResult absent;
      const StageResult* found = &absent;
      for (const StageResult& s : run.stages)
        if (s.name == row.stage) found = &s;
      std::vector<std::string> io = IoColumnCells(*found, columns);
      cells.insert(cells.end(), io.begin(), io.end());
    }
    t.AddRow(std::move(cells));
  }
  return "\nWhere the bytes came from (MB = 10^6 bytes; * = potential caching)\n" + t.Render();
}

// The break-even view (compare.h: BreakEvens) as rows under Total Runtime: each run's one-off and
// steady epoch seconds, and where its cumulative time crosses the first run's. "" when no run
// has epoch times.
std::string BreakEvenRows(const std::vector<RunResult>& runs, TextTable& t) {
  BreakEvenView v = BreakEvens(runs);
  if (!v.any()) return "";
  const size_t n = runs.size();
  t.AddRule();
  std::vector<std::string> one_off{"one-off s"}, epoch{"epoch s (steady)"}, even{"break-even"};
  for (size_t i = 0; i < n; ++i) {
    const std::optional<EpochCurve>& c = v.curves[i];
    one_off.push_back(c ? FormatSeconds(c->one_off) : kDash);
    epoch.push_back(c ? FormatSeconds(c->steady) : kDash);
    even.push_back(i == 0 ? (c ? "(first)" : kDash) : FormatBreakEven(v.against_first[i], runs));
  }
  for (auto* row : {&one_off, &epoch, &even}) {
    row->resize(1 + n + (n - 1));
    t.AddRow(std::move(*row));
  }
  std::string out = "Break-even: " + std::string(kBreakEvenFormula) + "\n  " + kBreakEvenOutcomes + "\n";
  if (v.epochs_differ) {
    out += "Epochs measured differ (";
    for (size_t i = 0, k = 0; i < n; ++i)
      if (v.curves[i])
        out += (k++ ? ", " : "") + TextTable::Sanitize(RunName(runs[i], i)) + " " +
               std::to_string(v.curves[i]->epoch_seconds.size());
    out += "): they compare through the extrapolation\n";
  }
  return out;
}

// Repeated runs: what the seconds are.
std::string RepeatNote(const RunResult& run) {
  if (!run.repeat) return "";
  const RunRepeat& r = *run.repeat;
  std::string out = std::to_string(r.totals.n()) + " of " + std::to_string(r.requested) + " repetitions";
  if (r.warmup > 0) out += " after " + std::to_string(r.warmup) + " warmup run(s)";
  if (run.status != StageStatus::kOk) return out + "; the last one did not complete: its times are shown\n";
  return out + ": seconds are the medians (each stage's repeat.seconds and 95 % interval are in the results JSON)\n";
}

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

std::string RenderStageTable(const RunResult& run, const IoColumns& columns) {
  std::vector<std::string> io_heads = IoColumnHeads(columns);
  std::vector<Align> aligns{Align::kLeft, Align::kLeft, Align::kRight, Align::kRight, Align::kRight};
  aligns.resize(aligns.size() + io_heads.size(), Align::kRight);
  TextTable t(aligns);
  std::vector<std::string> head{"Stage", "Status", "Seconds", "MB/s", "Files"};
  head.insert(head.end(), io_heads.begin(), io_heads.end());
  t.AddRow(head);
  t.AddRule();
  for (const StageResult& s : run.stages) {
    std::vector<std::string> row = StageCells(s);
    std::vector<std::string> io = IoColumnCells(s, columns);
    row.insert(row.end(), io.begin(), io.end());
    t.AddRow(std::move(row));
  }
  t.AddRule();
  std::vector<std::string> total{"Total Runtime", run.status == StageStatus::kOk ? "" : StatusText(run.status),
                                 FormatSeconds(run.total_seconds), "", ""};
  total.resize(total.size() + io_heads.size());
  t.AddRow(std::move(total));
  std::string title = RunName(run, 0);
  if (!run.scenario.empty()) title += " (" + run.scenario + ")";
  std::string legend =
      columns.any() ? "MB = 10^6 bytes; * = potential caching (most input bytes not from a device)\n" : "";
  std::string streamed;
  for (const StageResult& s : run.stages)
    if (s.io.present && s.io.scope == "streamed") streamed += (streamed.empty() ? "" : ",") + s.name;
  if (columns.any() && !streamed.empty())
    legend += TextTable::Sanitize(streamed) + " ran as one overlapped pass: their provenance columns are that pass's\n";
  return TextTable::Sanitize(title) + "\n" + t.Render() + "Seconds: each stage's wall span, first start to last end\n" +
         RepeatNote(run) + legend + Notes(run, "") + TrainDataNote(run.train);
}

std::string RenderCompareTable(const std::vector<RunResult>& runs, const IoColumns& columns) {
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
    cells.push_back(FormatSeconds(c.seconds) + (c.status == StageStatus::kOk ? "" : " (" + StatusText(c.status) + ")"));
  for (size_t i = 1; i < n; ++i) cells.push_back(SpeedupText(total.cells[i]));
  t.AddRow(std::move(cells));
  std::string break_even = BreakEvenRows(runs, t);

  std::string out =
      "Seconds per stage: wall span, first start to last end (" + std::string(kDash) + " = skipped)\n" + t.Render();
  if (n > 1)
    out += "Speedup = " + TextTable::Sanitize(RunName(runs[0], 0)) +
           " seconds / run seconds (above 1\u00d7: faster than the first run; n/a: a side skipped or failed)\n";
  out += break_even;
  if (HasIntervals(cmp))
    out += "Repeated runs: seconds are medians; (low\u2013high) = the speedup's range from the 95 % intervals; " +
           std::string(kNotSignificantLegend) + "\n";
  if (columns.any()) out += IoCompareTable(runs, cmp, columns);
  for (size_t i = 0; i < n; ++i) out += Notes(runs[i], RunName(runs[i], i) + ": ");
  out += ScalingTable(runs);
  return out;
}

}  // namespace tb::report
