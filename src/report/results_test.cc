#include "report/results.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "report/runs_testing.h"
#include "report/stats.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/testing.h"
#include "util/utf8.h"

namespace tb::report {
namespace {

using testing::InplaceRun;
using testing::StagedRun;

void ExpectSameRun(const RunResult& a, const RunResult& b) {
  EXPECT_EQ(a.schema, b.schema);
  EXPECT_EQ(a.tool_version, b.tool_version);
  EXPECT_EQ(a.scenario, b.scenario);
  EXPECT_EQ(a.label, b.label);
  EXPECT_EQ(a.started_at, b.started_at);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.host.hostname, b.host.hostname);
  EXPECT_EQ(a.host.cpus, b.host.cpus);
  EXPECT_EQ(a.host.memory_bytes, b.host.memory_bytes);
  EXPECT_EQ(a.host.device, b.host.device);
  EXPECT_EQ(a.host.cpu_model, b.host.cpu_model);
  EXPECT_EQ(a.host.kernel, b.host.kernel);
  EXPECT_EQ(nlohmann::json::parse(a.config_json), nlohmann::json::parse(b.config_json));
  ASSERT_EQ(a.stages.size(), b.stages.size());
  for (size_t i = 0; i < a.stages.size(); ++i) {
    SCOPED_TRACE(a.stages[i].name);
    EXPECT_EQ(a.stages[i].name, b.stages[i].name);
    EXPECT_EQ(a.stages[i].status, b.stages[i].status);
    EXPECT_DOUBLE_EQ(a.stages[i].seconds, b.stages[i].seconds);
    EXPECT_DOUBLE_EQ(a.stages[i].busy_seconds, b.stages[i].busy_seconds);
    EXPECT_DOUBLE_EQ(a.stages[i].start_s, b.stages[i].start_s);
    EXPECT_DOUBLE_EQ(a.stages[i].end_s, b.stages[i].end_s);
    EXPECT_EQ(a.stages[i].bytes, b.stages[i].bytes);
    EXPECT_EQ(a.stages[i].files, b.stages[i].files);
    EXPECT_DOUBLE_EQ(a.stages[i].mb_per_s, b.stages[i].mb_per_s);
    EXPECT_EQ(a.stages[i].error, b.stages[i].error);
    EXPECT_EQ(nlohmann::json::parse(a.stages[i].detail_json), nlohmann::json::parse(b.stages[i].detail_json));
  }
  EXPECT_DOUBLE_EQ(a.total_seconds, b.total_seconds);
  EXPECT_DOUBLE_EQ(a.overlapped_seconds, b.overlapped_seconds);
  EXPECT_EQ(a.train.present, b.train.present);
  EXPECT_EQ(a.train.device, b.train.device);
  EXPECT_EQ(a.train.epochs, b.train.epochs);
  EXPECT_EQ(a.train.steps, b.train.steps);
  EXPECT_DOUBLE_EQ(a.train.final_loss, b.train.final_loss);
  EXPECT_DOUBLE_EQ(a.train.test_accuracy, b.train.test_accuracy);
  EXPECT_DOUBLE_EQ(a.train.steps_per_second, b.train.steps_per_second);
  EXPECT_EQ(a.train.world_size, b.train.world_size);
  EXPECT_EQ(a.train.batch_size, b.train.batch_size);
  EXPECT_EQ(a.train.global_batch_size, b.train.global_batch_size);
}

TEST(ResultsJson, RoundTripsEveryField) {
  RunResult run = StagedRun();
  run.status = StageStatus::kFailed;
  run.overlapped_seconds = 12.5;
  run.stages[6].status = StageStatus::kFailed;
  run.stages[1].busy_seconds = 40.25;
  run.stages[1].start_s = 1.5;
  run.stages[1].end_s = 84.43;
  run.stages[6].error = "upload s3://tierbench/cifar/data_batch_3: HTTP 503 SlowDown";
  run.train.world_size = 2;
  run.train.batch_size = 4;
  run.train.global_batch_size = 8;
  auto parsed = ParseRunResult(ToJson(run), "run.json");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ExpectSameRun(run, *parsed);
}

TEST(ResultsJson, RoundTripsRepeatStatistics) {
  RunResult run = InplaceRun();
  run.stages[3].repeat = MakeRepeatStats({2.0, 1.0, 3.0});
  run.stages[3].seconds = 2.0;
  run.repeat = RunRepeat{5, 2, MakeRepeatStats({10.0, 11.0, 9.0})};
  auto j = nlohmann::json::parse(ToJson(run));
  EXPECT_EQ(j["stages"][3]["repeat"]["n"], 3);
  EXPECT_EQ(j["stages"][3]["repeat"]["seconds"], nlohmann::json::parse("[2.0, 1.0, 3.0]"));
  EXPECT_EQ(j["stages"][3]["repeat"]["ci_level"], 0.75);
  EXPECT_FALSE(j["stages"][2].contains("repeat"));
  EXPECT_EQ(j["repeat"]["warmup"], 2);
  EXPECT_EQ(j["repeat"]["total_seconds"], nlohmann::json::parse("[10.0, 11.0, 9.0]"));
  auto parsed = ParseRunResult(ToJson(run), "run.json");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ExpectSameRun(run, *parsed);
  ASSERT_TRUE(parsed->stages[3].repeat);
  EXPECT_EQ(parsed->stages[3].repeat->seconds, run.stages[3].repeat->seconds);
  EXPECT_DOUBLE_EQ(parsed->stages[3].repeat->median, 2.0);
  EXPECT_DOUBLE_EQ(parsed->stages[3].repeat->ci_low, 1.0);
  EXPECT_DOUBLE_EQ(parsed->stages[3].repeat->ci_high, 3.0);
  EXPECT_FALSE(parsed->stages[2].repeat);
  ASSERT_TRUE(parsed->repeat);
  EXPECT_EQ(parsed->repeat->requested, 5);
  EXPECT_EQ(parsed->repeat->warmup, 2);
  EXPECT_EQ(parsed->repeat->totals.seconds, run.repeat->totals.seconds);
  EXPECT_DOUBLE_EQ(parsed->repeat->totals.median, 10.0);
  // Without repeats: no "repeat" anywhere.
  auto plain = nlohmann::json::parse(ToJson(InplaceRun()));
  EXPECT_FALSE(plain.contains("repeat"));
  EXPECT_FALSE(ParseRunResult(ToJson(InplaceRun()), "a.json")->repeat);
}

TEST(ResultsJson, RejectsMalformedRepeatStatistics) {
  RunResult run = InplaceRun();
  run.stages[3].repeat = MakeRepeatStats({2.0, 1.0, 3.0});
  run.repeat = RunRepeat{3, 0, MakeRepeatStats({10.0, 11.0, 9.0})};
  const auto good = nlohmann::ordered_json::parse(ToJson(run));
  auto expect_error = [&](auto edit, const std::string& want) {
    auto j = good;
    edit(j);
    auto parsed = ParseRunResult(j.dump(), "a.json");
    ASSERT_FALSE(parsed.ok()) << want;
    EXPECT_NE(parsed.status().message().find(want), std::string::npos) << parsed.status().message();
  };
  expect_error([](auto& j) { j["stages"][3]["repeat"]["n"] = 4; }, "field 'stages[3].repeat.seconds' must hold n (4)");
  expect_error([](auto& j) { j["stages"][3]["repeat"]["seconds"][1] = -1; }, "'stages[3].repeat.seconds[1]' must be");
  expect_error([](auto& j) { j["stages"][3]["repeat"]["seconds"] = "x"; }, "must be an array");
  expect_error([](auto& j) { j["stages"][3]["repeat"].erase("median"); }, "'stages[3].repeat.median' is missing");
  expect_error([](auto& j) { j["stages"][3]["repeat"]["median"] = 9; }, "min <= ci95_low <= median");
  expect_error([](auto& j) { j["stages"][3]["repeat"]["ci_level"] = 1.5; }, "ci_level' must be at most 1");
  expect_error([](auto& j) { j["stages"][3]["repeat"] = 3; }, "'stages[3].repeat' must be an object");
  expect_error([](auto& j) { j["repeat"]["total_seconds"] = nlohmann::json::array(); },
               "'repeat.total_seconds' must hold");
  expect_error([](auto& j) { j["repeat"].erase("warmup"); }, "'repeat.warmup' is missing");
}

TEST(ResultsJson, RoundTripsWithoutTraining) {
  RunResult run = InplaceRun();
  run.train = TrainResult{};
  std::string json = ToJson(run);
  EXPECT_NE(json.find("\"train\": null"), std::string::npos) << json;
  auto parsed = ParseRunResult(json, "run.json");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ExpectSameRun(run, *parsed);
}

TEST(ResultsJson, WritesTheDocumentedSchema) {
  auto j = nlohmann::ordered_json::parse(ToJson(StagedRun()));
  std::vector<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"schema", "tool_version", "scenario", "label", "started_at", "status",
                                            "host", "config", "stages", "total_seconds", "overlapped_seconds",
                                            "train"}));
  EXPECT_EQ(j["schema"], "tierbench.run/2");
  std::vector<std::string> stage_keys;
  for (auto it = j["stages"][0].begin(); it != j["stages"][0].end(); ++it) stage_keys.push_back(it.key());
  EXPECT_EQ(stage_keys, (std::vector<std::string>{"name", "status", "seconds", "busy_seconds", "start_s", "end_s",
                                                  "bytes", "files", "mb_per_s", "detail"}));
  EXPECT_TRUE(j["config"].is_object());
  EXPECT_EQ(j["config"]["train"]["epochs"], 2);
  ASSERT_EQ(j["stages"].size(), 9u);
  for (size_t i = 0; i < 9; ++i) EXPECT_EQ(j["stages"][i]["name"], kStageNames[i]);
  EXPECT_EQ(j["stages"][2]["detail"]["entries"], 1283);
  EXPECT_FALSE(j["stages"][0].contains("error"));  // only failed stages carry an error
  EXPECT_EQ(j["host"]["cpu_model"], "AMD EPYC 7543 32-Core Processor");
}

TEST(ResultsJson, KeepsNonObjectConfigVisible) {
  RunResult run = StagedRun();
  run.config_json = "not json";
  auto j = nlohmann::json::parse(ToJson(run));
  EXPECT_EQ(j["config"]["unparsed"], "not json");
}

TEST(ResultsJson, NonFiniteNumbersAreWrittenAsZero) {
  RunResult run = StagedRun();
  run.stages[0].mb_per_s = std::numeric_limits<double>::infinity();
  auto parsed = ParseRunResult(ToJson(run), "run.json");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->stages[0].mb_per_s, 0);
}

// Strings from outside (labels, paths, member names, manifest entries, keys, class names) need
// not be UTF-8. Whatever field they land in, the document is written — valid UTF-8 JSON that
// parses back — with each invalid byte shown as GNU tar shows it (\ooo).
TEST(ResultsJson, NonUtf8StringsInEveryFieldAreWrittenEscaped) {
  const std::string bad = "caf\xe9\xff";  // Latin-1 e-acute and a byte that is never UTF-8
  const std::string esc = "caf\\351\\377";
  RunResult run = StagedRun();
  run.label = "label-" + bad;
  run.scenario = "staged" + bad;
  run.tool_version = "0.1.0" + bad;
  run.started_at = "2026" + bad;
  run.host.hostname = "host-" + bad;
  run.host.cpu_model = "cpu-" + bad;
  run.host.kernel = "Linux " + bad;
  run.host.device = "dev" + bad;
  // Stage errors, and details built as stages build them (keys and values, at any depth).
  run.status = StageStatus::kFailed;
  run.stages[2].status = StageStatus::kFailed;
  run.stages[2].error = "stage extract: member cifar-10-batches-py/" + bad + ": truncated";
  nlohmann::json detail = {{"archive", "/data/" + bad + ".tar.gz"},
                           {"mismatched", {"cifar-10-batches-py/" + bad}},
                           {"classes", {{"names", {"plane", bad}}}},
                           {"key-" + bad, 1}};
  run.stages[2].detail_json = JsonText(detail);
  // Text that is not JSON (kept as "unparsed") and raw bytes inside a JSON string.
  run.stages[3].detail_json = "not json " + bad;
  run.stages[4].detail_json = "{\"dir\": \"/mnt/" + bad + "\"}";
  run.config_json = JsonText(nlohmann::json{{"label", run.label}, {"inplace", {{"dir", "/mnt/" + bad}}}});
  run.train.device = "cpu" + bad;

  std::string text = ToJson(run);
  EXPECT_TRUE(IsValidUtf8(text));
  auto j = nlohmann::json::parse(text);  // throws (fails the test) if not valid JSON
  EXPECT_EQ(j["label"], "label-" + esc);
  EXPECT_EQ(j["scenario"], "staged" + esc);
  EXPECT_EQ(j["tool_version"], "0.1.0" + esc);
  EXPECT_EQ(j["started_at"], "2026" + esc);
  EXPECT_EQ(j["host"]["hostname"], "host-" + esc);
  EXPECT_EQ(j["host"]["cpu_model"], "cpu-" + esc);
  EXPECT_EQ(j["host"]["kernel"], "Linux " + esc);
  EXPECT_EQ(j["host"]["device"], "dev" + esc);
  EXPECT_EQ(j["stages"][2]["error"], "stage extract: member cifar-10-batches-py/" + esc + ": truncated");
  EXPECT_EQ(j["stages"][2]["detail"]["archive"], "/data/" + esc + ".tar.gz");
  EXPECT_EQ(j["stages"][2]["detail"]["mismatched"][0], "cifar-10-batches-py/" + esc);
  EXPECT_EQ(j["stages"][2]["detail"]["classes"]["names"][1], esc);
  EXPECT_EQ(j["stages"][2]["detail"]["key-" + esc], 1);
  EXPECT_EQ(j["stages"][3]["detail"]["unparsed"], "not json " + esc);
  EXPECT_EQ(j["stages"][4]["detail"]["unparsed"], "{\"dir\": \"/mnt/" + esc + "\"}");
  EXPECT_EQ(j["config"]["label"], "label-" + esc);
  EXPECT_EQ(j["config"]["inplace"]["dir"], "/mnt/" + esc);
  EXPECT_EQ(j["train"]["device"], "cpu" + esc);
  // The strict reader accepts what was written, and the escaped text is stable.
  auto parsed = ParseRunResult(text, "run.json");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->label, "label-" + esc);
  EXPECT_EQ(ToJson(*parsed), text);
  // Every rendering of it works too.
  for (const std::string& out : {RenderCompareJson({run, StagedRun()}), RenderCompareHtml({run}),
                                 RenderCompareSvg({run}), RenderStageTable(run), RenderCompareTable({run})}) {
    EXPECT_FALSE(out.empty());
  }
  auto cmp = nlohmann::json::parse(RenderCompareJson({run, StagedRun()}));
  EXPECT_EQ(cmp["runs"][0]["label"], "label-" + esc);
}

// Removes or replaces `pointer` in a valid document and returns the parse error.
std::string ErrorAfter(const std::string& pointer, const nlohmann::json* replacement) {
  auto j = nlohmann::json::parse(ToJson(StagedRun()));
  nlohmann::json::json_pointer p(pointer);
  if (replacement) {
    j[p] = *replacement;
  } else {
    j[p.parent_pointer()].erase(p.back());
  }
  auto parsed = ParseRunResult(j.dump(), "results/a.json");
  EXPECT_FALSE(parsed.ok()) << pointer;
  if (parsed.ok()) return "";
  EXPECT_EQ(parsed.status().code(), Code::kInvalidArgument);
  return parsed.status().message();
}

TEST(ResultsParse, MissingFieldsAreNamed) {
  EXPECT_EQ(ErrorAfter("/label", nullptr), "results/a.json: field 'label' is missing");
  EXPECT_EQ(ErrorAfter("/host/cpus", nullptr), "results/a.json: field 'host.cpus' is missing");
  EXPECT_EQ(ErrorAfter("/stages/3/seconds", nullptr), "results/a.json: field 'stages[3].seconds' is missing");
  EXPECT_EQ(ErrorAfter("/total_seconds", nullptr), "results/a.json: field 'total_seconds' is missing");
  EXPECT_EQ(ErrorAfter("/train", nullptr), "results/a.json: field 'train' is missing");
  EXPECT_EQ(ErrorAfter("/train/final_loss", nullptr), "results/a.json: field 'train.final_loss' is missing");
}

TEST(ResultsParse, InvalidFieldsAreNamed) {
  nlohmann::json text = "fast", negative = -1, huge_status = "great", arr = nlohmann::json::array();
  EXPECT_EQ(ErrorAfter("/total_seconds", &text), "results/a.json: field 'total_seconds' must be a number, got string");
  EXPECT_EQ(ErrorAfter("/stages/0/bytes", &negative),
            "results/a.json: field 'stages[0].bytes' must be an integer >= 0, got -1");
  EXPECT_EQ(ErrorAfter("/stages/8/status", &huge_status),
            "results/a.json: field 'stages[8].status' must be one of ok, skipped, failed, interrupted, got 'great'");
  EXPECT_EQ(ErrorAfter("/host", &arr), "results/a.json: field 'host' must be an object, got array");
  EXPECT_EQ(ErrorAfter("/config", &text), "results/a.json: field 'config' must be an object, got string");
  EXPECT_EQ(ErrorAfter("/stages", &text), "results/a.json: field 'stages' must be an array, got string");
  nlohmann::json zero = 0;
  EXPECT_EQ(ErrorAfter("/train/world_size", &zero),
            "results/a.json: field 'train.world_size' must be an integer from 1 to 1048576, got 0");
  EXPECT_EQ(ErrorAfter("/train/global_batch_size", &negative),
            "results/a.json: field 'train.global_batch_size' must be an integer >= 0, got -1");
}

TEST(ResultsParse, FailedStageNeedsAnError) {
  nlohmann::json failed = "failed";
  EXPECT_EQ(ErrorAfter("/stages/1/status", &failed),
            "results/a.json: field 'stages[1].error' is missing (stage failed)");
}

TEST(ResultsParse, OptionalFieldsMayBeAbsent) {
  auto j = nlohmann::json::parse(ToJson(StagedRun()));
  j.erase("overlapped_seconds");
  j["host"].erase("cpu_model");
  j["host"].erase("kernel");
  j["stages"][0].erase("detail");
  j["train"].erase("steps_per_second");
  j["train"]["world_size"] = 3;
  ASSERT_EQ(ParseRunResult(j.dump(), "a.json")->train.world_size, 3);
  for (const char* key : {"world_size", "batch_size", "global_batch_size"}) j["train"].erase(key);
  auto parsed = ParseRunResult(j.dump(), "a.json");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->train.world_size, 1);  // a run without the field: one rank
  EXPECT_EQ(parsed->train.batch_size, 0);
  EXPECT_EQ(parsed->overlapped_seconds, 0);
  EXPECT_EQ(parsed->stages[0].detail_json, "{}");
}

// Where training waited for data: optional (older documents lack it), kept when present,
// range-checked (AU is a share: 0..1).
TEST(ResultsParse, TrainDataWaitFieldsAreOptionalAndRoundTrip) {
  RunResult run = StagedRun();
  auto absent = ParseRunResult(ToJson(run), "a.json");
  ASSERT_TRUE(absent.ok()) << absent.status().ToString();
  EXPECT_FALSE(absent->train.au);
  EXPECT_EQ(nlohmann::json::parse(ToJson(run))["train"].count("au"), 0u);
  run.train.au = 0.875;
  run.train.first_batch_seconds = 1.5;
  run.train.data_wait_seconds = 2;
  run.train.compute_seconds = 14;
  run.train.samples_per_second = 809.6;
  auto parsed = ParseRunResult(ToJson(run), "a.json");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->train.au, 0.875);
  EXPECT_EQ(parsed->train.first_batch_seconds, 1.5);
  EXPECT_EQ(parsed->train.data_wait_seconds, 2);
  EXPECT_EQ(parsed->train.compute_seconds, 14);
  EXPECT_EQ(parsed->train.samples_per_second, 809.6);
  auto j = nlohmann::json::parse(ToJson(run));
  j["train"]["au"] = 1.5;
  auto over = ParseRunResult(j.dump(), "a.json");
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().message(), "a.json: field 'train.au' must be <= 1, got 1.500000");
  j["train"]["au"] = "high";
  EXPECT_EQ(ParseRunResult(j.dump(), "a.json").status().message(),
            "a.json: field 'train.au' must be a number, got string");
}

TEST(ResultsParse, UnknownSchemaVersionIsClear) {
  nlohmann::json v3 = "tierbench.run/3", other = "elbencho/1";
  EXPECT_EQ(ErrorAfter("/schema", &v3),
            "results/a.json: unsupported schema version 'tierbench.run/3' (this tierbench reads tierbench.run/2 and "
            "tierbench.run/1)");
  EXPECT_NE(ErrorAfter("/schema", &other).find("not a tierbench results file"), std::string::npos);
  EXPECT_EQ(ErrorAfter("/schema", nullptr), "results/a.json: field 'schema' is missing");
}

// A tierbench.run/1 document (no busy_seconds, start_s, end_s) still loads: the one time it
// has is the span, busy time is taken to be the same, and it compares with a /2 run.
TEST(ResultsParse, SchemaV1StillLoadsAndCompares) {
  RunResult old_run = StagedRun();
  auto j = nlohmann::json::parse(ToJson(old_run));
  j["schema"] = "tierbench.run/1";
  for (auto& st : j["stages"]) {
    st.erase("busy_seconds");
    st.erase("start_s");
    st.erase("end_s");
  }
  auto parsed = ParseRunResult(j.dump(), "old.json");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->schema, kSchema);
  EXPECT_DOUBLE_EQ(parsed->stages[3].seconds, 872.40);
  EXPECT_DOUBLE_EQ(parsed->stages[3].busy_seconds, 872.40);
  EXPECT_EQ(parsed->stages[3].start_s, 0);
  RunResult now = InplaceRun();
  std::string table = RenderCompareTable({*parsed, now});
  EXPECT_NE(table.find("4.08\u00d7"), std::string::npos) << table;  // verify: 872.40 / 214.04
  // In /2 the clocks are checked like any number.
  nlohmann::json negative = -1;
  EXPECT_EQ(ErrorAfter("/stages/2/busy_seconds", &negative),
            "results/a.json: field 'stages[2].busy_seconds' must be a finite number >= 0, got -1");
}

TEST(ResultsParse, SyntaxErrorsNameTheFile) {
  auto parsed = ParseRunResult("{\"schema\": ", "b.json");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message().rfind("b.json: not valid JSON", 0), 0u) << parsed.status().message();
  auto escape = ParseRunResult("{\"a\": x\x1b[2J}", "e.json");
  ASSERT_FALSE(escape.ok());
  EXPECT_EQ(escape.status().message().find('\x1b'), std::string::npos) << escape.status().message();
  auto array = ParseRunResult("[1,2]", "c.json");
  ASSERT_FALSE(array.ok());
  EXPECT_NE(array.status().message().find("c.json: not a tierbench results file"), std::string::npos);
}

TEST(ResultsParse, LoadNamesAMissingFile) {
  tb::testing::TempDir dir;
  auto missing = LoadRunResult(dir / "nope.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find(dir / "nope.json"), std::string::npos);
  ASSERT_TRUE(WriteFileAtomic(dir / "ok.json", ToJson(InplaceRun())).ok());
  auto ok = LoadRunResult(dir / "ok.json");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->label, "WEKA");
}

TEST(ResultsJson, RoundTripsTheFieldsOfSeveralRanks) {
  RunResult run = testing::RanksRun(2);
  run.stages[3].started_unix = 1764180000.25;
  run.stages[3].ranks = {RankStage{0, StageStatus::kOk, 100.5, 93000000, 642},
                         RankStage{1, StageStatus::kOk, 107.02, 93000000, 641}};
  run.stages[3].slowest_rank = 1;
  auto back = ParseRunResult(ToJson(run), "merged.json");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->world_size, 2);
  EXPECT_EQ(back->launcher, "mpi");
  ASSERT_EQ(back->ranks.size(), 2u);
  EXPECT_EQ(back->ranks[1].rank, 1);
  EXPECT_EQ(back->ranks[1].host.hostname, "node-1");
  EXPECT_EQ(back->ranks[1].host.cpu_model, "AMD EPYC 7543 32-Core Processor");
  const StageResult& verify = back->stages[3];
  EXPECT_DOUBLE_EQ(verify.started_unix, 1764180000.25);
  ASSERT_EQ(verify.ranks.size(), 2u);
  EXPECT_EQ(verify.ranks[1].files, 641u);
  EXPECT_DOUBLE_EQ(verify.ranks[1].seconds, 107.02);
  EXPECT_EQ(verify.slowest_rank, 1);
  EXPECT_EQ(back->stages[4].slowest_rank, -1);
  EXPECT_TRUE(back->stages[4].ranks.empty());
}

TEST(ResultsJson, OneRankWritesNoWorldFields) {
  std::string text = ToJson(StagedRun());
  auto j = nlohmann::json::parse(text);
  EXPECT_FALSE(j.contains("world_size"));
  EXPECT_FALSE(j.contains("ranks"));
  EXPECT_FALSE(j["stages"][0].contains("ranks"));
  auto back = ParseRunResult(text, "one.json");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->world_size, 1);
  EXPECT_TRUE(back->ranks.empty());
}

TEST(ResultsParse, BadFieldsOfSeveralRanksAreNamed) {
  auto j = nlohmann::json::parse(ToJson(testing::RanksRun(2)));
  auto expect_error = [&](nlohmann::json doc, const std::string& field) {
    auto r = ParseRunResult(doc.dump(), "m.json");
    ASSERT_FALSE(r.ok()) << field;
    EXPECT_NE(r.status().message().find("field '" + field + "'"), std::string::npos) << r.status().message();
  };
  auto doc = j;
  doc["world_size"] = 0;
  expect_error(doc, "world_size");
  doc = j;
  doc["ranks"][1]["host"].erase("hostname");
  expect_error(doc, "ranks[1].host.hostname");
  doc = j;
  doc["stages"][3]["ranks"] =
      nlohmann::json::array({{{"rank", 0}, {"status", "done"}, {"seconds", 1}, {"bytes", 0}, {"files", 0}}});
  expect_error(doc, "stages[3].ranks[0].status");
  doc = j;
  doc["stages"][3]["slowest_rank"] = -1;
  expect_error(doc, "stages[3].slowest_rank");
}

TEST(HostInfo, CollectsThisMachine) {
  HostInfo h = CollectHostInfo();
  EXPECT_FALSE(h.hostname.empty());
  EXPECT_GE(h.cpus, 1);
  EXPECT_GT(h.memory_bytes, 64ull << 20);
  EXPECT_EQ(h.device, "cpu");
  EXPECT_EQ(h.kernel.rfind("Linux ", 0), 0u) << h.kernel;
  EXPECT_FALSE(h.cpu_model.empty());
}

}  // namespace
}  // namespace tb::report
