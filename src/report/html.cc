// One self-contained HTML page: summary, comparison table, inline SVG chart, and each run's
// host, training summary and configuration. No scripts, no external resources.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "report/compare.h"
#include "report/io_columns.h"
#include "report/results.h"
#include "report/svg.h"
#include "util/json.h"

namespace tb::report {
namespace {

constexpr const char* kCss = R"css(
:root { --fg:#111827; --muted:#6b7280; --line:#e5e7eb; --bg:#f6f7f9; --card:#ffffff; --good:#15803d; --bad:#b91c1c; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--fg);
  font: 14px/1.5 "DejaVu Sans", -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 28px 28px 48px; }
header h1 { margin:0; font-size: 26px; letter-spacing:-0.01em; }
header p { margin:4px 0 0; color:var(--muted); }
h2 { font-size: 17px; margin: 0 0 12px; }
h3 { font-size: 15px; margin: 18px 0 8px; }
section, article { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:20px 22px; margin-top:20px; }
.cards { display:flex; flex-wrap:wrap; gap:14px; background:none; border:none; padding:0; }
.card { flex:1 1 220px; background:var(--card); border:1px solid var(--line); border-radius:10px; padding:14px 16px; border-top:4px solid var(--c); }
.card .name { font-weight:bold; font-size:15px; overflow-wrap:anywhere; }
.card .scenario { color:var(--muted); font-size:12px; }
.card .total { font-size:26px; font-weight:bold; margin-top:6px; font-variant-numeric: tabular-nums; }
.card .total small { font-size:13px; color:var(--muted); font-weight:normal; }
.badge { display:inline-block; padding:1px 8px; border-radius:10px; font-size:11px; font-weight:bold; text-transform:uppercase; }
.badge.ok { background:#dcfce7; color:var(--good); }
.badge.failed, .badge.interrupted { background:#fee2e2; color:var(--bad); }
table { border-collapse: collapse; width:100%; font-variant-numeric: tabular-nums; }
th, td { padding:7px 10px; border-bottom:1px solid var(--line); text-align:right; white-space:nowrap; }
th:first-child, td:first-child { text-align:left; }
thead th { font-size:12px; color:var(--muted); font-weight:bold; vertical-align:bottom; border-bottom:2px solid #d1d5db; }
thead th .lbl { color:var(--fg); font-size:13px; display:block; white-space:normal; overflow-wrap:anywhere; }
thead th .swatch { display:inline-block; width:10px; height:10px; border-radius:2px; margin-right:5px; background:var(--c); }
tbody tr:hover { background:#f9fafb; }
tr.total td { font-weight:bold; border-top:2px solid #d1d5db; border-bottom:none; }
td.skipped { color:#9ca3af; }
table.stages td, table.stages th { padding:4px 10px; font-size:13px; }
table.stages td:nth-child(2), table.stages th:nth-child(2) { text-align:left; }
table.stages td.note-cell, table.stages th:last-child { text-align:left; white-space:normal; color:var(--muted); width:40%; }
td.failed { color:var(--bad); font-weight:bold; }
td.faster { color:var(--good); }
td.slower { color:var(--bad); }
td.na { color:#9ca3af; }
th.sp, td.sp { background:#fafafa; }
.note { color:var(--muted); font-size:12px; margin:10px 0 0; }
.errors { color:var(--bad); margin:10px 0 0; padding-left:18px; }
.chart svg { width:100%; height:auto; display:block; }
.runs { display:grid; grid-template-columns: 1fr; gap: 0; }
dl.kv { display:grid; grid-template-columns: max-content 1fr; gap:4px 18px; margin:0; }
dl.kv dt { color:var(--muted); }
dl.kv dd { margin:0; overflow-wrap:anywhere; }
article h2 { display:flex; align-items:center; gap:8px; }
article h2 small { font-weight:normal; color:var(--muted); font-size:13px; }
article h2 .swatch { width:12px; height:12px; border-radius:3px; background:var(--c); display:inline-block; }
.cols { display:grid; grid-template-columns: 1fr 1fr; gap: 8px 28px; }
pre { background:#0f172a; color:#e2e8f0; padding:12px 14px; border-radius:8px; overflow:auto; font-size:12px; line-height:1.45; max-height:420px; margin:0; }
@media (max-width: 760px) { .cols { grid-template-columns: 1fr; } main { padding: 16px; } }
@media print { body { background:#fff; } section, article, .card { break-inside: avoid; } }
footer { color:var(--muted); font-size:12px; margin-top:18px; text-align:center; }
)css";

constexpr const char* kDash = "\u2014";

std::string E(std::string_view s) { return EscapeXml(s); }

std::string Fmt(const char* fmt, double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, x);
  return buf;
}

std::string Badge(StageStatus status) {
  std::string cls = status == StageStatus::kOk ? "ok" : status == StageStatus::kFailed ? "failed" : "interrupted";
  return "<span class=\"badge " + cls + "\">" + E(StatusName(status)) + "</span>";
}

std::string PrettyJson(const std::string& text) {
  auto j = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  return j.is_discarded() ? text : JsonText(j, 2);
}

std::string SecondsCell(const CompareCell& c) {
  if (!c.present || c.status == StageStatus::kSkipped) return "<td class=\"skipped\">" + std::string(kDash) + "</td>";
  if (DidNotComplete(c.status))
    return "<td class=\"failed\" title=\"" + E(FormatSeconds(c.seconds)) + " s before it stopped\">" +
           (c.status == StageStatus::kFailed ? "FAILED" : "INTERRUPTED") + "</td>";
  return "<td>" + FormatSeconds(c.seconds) + "</td>";
}

std::string SpeedupCell(const CompareCell& c) {
  if (!c.speedup) return "<td class=\"sp na\">n/a</td>";
  const bool not_significant = c.significant && !*c.significant;  // no colour for what may be noise
  const char* cls = not_significant ? "sp" : *c.speedup > 1.005 ? "sp faster" : *c.speedup < 0.995 ? "sp slower" : "sp";
  std::string title = not_significant ? " title=\"not significant: the 95 % intervals overlap\"" : "";
  return std::string("<td class=\"") + cls + "\"" + title + ">" + E(FormatSpeedupInterval(c)) + "</td>";
}

// "staged", or "staged · 4 ranks" for a run of several ranks.
std::string ScenarioText(const RunResult& run) {
  return run.world_size > 1 ? run.scenario + " \u00b7 " + std::to_string(run.world_size) + " ranks" : run.scenario;
}

std::string RunHeader(const RunResult& run, size_t i) {
  return "<span class=\"lbl\" style=\"--c:" + std::string(RunColour(i)) + "\"><span class=\"swatch\"></span>" +
         E(RunName(run, i)) + "</span>" + E(ScenarioText(run));
}

// The scaling view (compare.h: Scaling): the table, then the two-panel chart.
std::string ScalingHtml(const std::vector<RunResult>& runs) {
  std::vector<ScalingRow> rows = Scaling(runs);
  if (rows.empty()) return "";
  std::string h =
      "<section class=\"scaling\">\n<h2>Scaling by ranks</h2>\n<table class=\"scaling\">\n<thead><tr><th>Stage</th>"
      "<th>Ranks</th><th>Run</th><th>Seconds</th><th>Ideal s</th><th>MB/s</th><th>Ideal MB/s</th>"
      "<th>Efficiency</th></tr></thead>\n<tbody>\n";
  for (const ScalingRow& row : rows) {
    bool first = true;
    for (const ScalingPoint& p : row.points) {
      CompareCell cell{p.status.has_value(), p.status.value_or(StageStatus::kSkipped), p.seconds, {}};
      const bool ok = p.status == StageStatus::kOk;
      h += "<tr><td>" + (first ? E(row.stage) : std::string()) + "</td><td>" + std::to_string(p.ranks) + "</td><td>" +
           E(RunName(runs[p.run], p.run)) + "</td>" + SecondsCell(cell) + "<td>" +
           (p.ideal_seconds ? FormatSeconds(*p.ideal_seconds) : kDash) + "</td><td>" +
           (ok ? FormatMbPerS(p.mb_per_s) : kDash) + "</td><td>" +
           (p.ideal_mb_per_s ? FormatMbPerS(*p.ideal_mb_per_s) : kDash) + "</td><td>" +
           (ok && p.ideal_seconds && p.seconds > 0 ? Fmt("%.0f", *p.ideal_seconds / p.seconds * 100) + " %" : kDash) +
           "</td></tr>\n";
      first = false;
    }
  }
  h += "</tbody>\n</table>\n<p class=\"note\">Seconds are the cluster span of each stage (first rank's start to "
       "the last rank's end); MB/s the aggregate over all ranks. Ideal: linear from the run with the fewest ranks; "
       "efficiency = ideal seconds ÷ seconds.</p>\n";
  h += "<div class=\"chart\">\n" + RenderScalingSvgElement(runs) + "</div>\n</section>\n";
  return h;
}

// The break-even view (compare.h: BreakEvens): each run's one-off and epoch costs, where it
// crosses the first run, and the cumulative chart. "" when no run has epoch times.
std::string BreakEvenHtml(const std::vector<RunResult>& runs) {
  const BreakEvenView v = BreakEvens(runs);
  if (!v.any()) return "";
  std::string h =
      "<section class=\"break-even\">\n<h2>Break-even: when staging pays off</h2>\n<table class=\"break-even\">\n"
      "<thead><tr><th>Run</th><th>One-off s</th><th>Epochs measured</th><th>Epoch s (steady)</th>"
      "<th>Break-even vs " +
      E(RunName(runs[0], 0)) + "</th></tr></thead>\n<tbody>\n";
  for (size_t i = 0; i < runs.size(); ++i) {
    const std::optional<EpochCurve>& c = v.curves[i];
    h += "<tr><td>" + E(RunName(runs[i], i)) + "</td><td>" + (c ? FormatSeconds(c->one_off) : kDash) + "</td><td>" +
         (c ? std::to_string(c->epoch_seconds.size()) : kDash) + "</td><td>" + (c ? FormatSeconds(c->steady) : kDash) +
         "</td><td>" + (i == 0 ? (c ? "(first)" : kDash) : E(FormatBreakEven(v.against_first[i], runs))) +
         "</td></tr>\n";
  }
  h += "</tbody>\n</table>\n<p class=\"note\">Break-even: " + E(kBreakEvenFormula) + "; " + E(kBreakEvenOutcomes) +
       ". Seconds are wall spans.";
  if (v.epochs_differ) h += " The runs measured different numbers of epochs: they compare through the extrapolation.";
  h += "</p>\n<div class=\"chart\">\n" + RenderBreakEvenSvgElement(runs) + "</div>\n</section>\n";
  return h;
}

// Each rank's host, for a run of several ranks.
std::string RanksHtml(const RunResult& r) {
  if (r.ranks.empty()) return "";
  std::string h = "<h3>Ranks</h3>\n<p class=\"note\">" + std::to_string(r.world_size) + " ranks, launched by " +
                  E(r.launcher.empty() ? kDash : r.launcher) +
                  "</p>\n<table class=\"stages\">\n<thead><tr><th>Rank</th><th>Status</th><th>Host</th><th>CPUs</th>"
                  "<th>Memory</th><th>Device</th><th>Note</th></tr></thead>\n<tbody>\n";
  for (const RankInfo& k : r.ranks)
    h += "<tr><td>" + std::to_string(k.rank) + "</td><td>" + E(StatusName(k.status)) + "</td><td>" +
         E(k.host.hostname) + "</td><td>" + std::to_string(k.host.cpus) + "</td><td>" +
         E(FormatBytesIec(k.host.memory_bytes)) + "</td><td>" + E(k.host.device) + "</td><td class=\"note-cell\">" +
         E(k.host.cpu_model) + "</td></tr>\n";
  return h + "</tbody>\n</table>\n";
}

std::string CompareTableHtml(const std::vector<RunResult>& runs, const Comparison& cmp) {
  const size_t n = runs.size();
  std::string h = "<table class=\"cmp\">\n<thead><tr><th>Stage</th>";
  for (size_t i = 0; i < n; ++i) h += "<th>" + RunHeader(runs[i], i) + "</th>";
  for (size_t i = 1; i < n; ++i)
    h += "<th class=\"sp\"><span class=\"lbl\">Speedup</span>" + E(RunName(runs[i], i)) + "</th>";
  h += "</tr></thead>\n<tbody>\n";
  for (const CompareRow& row : cmp.stages) {
    h += "<tr><td>" + E(row.stage) + "</td>";
    for (const CompareCell& c : row.cells) h += SecondsCell(c);
    for (size_t i = 1; i < n; ++i) h += SpeedupCell(row.cells[i]);
    h += "</tr>\n";
  }
  h += "<tr class=\"total\"><td>" + E(cmp.total.stage) + "</td>";
  for (const CompareCell& c : cmp.total.cells)
    h += "<td>" + FormatSeconds(c.seconds) + (c.status == StageStatus::kOk ? "" : " " + Badge(c.status)) + "</td>";
  for (size_t i = 1; i < n; ++i) h += SpeedupCell(cmp.total.cells[i]);
  h += "</tr>\n</tbody>\n</table>\n";
  return h;
}

std::string NotesHtml(const std::vector<RunResult>& runs) {
  std::string notes, errors;
  if (runs.size() > 1)
    notes += "<p class=\"note\">Seconds are each stage’s wall span (first start to last end); " + std::string(kDash) +
             " = skipped. Speedup = " + E(RunName(runs[0], 0)) +
             " seconds ÷ the run’s seconds (above 1× is faster than the first run; n/a when either side skipped "
             "or failed).</p>\n";
  if (HasIntervals(Compare(runs)))
    notes +=
        "<p class=\"note\">Repeated runs: seconds are medians; (low–high) = the speedup’s range from the 95 % "
        "intervals; " +
        E(kNotSignificantLegend) + ".</p>\n";
  for (size_t i = 0; i < runs.size(); ++i) {
    const RunResult& r = runs[i];
    if (r.overlapped_seconds > 0)
      notes += "<p class=\"note\">" + E(RunName(r, i)) + ": stages overlapped (" +
               FormatSeconds(r.overlapped_seconds) +
               " s ran concurrently), so its Total Runtime is less than the sum of its stage times.</p>\n";
    for (const StageResult& s : r.stages)
      if (DidNotComplete(s.status))
        errors += "<li><b>" + E(RunName(r, i)) + "</b> · " + E(s.name) + " " + E(StatusName(s.status)) +
                  (s.error.empty() ? "" : ": " + E(s.error)) + "</li>\n";
  }
  if (!errors.empty()) notes += "<ul class=\"errors\">\n" + errors + "</ul>\n";
  return notes;
}

std::string Cards(const std::vector<RunResult>& runs) {
  std::string h = "<section class=\"cards\">\n";
  for (size_t i = 0; i < runs.size(); ++i) {
    const RunResult& r = runs[i];
    std::string sp;
    if (i > 0) {
      auto s = Speedup(runs[0].total_seconds, runs[0].status, r.total_seconds, r.status);
      if (s) sp = " · " + FormatSpeedup(*s) + " vs " + E(RunName(runs[0], 0));
    }
    h += "<div class=\"card\" style=\"--c:" + std::string(RunColour(i)) + "\"><div class=\"name\">" + E(RunName(r, i)) +
         " " + Badge(r.status) + "</div><div class=\"scenario\">" + E(ScenarioText(r)) + " · " + E(r.host.hostname) +
         " · " + E(r.host.device) + "</div><div class=\"total\">" + FormatSeconds(r.total_seconds) + " <small>s total" +
         sp + "</small></div></div>\n";
  }
  return h + "</section>\n";
}

std::string Kv(const std::string& key, const std::string& escaped_value) {
  return "<dt>" + E(key) + "</dt><dd>" + escaped_value + "</dd>";
}

// The error of a failed stage; for merged results of several ranks the slowest rank; else the
// "reason" a stage gives in its detail (e.g. why skipped).
std::string StageNote(const StageResult& s) {
  if (!s.error.empty()) return s.error;
  if (s.slowest_rank >= 0 && s.ranks.size() > 1)
    for (const RankStage& part : s.ranks)
      if (part.rank == s.slowest_rank)
        return std::to_string(s.ranks.size()) + " ranks; slowest rank " + std::to_string(part.rank) + ": " +
               FormatSeconds(part.seconds) + " s";
  auto j = nlohmann::json::parse(s.detail_json, nullptr, /*allow_exceptions=*/false);
  if (j.is_object() && j.contains("reason") && j["reason"].is_string()) return j["reason"].get<std::string>();
  return "";
}

std::string StageTableHtml(const RunResult& r) {
  std::string h =
      "<table class=\"stages\">\n<thead><tr><th>Stage</th><th>Status</th><th>Seconds</th><th>MB/s</th>"
      "<th>Files</th><th>Bytes</th><th>Note</th></tr></thead>\n<tbody>\n";
  for (const StageResult& s : r.stages) {
    bool timed = s.status != StageStatus::kSkipped;
    std::string cls = s.status == StageStatus::kSkipped ? "skipped" : s.status == StageStatus::kOk ? "" : "failed";
    h += "<tr><td>" + E(s.name) + "</td><td class=\"" + cls + "\">" + E(StatusName(s.status)) + "</td><td>" +
         (timed ? FormatSeconds(s.seconds) : kDash) + "</td><td>" + (timed ? FormatMbPerS(s.mb_per_s) : kDash) +
         "</td><td>" + (timed && s.files ? std::to_string(s.files) : kDash) + "</td><td>" +
         (timed && s.bytes ? E(FormatBytesIec(s.bytes)) : kDash) + "</td><td class=\"note-cell\">" + E(StageNote(s)) +
         "</td></tr>\n";
  }
  return h + "</tbody>\n</table>\n";
}

std::string RunDetails(const RunResult& r, size_t i) {
  std::string h = "<article style=\"--c:" + std::string(RunColour(i)) + "\">\n<h2><span class=\"swatch\"></span>" +
                  E(RunName(r, i)) + " <small>" + E(r.scenario) + "</small></h2>\n<div class=\"cols\">\n<div>\n<h3>Run</h3>\n<dl class=\"kv\">";
  h += Kv("status", Badge(r.status)) + Kv("started", E(r.started_at)) + Kv("tool version", E(r.tool_version)) +
       Kv("total", FormatSeconds(r.total_seconds) + " s");
  if (r.overlapped_seconds > 0) h += Kv("overlapped", FormatSeconds(r.overlapped_seconds) + " s");
  h += "</dl>\n<h3>Host</h3>\n<dl class=\"kv\">";
  h += Kv("hostname", E(r.host.hostname)) + Kv("CPUs", std::to_string(r.host.cpus)) +
       Kv("memory", E(FormatBytesIec(r.host.memory_bytes))) + Kv("device", E(r.host.device)) +
       Kv("CPU model", E(r.host.cpu_model.empty() ? kDash : r.host.cpu_model)) +
       Kv("kernel", E(r.host.kernel.empty() ? kDash : r.host.kernel));
  h += "</dl>\n</div>\n<div>\n<h3>Training</h3>\n";
  if (r.train.present) {
    const TrainResult& t = r.train;
    h += "<dl class=\"kv\">" + Kv("device", E(t.device)) + Kv("epochs", std::to_string(t.epochs)) +
         Kv("steps", std::to_string(t.steps)) + Kv("final loss", Fmt("%.4f", t.final_loss)) +
         Kv("test accuracy", Fmt("%.2f", t.test_accuracy * 100) + " %") +
         Kv("steps / second", t.steps_per_second > 0 ? Fmt("%.1f", t.steps_per_second) : kDash) + "</dl>\n";
  } else {
    h += "<p class=\"note\">No training in this run.</p>\n";
  }
  h += "</div>\n</div>\n" + RanksHtml(r) + "<h3>Stages</h3>\n" + StageTableHtml(r) + IoTableHtml(r);
  h += "<h3>Configuration</h3>\n<pre>" + E(PrettyJson(r.config_json)) + "</pre>\n</article>\n";
  return h;
}

}  // namespace

std::string RenderCompareHtml(const std::vector<RunResult>& runs) {
  Comparison cmp = Compare(runs);
  std::string names;
  for (size_t i = 0; i < runs.size(); ++i) names += (i ? " vs " : "") + RunName(runs[i], i);
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                  "<title>tierbench: " + E(names) + "</title>\n<style>" + kCss + "</style>\n</head>\n<body>\n<main>\n";
  h += "<header><h1>Pipeline stage times</h1><p>" + E(names) + " · " + std::to_string(runs.size()) +
       (runs.size() == 1 ? " run" : " runs") + " compared by tierbench</p></header>\n";
  h += Cards(runs);
  h += "<section>\n<h2>Seconds per stage</h2>\n" + CompareTableHtml(runs, cmp) + NotesHtml(runs) + "</section>\n";
  h += "<section class=\"chart\">\n" + RenderCompareSvgElement(runs) + "</section>\n";
  h += ScalingHtml(runs);
  h += BreakEvenHtml(runs);
  for (size_t i = 0; i < runs.size(); ++i) h += RunDetails(runs[i], i);
  h += "<footer>Generated by tierbench compare · results schema " + E(kSchema) + "</footer>\n";
  h += "</main>\n</body>\n</html>\n";
  return h;
}

}  // namespace tb::report
