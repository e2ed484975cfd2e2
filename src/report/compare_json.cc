// The comparison for scripts: the same facts as RenderCompareTable, as JSON.
#include <nlohmann/json.hpp>

#include "report/compare.h"
#include "report/results.h"
#include "util/json.h"

namespace tb::report {
namespace {

using Json = nlohmann::ordered_json;

Json Optional(const std::optional<double>& v) { return v ? Json(*v) : Json(nullptr); }

Json RowJson(const CompareRow& row, bool is_total) {
  Json seconds = Json::array(), status = Json::array(), speedup = Json::array();
  Json low = Json::array(), high = Json::array(), significant = Json::array();
  for (const CompareCell& c : row.cells) {
    bool timed = c.present && (is_total || c.status != StageStatus::kSkipped);
    seconds.push_back(timed ? Json(c.seconds) : Json(nullptr));
    status.push_back(c.present ? Json(StatusName(c.status)) : Json(nullptr));
    speedup.push_back(Optional(c.speedup));
    low.push_back(Optional(c.speedup_low));
    high.push_back(Optional(c.speedup_high));
    significant.push_back(c.significant ? Json(*c.significant) : Json(nullptr));
  }
  Json j;
  if (!is_total) j["name"] = row.stage;
  j["status"] = std::move(status);
  j["seconds"] = std::move(seconds);
  j["speedup"] = std::move(speedup);
  j["speedup_low"] = std::move(low);
  j["speedup_high"] = std::move(high);
  j["significant"] = std::move(significant);
  return j;
}

// The break-even view (compare.h: BreakEvens): per run its curve's facts and the break-even
// against the first run, null where the run has no curve.
Json BreakEvenJson(const std::vector<RunResult>& runs) {
  BreakEvenView v = BreakEvens(runs);
  Json per_run = Json::array();
  for (size_t i = 0; i < runs.size(); ++i) {
    const BreakEven& b = v.against_first[i];
    const char* kinds[] = {nullptr, "never", "from_start", "epoch"};
    const char* kind = kinds[static_cast<int>(b.kind)];
    Json against{{"result", kind ? Json(kind) : Json(nullptr)},
                 {"epoch", b.kind == BreakEvenKind::kAt ? Json(b.epoch) : Json(nullptr)},
                 {"cheaper_run", kind && b.kind != BreakEvenKind::kNever ? Json(b.cheaper) : Json(nullptr)}};
    const std::optional<EpochCurve>& c = v.curves[i];
    if (!c) {
      per_run.push_back(Json{{"curve", nullptr}, {"against_first", std::move(against)}});
      continue;
    }
    per_run.push_back(Json{{"curve",
                            {{"one_off_seconds", c->one_off},
                             {"pre_train_seconds", c->pre_train},
                             {"train_one_off_seconds", c->train_one_off},
                             {"epoch_seconds", c->epoch_seconds},
                             {"steady_epoch_seconds", c->steady}}},
                           {"against_first", std::move(against)}});
  }
  return Json{{"definition", std::string(kBreakEvenFormula) + "; " + kBreakEvenOutcomes},
              {"chart_epochs", v.any() ? Json(v.chart_epochs) : Json(nullptr)},
              {"epochs_differ", v.epochs_differ},
              {"runs", std::move(per_run)}};
}

}  // namespace

std::string RenderCompareJson(const std::vector<RunResult>& runs) {
  Comparison cmp = Compare(runs);
  Json j;
  j["schema"] = "tierbench.compare/1";
  j["speedup_definition"] = "first run's seconds / this run's seconds; null when either side is not ok";
  j["interval_definition"] =
      "repeated runs (both n >= 2): speedup_low = first's ci95_low / this ci95_high, speedup_high = first's "
      "ci95_high / this ci95_low; significant = the two 95 % intervals do not overlap; null otherwise";
  Json jr = Json::array();
  for (size_t i = 0; i < runs.size(); ++i) {
    const RunResult& r = runs[i];
    jr.push_back(Json{{"label", RunName(r, i)},
                      {"scenario", r.scenario},
                      {"status", StatusName(r.status)},
                      {"started_at", r.started_at},
                      {"hostname", r.host.hostname},
                      {"device", r.host.device},
                      {"total_seconds", r.total_seconds},
                      {"overlapped_seconds", r.overlapped_seconds},
                      {"world_size", r.world_size}});
  }
  j["runs"] = std::move(jr);
  Json stages = Json::array();
  for (const CompareRow& row : cmp.stages) stages.push_back(RowJson(row, false));
  j["stages"] = std::move(stages);
  j["total"] = RowJson(cmp.total, true);
  Json scaling = Json::array();  // present (non-empty) when the runs have two or more world sizes
  for (const ScalingRow& row : Scaling(runs)) {
    Json points = Json::array();
    for (const ScalingPoint& p : row.points)
      points.push_back(Json{{"run", p.run},
                            {"ranks", p.ranks},
                            {"status", p.status ? Json(StatusName(*p.status)) : Json(nullptr)},
                            {"seconds", p.seconds},
                            {"mb_per_s", p.mb_per_s},
                            {"ideal_seconds", Optional(p.ideal_seconds)},
                            {"ideal_mb_per_s", Optional(p.ideal_mb_per_s)}});
    scaling.push_back(Json{{"name", row.stage}, {"points", std::move(points)}});
  }
  j["scaling"] = std::move(scaling);
  j["break_even"] = BreakEvenJson(runs);
  return JsonText(j, 2) + "\n";
}

}  // namespace tb::report
