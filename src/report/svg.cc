// A self-made grouped bar chart: stages on x, seconds on y, one bar per run.
#include "report/svg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "report/compare.h"

namespace tb::report {
namespace {

constexpr int kWidth = 900;
constexpr double kPlotHeight = 342;  // with a one-line legend the picture is 900 × 480
constexpr double kLeft = 78, kRight = 24, kBottom = 58;
constexpr const char* kFont = "DejaVu Sans, Helvetica, Arial, sans-serif";
// Tableau 10: distinct, colour-blind friendly, prints well.
constexpr const char* kPalette[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
                                    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};

std::string F(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", x);
  return buf;
}

std::string BarValue(double s) {
  if (s > 0 && s < 0.005) return "<0.01";
  char buf[32];
  std::snprintf(buf, sizeof buf, s >= 100 ? "%.0f" : s >= 10 ? "%.1f" : "%.2f", s);
  return buf;
}

std::string TickLabel(double v, double step) {
  int decimals = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", std::min(decimals, 6), v);
  return buf;
}

// Rough text width in px for DejaVu Sans at `size` (average advance ~0.6 em).
double TextWidth(const std::string& s, double size) {
  size_t n = 0;
  for (char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return static_cast<double>(n) * size * 0.6;
}

std::string Text(double x, double y, const std::string& body, const std::string& attrs) {
  return "<text x=\"" + F(x) + "\" y=\"" + F(y) + "\" " + attrs + ">" + EscapeXml(body) + "</text>\n";
}

// The opening of an <svg> element: its size, accessible title, white background and heading.
std::string SvgOpen(int height, const std::string& cls, const std::string& title, const std::string& heading) {
  const std::string w_text = std::to_string(kWidth), h_text = std::to_string(height);
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\"" + (cls.empty() ? "" : " class=\"" + cls + "\"") +
                    " width=\"" + w_text + "\" height=\"" + h_text + "\" viewBox=\"0 0 " + w_text + " " + h_text +
                    "\" role=\"img\" aria-label=\"" + EscapeXml(title) + "\" font-family=\"" + kFont + "\">\n<title>" +
                    EscapeXml(title) + "</title>\n";
  svg += "<rect class=\"background\" x=\"0\" y=\"0\" width=\"" + w_text + "\" height=\"" + h_text +
         "\" fill=\"#ffffff\"/>\n";
  return svg + Text(kLeft, 30, heading, "font-size=\"18\" font-weight=\"bold\" fill=\"#111827\"");
}

// One swatch and label per item (its colour index, its text), wrapped onto as many lines as
// needed from y = 54; *ly is the last line's baseline on return.
std::string Legend(const std::vector<std::pair<size_t, std::string>>& items, double* ly) {
  std::string legend;
  double lx = kLeft;
  *ly = 54;
  for (const auto& [colour, text] : items) {
    double w = 18 + TextWidth(text, 12) + 22;
    if (lx + w > kWidth - kRight && lx > kLeft) {
      lx = kLeft;
      *ly += 20;
    }
    legend += "<rect class=\"legend-swatch\" x=\"" + F(lx) + "\" y=\"" + F(*ly - 10) +
              "\" width=\"12\" height=\"12\" rx=\"2\" fill=\"" + RunColour(colour) + "\"/>\n";
    legend += Text(lx + 18, *ly, text, "font-size=\"12\" fill=\"#374151\"");
    lx += w;
  }
  return legend;
}

// Horizontal gridlines from `left` to `right` at each step of `axis`, labelled on the left.
template <typename YOf>
std::string YGrid(double left, double right, const NiceAxis& axis, YOf y_of) {
  std::string svg;
  for (int k = 0;; ++k) {
    double v = k * axis.step;
    if (v > axis.max + axis.step * 1e-6) break;
    double y = y_of(v);
    svg += "<line class=\"grid\" x1=\"" + F(left) + "\" y1=\"" + F(y) + "\" x2=\"" + F(right) + "\" y2=\"" + F(y) +
           "\" stroke=\"" + (k == 0 ? "#6b7280" : "#e5e7eb") + "\" stroke-width=\"1\"/>\n";
    svg += Text(left - 8, y + 4, TickLabel(v, axis.step), "font-size=\"11\" fill=\"#6b7280\" text-anchor=\"end\"");
  }
  return svg;
}

// A line through `points` ("x,y x,y "): `data` its data-* attributes, `stroke` its stroke ones.
std::string Polyline(const std::string& cls, const std::string& data, const std::string& points,
                     const std::string& stroke) {
  return "<polyline class=\"" + cls + "\" " + data + " points=\"" + points + "\" fill=\"none\" " + stroke + "/>\n";
}

}  // namespace

const char* RunColour(size_t index) { return kPalette[index % std::size(kPalette)]; }

NiceAxis NiceScale(double max_value, int target_ticks) {
  if (!(max_value > 0) || !std::isfinite(max_value)) return {1, 0.2};
  double raw = max_value / std::max(1, target_ticks);
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    step = m * mag;
    if (step >= raw) break;
  }
  double top = std::ceil(max_value / step - 1e-9) * step;
  return {top, step};
}

// An error bar from y_low to y_high (SVG y: y_low is lower on screen) centred on x, capped.
std::string ErrorBar(double x, double y_low, double y_high, double bar_width, const std::string& tip) {
  const double cap = std::min(8.0, bar_width / 2);
  auto line = [](double x1, double y1, double x2, double y2) {
    return "<line x1=\"" + F(x1) + "\" y1=\"" + F(y1) + "\" x2=\"" + F(x2) + "\" y2=\"" + F(y2) + "\"/>";
  };
  return "<g class=\"errorbar\" stroke=\"#111827\" stroke-width=\"1.2\"><title>" + EscapeXml(tip) +
         " (95 % interval of the median)</title>" + line(x, y_low, x, y_high) +
         line(x - cap / 2, y_low, x + cap / 2, y_low) + line(x - cap / 2, y_high, x + cap / 2, y_high) + "</g>\n";
}

std::string RenderCompareSvgElement(const std::vector<RunResult>& runs) {
  Comparison cmp = Compare(runs);
  const size_t n = runs.size();
  // Legend first (one swatch per run, wrapped onto as many lines as needed): its height sets
  // where the plot starts; the plot keeps its height, the picture grows.
  std::vector<std::pair<size_t, std::string>> items;
  for (size_t i = 0; i < n; ++i) {
    std::string text = RunName(runs[i], i);
    if (!runs[i].scenario.empty()) text += " (" + runs[i].scenario + ")";
    items.emplace_back(i, text + " \u00b7 total " + FormatSeconds(runs[i].total_seconds) + " s");
  }
  double ly = 0;
  const std::string legend = Legend(items, &ly);
  const double top = ly + 26, bottom = top + kPlotHeight;
  const int height = static_cast<int>(std::ceil(bottom + kBottom));
  std::string svg = SvgOpen(height, "", "Seconds per pipeline stage, by run", "Seconds per pipeline stage");
  svg += legend;

  const double plot_w = kWidth - kLeft - kRight, plot_h = bottom - top;
  double max_s = 0;
  for (const CompareRow& row : cmp.stages)
    for (const CompareCell& c : row.cells)
      if (c.present && c.status != StageStatus::kSkipped) max_s = std::max({max_s, c.seconds, c.ci ? c.ci->second : 0});
  NiceAxis axis = NiceScale(max_s, 5);
  auto y_of = [&](double v) { return bottom - plot_h * (v / axis.max); };

  svg += YGrid(kLeft, kWidth - kRight, axis, y_of);
  svg += Text(18, top + plot_h / 2, "Seconds (wall clock)",
              "font-size=\"12\" fill=\"#374151\" text-anchor=\"middle\" transform=\"rotate(-90 18 " +
                  F(top + plot_h / 2) + ")\"");
  svg += Text(kLeft + plot_w / 2, height - 12, "Pipeline stage",
              "font-size=\"12\" fill=\"#374151\" text-anchor=\"middle\"");

  const size_t groups = std::max<size_t>(1, cmp.stages.size());
  const double gw = plot_w / static_cast<double>(groups);
  const double inner = gw * 0.78;
  const double bw = n ? inner / static_cast<double>(n) : inner;
  const bool rotate_names = gw < 64;
  for (size_t g = 0; g < cmp.stages.size(); ++g) {
    const CompareRow& row = cmp.stages[g];
    double gx = kLeft + gw * static_cast<double>(g);
    double cx = gx + gw / 2;
    if (rotate_names)
      svg += Text(cx, bottom + 16, row.stage,
                  "font-size=\"12\" fill=\"#111827\" text-anchor=\"end\" transform=\"rotate(-30 " + F(cx) + " " +
                      F(bottom + 16) + ")\"");
    else
      svg += Text(cx, bottom + 18, row.stage, "font-size=\"12\" fill=\"#111827\" text-anchor=\"middle\"");
    for (size_t r = 0; r < n; ++r) {
      const CompareCell& c = row.cells[r];
      const char* colour = RunColour(r);
      bool drawn = c.present && c.status != StageStatus::kSkipped;
      double x = gx + (gw - inner) / 2 + bw * static_cast<double>(r) + 1;
      double w = std::max(1.0, bw - 2);
      double y = drawn ? y_of(c.seconds) : bottom;
      double h = bottom - y;
      std::string tip =
          RunName(runs[r], r) + " \u2014 " + row.stage + ": " +
          (drawn ? FormatSeconds(c.seconds) + " s" : std::string("skipped")) +
          (drawn && c.ci ? " (median; " + FormatSeconds(c.ci->first) + "\u2013" + FormatSeconds(c.ci->second) + " s)"
                         : "") +
          (c.status == StageStatus::kFailed ? " (FAILED)" : "");
      std::string style = DidNotComplete(c.status)
                              ? "fill-opacity=\"0.35\" stroke=\"#b91c1c\" stroke-width=\"1.5\" stroke-dasharray=\"4 2\""
                              : "";
      svg += "<rect class=\"bar\" data-stage=\"" + EscapeXml(row.stage) + "\" data-run=\"" + std::to_string(r) +
             "\" x=\"" + F(x) + "\" y=\"" + F(y) + "\" width=\"" + F(w) + "\" height=\"" + F(h) + "\" fill=\"" +
             colour + "\" " + style + "><title>" + EscapeXml(tip) + "</title></rect>\n";
      double tx = x + w / 2;
      if (drawn && !DidNotComplete(c.status) && c.ci) {  // repeated: the 95 % interval of the median
        svg += ErrorBar(tx, y_of(c.ci->first), y_of(c.ci->second), w, tip);
        y = std::min(y, y_of(c.ci->second));
      }
      if (!drawn) {
        svg += Text(tx + 4, bottom - 4, c.present ? "skipped" : "absent",
                    "font-size=\"10\" fill=\"#9ca3af\" transform=\"rotate(-90 " + F(tx + 4) + " " + F(bottom - 4) + ")\"");
      } else if (DidNotComplete(c.status)) {
        svg += Text(tx, y - 4, "FAILED", "font-size=\"9\" fill=\"#b91c1c\" text-anchor=\"middle\" font-weight=\"bold\"");
      } else if (bw >= 22) {
        svg += Text(tx, y - 4, BarValue(c.seconds), "font-size=\"10\" fill=\"#374151\" text-anchor=\"middle\"");
      }
    }
  }
  svg += "</svg>\n";
  return svg;
}

std::string RenderScalingSvgElement(const std::vector<RunResult>& runs) {
  std::vector<ScalingRow> rows = Scaling(runs);
  if (rows.empty()) return "";
  const std::vector<int> sizes = WorldSizes(runs);
  // Legend: one swatch per stage (solid: measured, dashed: ideal), wrapped like the bar chart's.
  std::vector<std::pair<size_t, std::string>> items;
  for (size_t i = 0; i < rows.size(); ++i) items.emplace_back(i, rows[i].stage);
  double ly = 0;
  const std::string legend = Legend(items, &ly);
  const double top = ly + 40, plot_h = 260, bottom = top + plot_h, gap = 70;
  const double panel_w = (kWidth - kLeft - kRight - gap) / 2;
  const int height = static_cast<int>(std::ceil(bottom + kBottom));
  std::string svg = SvgOpen(height, "scaling", "Seconds and MB/s per stage against ranks",
                            "Scaling by ranks (dashed: ideal, linear from the fewest ranks)");
  svg += legend;
  for (int panel = 0; panel < 2; ++panel) {
    const bool secs = panel == 0;
    const double left = kLeft + panel * (panel_w + gap);
    auto value = [&](const ScalingPoint& p) { return secs ? p.seconds : p.mb_per_s; };
    auto ideal = [&](const ScalingPoint& p) { return secs ? p.ideal_seconds : p.ideal_mb_per_s; };
    double max_v = 0;
    for (const ScalingRow& row : rows)
      for (const ScalingPoint& p : row.points) {
        if (p.status == StageStatus::kOk) max_v = std::max(max_v, value(p));
        if (ideal(p)) max_v = std::max(max_v, *ideal(p));
      }
    NiceAxis axis = NiceScale(max_v, 5);
    auto y_of = [&](double v) { return bottom - plot_h * std::min(1.0, v / axis.max); };
    auto x_of = [&](int ranks) {
      size_t k = std::find(sizes.begin(), sizes.end(), ranks) - sizes.begin();
      return left + panel_w * (sizes.size() == 1 ? 0.5 : 0.06 + 0.88 * k / static_cast<double>(sizes.size() - 1));
    };
    svg += YGrid(left, left + panel_w, axis, y_of);
    for (int n : sizes)
      svg += Text(x_of(n), bottom + 18, std::to_string(n), "font-size=\"12\" fill=\"#111827\" text-anchor=\"middle\"");
    svg += Text(left + panel_w / 2, top - 10, secs ? "Seconds (cluster span)" : "MB/s (aggregate)",
                "font-size=\"13\" font-weight=\"bold\" fill=\"#374151\" text-anchor=\"middle\"");
    svg += Text(left + panel_w / 2, bottom + 38, "Ranks", "font-size=\"12\" fill=\"#374151\" text-anchor=\"middle\"");
    for (size_t i = 0; i < rows.size(); ++i) {
      const ScalingRow& row = rows[i];
      std::string line, ideal_line;
      std::vector<int> drawn;  // one point per world size on the line: the first ok run's
      for (const ScalingPoint& p : row.points) {
        if (ideal(p) && std::find(drawn.begin(), drawn.end(), p.ranks) == drawn.end())
          ideal_line += F(x_of(p.ranks)) + "," + F(y_of(*ideal(p))) + " ";
        if (p.status != StageStatus::kOk || std::find(drawn.begin(), drawn.end(), p.ranks) != drawn.end()) continue;
        if (!secs && !(p.mb_per_s > 0)) continue;
        drawn.push_back(p.ranks);
        double x = x_of(p.ranks), y = y_of(value(p));
        line += F(x) + "," + F(y) + " ";
        std::string tip = row.stage + ", " + std::to_string(p.ranks) + " ranks (" + RunName(runs[p.run], p.run) +
                          "): " + (secs ? FormatSeconds(p.seconds) + " s" : FormatMbPerS(p.mb_per_s) + " MB/s");
        svg += "<circle class=\"point\" data-panel=\"" + std::string(secs ? "seconds" : "mb_per_s") +
               "\" data-stage=\"" + EscapeXml(row.stage) + "\" data-ranks=\"" + std::to_string(p.ranks) + "\" cx=\"" +
               F(x) + "\" cy=\"" + F(y) + "\" r=\"3.5\" fill=\"" + RunColour(i) + "\"><title>" + EscapeXml(tip) +
               "</title></circle>\n";
      }
      const std::string data = "data-panel=\"" + std::string(secs ? "seconds" : "mb_per_s") + "\" data-stage=\"" +
                               EscapeXml(row.stage) + "\"";
      const std::string colour = "stroke=\"" + std::string(RunColour(i)) + "\"";
      if (!ideal_line.empty())
        svg += Polyline("ideal", data, ideal_line,
                        colour + " stroke-opacity=\"0.6\" stroke-width=\"1.5\" stroke-dasharray=\"5 4\"");
      if (!line.empty()) svg += Polyline("measured", data, line, colour + " stroke-width=\"2\"");
    }
  }
  svg += "</svg>\n";
  return svg;
}

// Epoch ticks for 0..epochs: a step of 1, 2 or 5 × 10^k, at most about 10 ticks.
int EpochStep(int epochs) {
  for (int step = 1;; step *= 10)
    for (int m : {1, 2, 5})
      if (epochs <= 10 * m * step) return m * step;
}

std::string RenderBreakEvenSvgElement(const std::vector<RunResult>& runs) {
  const BreakEvenView v = BreakEvens(runs);
  if (!v.any()) return "";
  const int epochs = v.chart_epochs;
  std::vector<std::pair<size_t, std::string>> items;
  double max_v = 0;
  for (size_t i = 0; i < runs.size(); ++i)
    if (const std::optional<EpochCurve>& c = v.curves[i]) {
      items.emplace_back(i, RunName(runs[i], i) + " \u00b7 one-off " + FormatSeconds(c->one_off) + " s, " +
                                FormatSeconds(c->steady) + " s/epoch");
      max_v = std::max(max_v, c->Cumulative(epochs));  // epochs cost >= 0: the largest is the last
    }
  double ly = 0;
  const std::string legend = Legend(items, &ly);
  const double top = ly + 26, plot_h = 300, bottom = top + plot_h, plot_w = kWidth - kLeft - kRight;
  const int height = static_cast<int>(std::ceil(bottom + kBottom));
  std::string svg = SvgOpen(height, "break-even", "Cumulative seconds against epochs, by run",
                            "Break-even: cumulative seconds against epochs");
  svg += legend;
  const NiceAxis axis = NiceScale(max_v, 5);
  auto y_of = [&](double s) { return bottom - plot_h * std::min(1.0, s / axis.max); };
  auto x_of = [&](int64_t n) { return kLeft + plot_w * static_cast<double>(n) / epochs; };
  svg += YGrid(kLeft, kWidth - kRight, axis, y_of);
  for (int n = 0, step = EpochStep(epochs); n <= epochs; n += step)
    svg += Text(x_of(n), bottom + 18, std::to_string(n), "font-size=\"12\" fill=\"#111827\" text-anchor=\"middle\"");
  svg += Text(18, top + plot_h / 2, "Cumulative seconds (wall span)",
              "font-size=\"12\" fill=\"#374151\" text-anchor=\"middle\" transform=\"rotate(-90 18 " +
                  F(top + plot_h / 2) + ")\"");
  svg += Text(kLeft + plot_w / 2, height - 12,
              "Epochs (solid: measured; dashed: extrapolated with the steady epoch; at most " +
                  std::to_string(kMaxBreakEvenChartEpochs) + ")",
              "font-size=\"12\" fill=\"#374151\" text-anchor=\"middle\"");
  std::string unmarked;  // outcomes with no crossing on the chart: never, from the start, beyond it
  for (size_t i = 0; i < runs.size(); ++i) {
    const std::optional<EpochCurve>& c = v.curves[i];
    if (!c) continue;
    const int64_t measured = std::min<int64_t>(static_cast<int64_t>(c->epoch_seconds.size()), epochs);
    std::string solid, dashed;
    for (int64_t n = 0; n <= epochs; ++n) {
      const std::string point = F(x_of(n)) + "," + F(y_of(c->Cumulative(n))) + " ";
      if (n <= measured) solid += point;
      if (n >= measured) dashed += point;
    }
    const std::string data = "data-run=\"" + std::to_string(i) + "\"";
    const std::string stroke = "stroke=\"" + std::string(RunColour(i)) + "\" stroke-width=\"2\"";
    svg += Polyline("cumulative", data, solid, stroke);
    if (measured < epochs) svg += Polyline("extrapolated", data, dashed, stroke + " stroke-dasharray=\"6 4\"");
    const BreakEven& b = v.against_first[i];
    if (b.kind == BreakEvenKind::kNone) continue;
    const std::string label = "break-even: " + FormatBreakEven(b, runs);
    if (b.kind != BreakEvenKind::kAt || b.epoch > epochs) {
      unmarked += (unmarked.empty() ? "" : "; ") + label + (b.kind == BreakEvenKind::kAt ? " (beyond the chart)" : "") +
                  " [" + RunName(runs[i], i) + " vs " + RunName(runs[0], 0) + "]";
      continue;
    }
    const double x = x_of(b.epoch);
    svg += "<line class=\"break-even\" " + data + " x1=\"" + F(x) + "\" y1=\"" + F(top) + "\" x2=\"" + F(x) +
           "\" y2=\"" + F(bottom) + "\" stroke=\"#374151\" stroke-width=\"1\" stroke-dasharray=\"3 3\"/>\n";
    svg += Text(x - 4, top + 12 + 14 * static_cast<double>(i - 1), label,
                "font-size=\"11\" fill=\"#374151\" text-anchor=\"end\"");
  }
  if (!unmarked.empty()) svg += Text(kLeft + 8, top + 12, unmarked, "font-size=\"11\" fill=\"#374151\"");
  return svg + "</svg>\n";
}

std::string RenderCompareSvg(const std::vector<RunResult>& runs) {
  std::vector<std::string> charts{RenderCompareSvgElement(runs), RenderScalingSvgElement(runs),
                                  RenderBreakEvenSvgElement(runs)};
  charts.erase(std::remove(charts.begin(), charts.end(), std::string()), charts.end());
  const std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  if (charts.size() == 1) return xml + charts[0];
  // The charts one above the other, as nested <svg> elements of one picture.
  auto height_of = [](const std::string& el) {
    size_t at = el.find("height=\"");
    return at == std::string::npos ? 0 : std::stoi(el.substr(at + 8));
  };
  std::string body;
  int height = 0;
  for (std::string& chart : charts) {
    if (height > 0) chart.insert(chart.find(" width="), " y=\"" + std::to_string(height) + "\"");
    height += height_of(chart);
    body += chart;
  }
  const std::string w_text = std::to_string(kWidth), h_text = std::to_string(height);
  return xml + "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + w_text + "\" height=\"" + h_text +
         "\" viewBox=\"0 0 " + w_text + " " + h_text + "\">\n" + body + "</svg>\n";
}

}  // namespace tb::report
