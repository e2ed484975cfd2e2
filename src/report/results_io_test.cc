// The optional per-stage "io" object (provenance and cache control) in the results document.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "report/io_columns.h"
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

TEST(IoColumns, ParsesTheList) {
  auto all = ParseIoColumns("all");
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->device && all->cache && all->net && all->cpu);
  auto some = ParseIoColumns("cpu,,device");
  ASSERT_TRUE(some.ok());
  EXPECT_TRUE(some->device && some->cpu && !some->cache && !some->net);
  auto none = ParseIoColumns("");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->any());
  auto bad = ParseIoColumns("device,\x1b[2Jdisk");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("unknown column"), std::string::npos);
  EXPECT_EQ(bad.status().message().find('\x1b'), std::string::npos);
}

TEST(IoColumns, StageTableShowsTheSelectedColumns) {
  RunResult run = RunWithIo();
  std::string plain = RenderStageTable(run);
  EXPECT_EQ(plain.find("Device MB"), std::string::npos);
  IoColumns c;
  c.device = c.cache = c.net = c.cpu = true;
  std::string t = RenderStageTable(run, c);
  for (const char* head : {"Device MB", "Cache MB", "Net MB", "Requests", "CPU s"})
    EXPECT_NE(t.find(head), std::string::npos) << head << "\n" << t;
  EXPECT_NE(t.find("183.5"), std::string::npos) << t;  // verify's device MB
  EXPECT_NE(t.find("1.00"), std::string::npos) << t;   // verify's CPU seconds (0.75 + 0.25)
  std::string cmp = RenderCompareTable({run, testing::InplaceRun()}, c);
  EXPECT_NE(cmp.find("Where the bytes came from"), std::string::npos) << cmp;
  EXPECT_NE(cmp.find("183.5"), std::string::npos) << cmp;
}

TEST(IoColumns, UnhonouredColdAndCachingAreAlwaysNoted) {
  RunResult run = RunWithIo();
  StageIo& io = run.stages[3].io;
  io.cold_honoured = false;
  io.notes.push_back("cold cache not honoured: the inputs are on tmpfs, which keeps files only in memory");
  io.potential_caching = true;
  std::string t = RenderStageTable(run);
  EXPECT_NE(t.find("verify: cold cache not honoured: the inputs are on tmpfs"), std::string::npos) << t;
  EXPECT_NE(t.find("verify: potential caching"), std::string::npos) << t;
  std::string html = RenderCompareHtml({run});
  EXPECT_NE(html.find("Where the bytes came from"), std::string::npos);
  EXPECT_NE(html.find("not honoured"), std::string::npos);
}

}  // namespace
}  // namespace tb::report
