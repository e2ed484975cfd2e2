#include "report/compare.h"

#include <algorithm>
#include <cstdio>

namespace tb::report {
namespace {

const StageResult* FindStage(const RunResult& run, const std::string& name) {
  for (const StageResult& s : run.stages)
    if (s.name == name) return &s;
  return nullptr;
}

void FillSpeedups(CompareRow& row) {
  if (row.cells.empty()) return;
  const CompareCell base = row.cells[0];
  for (CompareCell& c : row.cells) {
    c.speedup = Speedup(base.seconds, base.status, c.seconds, c.status);
    FillSpeedupInterval(base, c);
  }
}

// The 95 % interval of a repeated time (n >= 2).
std::optional<std::pair<double, double>> Interval(const std::optional<RepeatStats>& r) {
  if (!r || r->n() < 2) return std::nullopt;
  return std::make_pair(r->ci_low, r->ci_high);
}

std::string Printf(const char* fmt, double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, x);
  return buf;
}

}  // namespace

std::optional<double> Speedup(double baseline_seconds, StageStatus baseline_status, double seconds,
                              StageStatus status) {
  if (baseline_status != StageStatus::kOk || status != StageStatus::kOk) return std::nullopt;
  if (!(baseline_seconds > 0) || !(seconds > 0)) return std::nullopt;
  return baseline_seconds / seconds;
}

void FillSpeedupInterval(const CompareCell& baseline, CompareCell& cell) {
  cell.speedup_low = cell.speedup_high = std::nullopt;
  cell.significant = std::nullopt;
  if (!baseline.ci || !cell.ci || !cell.speedup) return;
  auto [b_low, b_high] = *baseline.ci;
  auto [c_low, c_high] = *cell.ci;
  if (!(c_low > 0) || !(c_high > 0)) return;
  cell.speedup_low = b_low / c_high;
  cell.speedup_high = b_high / c_low;
  cell.significant = b_high < c_low || c_high < b_low;
}

Comparison Compare(const std::vector<RunResult>& runs) {
  std::vector<std::string> names;
  auto add = [&names](const std::string& n) {
    if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
  };
  for (const char* known : kStageNames)
    for (const RunResult& r : runs)
      if (FindStage(r, known)) {
        add(known);
        break;
      }
  for (const RunResult& r : runs)
    for (const StageResult& s : r.stages) add(s.name);

  Comparison c;
  for (const std::string& name : names) {
    CompareRow row{name, {}};
    for (const RunResult& r : runs) {
      CompareCell cell;
      if (const StageResult* s = FindStage(r, name)) {
        cell.present = true;
        cell.status = s->status;
        cell.seconds = s->seconds;
        cell.ci = Interval(s->repeat);
      }
      row.cells.push_back(cell);
    }
    FillSpeedups(row);
    c.stages.push_back(std::move(row));
  }
  c.total.stage = "Total Runtime";
  for (const RunResult& r : runs) {
    CompareCell cell{true, r.status, r.total_seconds, {}};
    if (r.repeat && r.status == StageStatus::kOk) cell.ci = Interval(r.repeat->totals);
    c.total.cells.push_back(cell);
  }
  FillSpeedups(c.total);
  return c;
}

bool HasIntervals(const Comparison& cmp) {
  auto any = [](const CompareRow& row) {
    for (size_t i = 1; i < row.cells.size(); ++i)
      if (row.cells[i].speedup_low) return true;
    return false;
  };
  return any(cmp.total) || std::any_of(cmp.stages.begin(), cmp.stages.end(), any);
}

std::string RunName(const RunResult& run, size_t index) {
  return run.label.empty() ? "run " + std::to_string(index + 1) : run.label;
}

std::string FormatSeconds(double seconds) {
  if (seconds > 0 && seconds < 0.005) return "<0.01";
  return Printf("%.2f", seconds);
}

std::string FormatSpeedup(double speedup) { return Printf("%.2f", speedup) + "\u00d7"; }

std::string FormatSpeedupInterval(const CompareCell& cell) {
  if (!cell.speedup) return "n/a";
  std::string out = FormatSpeedup(*cell.speedup);
  if (cell.speedup_low && cell.speedup_high)
    out += " (" + Printf("%.2f", *cell.speedup_low) + "\u2013" + Printf("%.2f", *cell.speedup_high) + ")";
  if (cell.significant && !*cell.significant) out += " ~";
  return out;
}

std::string FormatMbPerS(double mb_per_s) {
  if (!(mb_per_s > 0)) return "\u2014";
  return Printf(mb_per_s < 10 ? "%.2f" : "%.1f", mb_per_s);
}

std::string FormatBytesIec(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 5) {
    v /= 1024;
    ++u;
  }
  if (u == 0) return std::to_string(bytes) + " B";
  return Printf("%.1f", v) + " " + units[u];
}

std::string EscapeXml(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        // Control characters other than tab/newline are not allowed in XML 1.0.
        if (static_cast<unsigned char>(ch) < 0x20 && ch != '\t' && ch != '\n' && ch != '\r')
          out += "\xef\xbf\xbd";  // U+FFFD
        else
          out += ch;
    }
  }
  return out;
}

}  // namespace tb::report
