// The optional per-stage "io" object (provenance and cache control) in the results document.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "report/results.h"
#include "report/runs_testing.h"

namespace tb::report {
namespace {

RunResult RunWithIo() {
  RunResult run = testing::InplaceRun();
  StageIo& io = run.stages[3].io;  // verify
  io.present = true;
  io.filesystem = "ext4";
  io.input_files = 8;
  io.input_bytes = 184000000;
  io.device_counted = true;
  io.read_bytes = 184000100;
  io.device_read_bytes = 183500000;
  io.cache_read_bytes = 500100;
  io.write_bytes = 12;
  io.device_write_bytes = 4096;
  io.net_rx_bytes = 7;
  io.net_tx_bytes = 9;
  io.net_requests = 2;
  io.user_cpu_seconds = 0.75;
  io.system_cpu_seconds = 0.25;
  io.cache_mode = "cold";
  io.evict_method = "fadvise";
  io.evicted_files = 8;
  io.evicted_bytes = 184000000;
  io.cold_honoured = true;
  io.notes = {"a note"};
  StageIo& streamed = run.stages[4].io;
  streamed.present = true;
  streamed.scope = "streamed";
  streamed.potential_caching = true;
  return run;
}

TEST(ResultsIo, RoundTrips) {
  RunResult run = RunWithIo();
  auto parsed = ParseRunResult(ToJson(run), "a.json");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  const StageIo& a = run.stages[3].io;
  const StageIo& b = parsed->stages[3].io;
  EXPECT_TRUE(b.present);
  EXPECT_EQ(b.scope, "stage");
  EXPECT_EQ(b.filesystem, a.filesystem);
  EXPECT_EQ(b.input_files, a.input_files);
  EXPECT_EQ(b.input_bytes, a.input_bytes);
  EXPECT_EQ(b.device_counted, a.device_counted);
  EXPECT_EQ(b.read_bytes, a.read_bytes);
  EXPECT_EQ(b.device_read_bytes, a.device_read_bytes);
  EXPECT_EQ(b.cache_read_bytes, a.cache_read_bytes);
  EXPECT_EQ(b.write_bytes, a.write_bytes);
  EXPECT_EQ(b.device_write_bytes, a.device_write_bytes);
  EXPECT_EQ(b.net_rx_bytes, a.net_rx_bytes);
  EXPECT_EQ(b.net_tx_bytes, a.net_tx_bytes);
  EXPECT_EQ(b.net_requests, a.net_requests);
  EXPECT_DOUBLE_EQ(b.user_cpu_seconds, a.user_cpu_seconds);
  EXPECT_DOUBLE_EQ(b.system_cpu_seconds, a.system_cpu_seconds);
  EXPECT_EQ(b.cache_mode, "cold");
  EXPECT_EQ(b.evict_method, "fadvise");
  EXPECT_EQ(b.evicted_files, a.evicted_files);
  EXPECT_EQ(b.evicted_bytes, a.evicted_bytes);
  EXPECT_TRUE(b.cold_honoured);
  EXPECT_EQ(b.notes, a.notes);
  EXPECT_EQ(parsed->stages[4].io.scope, "streamed");
  EXPECT_TRUE(parsed->stages[4].io.potential_caching);
  EXPECT_FALSE(parsed->stages[0].io.present);
}

TEST(ResultsIo, AbsentInOlderDocuments) {
  RunResult run = testing::InplaceRun();
  std::string text = ToJson(run);
  EXPECT_EQ(text.find("\"io\""), std::string::npos);
  auto parsed = ParseRunResult(text, "old.json");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  for (const auto& s : parsed->stages) EXPECT_FALSE(s.io.present) << s.name;
}

TEST(ResultsIo, InvalidFieldsAreNamed) {
  auto doc = nlohmann::json::parse(ToJson(RunWithIo()));
  auto expect_error = [&](nlohmann::json d, const std::string& field) {
    auto parsed = ParseRunResult(d.dump(), "x.json");
    ASSERT_FALSE(parsed.ok()) << field;
    EXPECT_NE(parsed.status().message().find(field), std::string::npos) << parsed.status().message();
  };
  auto d = doc;
  d["stages"][3]["io"]["device_read_bytes"] = -1;
  expect_error(d, "stages[3].io.device_read_bytes");
  d = doc;
  d["stages"][3]["io"]["potential_caching"] = "yes";
  expect_error(d, "stages[3].io.potential_caching");
  d = doc;
  d["stages"][3]["io"]["cache"]["mode"] = "lukewarm";
  expect_error(d, "stages[3].io.cache.mode");
  d = doc;
  d["stages"][3]["io"]["notes"] = nlohmann::json::array({1});
  expect_error(d, "stages[3].io.notes[0]");
  d = doc;
  d["stages"][3]["io"] = "fast";
  expect_error(d, "stages[3].io");
}

}  // namespace
}  // namespace tb::report
