// The streamed pass as the runner frames it, over mem:// and the fault-injecting wrappers: a
// failure in each of download, integrity, extract and verify, and an interruption. Results
// stay complete (all nine stages), the failing stage says why, later stages are skipped and
// nothing half-ingested is left under a final name.
#include <archive.h>
#include <archive_entry.h>

#include <gtest/gtest.h>
#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "pipeline/runner.h"
#include "storage/storage.h"
#include "storage/wrappers.h"
#include "util/fs.h"
#include "util/md5.h"
#include "util/testing.h"

namespace tb::pipeline {
namespace {

using report::StageStatus;
namespace fs = std::filesystem;

struct Member {
  std::string path, data;
};

// A .tar.gz in memory, written with libarchive.
std::string TarGz(const std::vector<Member>& members) {
  std::string out(16 << 20, '\0');
  size_t used = 0;
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_add_filter_gzip(a);
  archive_write_open_memory(a, out.data(), out.size(), &used);
  for (const auto& m : members) {
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, m.path.c_str());
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, static_cast<la_int64_t>(m.data.size()));
    archive_write_header(a, e);
    archive_write_data(a, m.data.data(), m.data.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  out.resize(used);
  return out;
}

std::string Bytes(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    seed = seed * 1103515245u + 12345u;
    s[i] = static_cast<char>(seed >> 16);
  }
  return s;
}

std::string Md5Hex(const std::string& s) { return ToHex(Md5Of(s)); }

class StreamedRun : public ::testing::Test {
 protected:
  void SetUp() override {
    // Members big enough to span several chunks of the pass (1 MiB each).
    members_ = {{"cifar-10-batches-py/batches.meta", Bytes(1000, 1)},
                {"cifar-10-batches-py/data_batch_1", Bytes(3 << 20, 2)},
                {"cifar-10-batches-py/data_batch_2", Bytes(2 << 20, 3)}};
  }

  // Puts the tarball at mem://<ns>/cifar.tar.gz and the manifest (md5sum format) in the temp
  // folder; `manifest` overrides the md5 of a path.
  void Publish(const std::vector<Member>& members, const std::map<std::string, std::string>& manifest = {}) {
    tarball_ = TarGz(members);
    ns_ = "stream-test-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name());
    auto mem = storage::NewMemoryStorage(ns_);
    auto w = mem->OpenWrite("cifar.tar.gz");
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append(tarball_).ok());
    ASSERT_TRUE((*w)->Commit().ok());
    std::string text;
    for (const auto& m : members_) {
      auto it = manifest.find(m.path);
      text += (it != manifest.end() ? it->second : Md5Hex(m.data)) + "  " + m.path + "\n";
    }
    ASSERT_TRUE(WriteFileAtomic(tmp_ / "manifest.md5", text).ok());
  }

  // Runs the job (download..verify, streaming) with the origin opened through `faults`.
  report::RunResult Run(const std::function<void(storage::FaultInjectionStorage&)>& faults = {},
                        bool cancel_on_open = false, const Overrides& extra = {}) {
    Overrides o = {{"scenario", "staged"},           {"label", "stream-test"},
                   {"scratch", tmp_ / "scratch"},    {"out", tmp_ / "run.json"},
                   {"log", tmp_ / "run.log"},        {"origin.url", "mem://" + ns_ + "/cifar.tar.gz"},
                   {"origin.md5", Md5Hex(tarball_)}, {"origin.manifest", tmp_ / "manifest.md5"}};
    for (const char* s : {"pickled", "meta", "upload", "preview", "train"})
      o.emplace_back(std::string("stages.") + s, "false");
    o.insert(o.end(), extra.begin(), extra.end());
    auto cfg = ParseConfigText("", "test", o);
    EXPECT_TRUE(cfg.ok()) << cfg.status().ToString();
    RunOptions options;
    options.cancel = &cancel_;
    options.progress = ProgressMode::kOff;
    options.open_stream = [&](const std::string&, const storage::Options&) -> Result<std::unique_ptr<storage::Reader>> {
      TB_ASSIGN_OR_RETURN(auto inner, storage::Open("mem://" + ns_, storage::Options()));
      faulty_ = std::make_unique<storage::FaultInjectionStorage>(std::move(inner));
      if (faults) faults(*faulty_);
      if (cancel_on_open) cancel_ = true;  // as a signal arriving once the transfer has begun
      return faulty_->OpenRead("cifar.tar.gz");
    };
    report::RunResult run = RunPipeline(*cfg, options);
    auto log = ReadFile(tmp_ / "run.log");
    log_ = log.ok() ? *log : "";
    return run;
  }

  static const report::StageResult& Stage(const report::RunResult& run, const char* name) {
    for (const auto& s : run.stages)
      if (s.name == name) return s;
    static report::StageResult none;
    ADD_FAILURE() << "no stage " << name;
    return none;
  }
  static std::string Reason(const report::StageResult& s) {
    auto j = nlohmann::json::parse(s.detail_json, nullptr, false);
    return j.is_object() && j.contains("reason") ? j["reason"].get<std::string>() : "";
  }
  // The statuses of download, integrity, extract, verify, pickled, in order.
  static std::vector<StageStatus> Statuses(const report::RunResult& run) {
    std::vector<StageStatus> out;
    for (const char* n : {"download", "integrity", "extract", "verify", "pickled"}) out.push_back(Stage(run, n).status);
    return out;
  }
  bool FinalMemberExists(const std::string& path) const { return fs::exists(tmp_ / ("scratch/extract/" + path)); }

  testing::TempDir tmp_;
  std::vector<Member> members_;
  std::string tarball_, ns_, log_;
  std::atomic<bool> cancel_{false};
  std::unique_ptr<storage::FaultInjectionStorage> faulty_;
};

constexpr auto kOk = StageStatus::kOk, kSkipped = StageStatus::kSkipped, kFailed = StageStatus::kFailed,
               kInterrupted = StageStatus::kInterrupted;

TEST_F(StreamedRun, AllStagesOkWithOverlappingSpansMatchingTheLog) {
  Publish(members_);
  auto run = Run();
  ASSERT_EQ(run.stages.size(), 9u);
  EXPECT_EQ(run.status, kOk);
  EXPECT_EQ(Statuses(run), (std::vector<StageStatus>{kOk, kOk, kOk, kOk, kSkipped}));
  EXPECT_NE(log_.find("stage download,integrity,extract,verify start (streaming)"), std::string::npos) << log_;
  EXPECT_EQ(Stage(run, "download").bytes, tarball_.size());
  EXPECT_EQ(Stage(run, "verify").files, members_.size());
  for (const auto& m : members_) EXPECT_TRUE(FinalMemberExists(m.path)) << m.path;
  EXPECT_TRUE(fs::exists(tmp_ / "scratch/cifar.tar.gz"));
  // Two clocks: each stage's seconds is its span, busy time fits in it (one thread each),
  // and the end lines come in pipeline order with the same seconds.
  size_t last_line = 0;
  for (const char* n : {"download", "integrity", "extract", "verify"}) {
    const auto& s = Stage(run, n);
    EXPECT_LE(s.start_s, s.end_s) << n;
    EXPECT_DOUBLE_EQ(s.seconds, s.end_s - s.start_s) << n;
    EXPECT_LE(s.busy_seconds, s.seconds * 1 + 1e-9) << n;
    EXPECT_LE(s.end_s, run.total_seconds) << n;
    char line[128];
    std::snprintf(line, sizeof line, "stage %s end status=ok seconds=%.3f", n, s.seconds);
    size_t at = log_.find(line);
    ASSERT_NE(at, std::string::npos) << line << "\n" << log_;
    EXPECT_GT(at, last_line) << n;
    last_line = at;
  }
  // Download's bytes feed extract: their spans overlap, and the run reports the overlap.
  const auto &d = Stage(run, "download"), &x = Stage(run, "extract");
  EXPECT_LT(x.start_s, d.end_s);
  EXPECT_GT(run.overlapped_seconds, 0);
  EXPECT_LE(run.overlapped_seconds,
            d.seconds + Stage(run, "integrity").seconds + x.seconds + Stage(run, "verify").seconds);
}

// The same job in the sequential order: spans follow one another, each between its start and
// end lines, and busy time is the span.
TEST_F(StreamedRun, SequentialOrderHasDisjointSpansInLogOrder) {
  Publish(members_);
  auto run = Run({}, false, {{"pipeline.stream", "false"}});
  EXPECT_EQ(Statuses(run), (std::vector<StageStatus>{kOk, kOk, kOk, kOk, kSkipped}));
  EXPECT_EQ(log_.find("(streaming)"), std::string::npos) << log_;
  double last_end = 0;
  size_t last_line = 0;
  for (const char* n : {"download", "integrity", "extract", "verify"}) {
    const auto& s = Stage(run, n);
    EXPECT_GE(s.start_s, last_end) << n;
    EXPECT_DOUBLE_EQ(s.seconds, s.end_s - s.start_s) << n;
    EXPECT_DOUBLE_EQ(s.busy_seconds, s.seconds) << n;
    last_end = s.end_s;
    size_t start = log_.find(std::string("stage ") + n + " start");
    size_t end = log_.find(std::string("stage ") + n + " end status=ok");
    ASSERT_NE(start, std::string::npos) << n << "\n" << log_;
    ASSERT_NE(end, std::string::npos) << n << "\n" << log_;
    EXPECT_GT(start, last_line) << n;
    EXPECT_GT(end, start) << n;
    last_line = end;
  }
  EXPECT_EQ(run.overlapped_seconds, 0);
}

TEST_F(StreamedRun, ReadFailureFailsDownloadAndSkipsTheRest) {
  Publish(members_);
  auto run = Run([](storage::FaultInjectionStorage& f) {
    f.FailOps(2, 1000, Status::PermissionDenied("denied by the test"), static_cast<int>(storage::StorageOp::kRead));
  });
  EXPECT_EQ(run.status, kFailed);
  EXPECT_EQ(Statuses(run), (std::vector<StageStatus>{kFailed, kSkipped, kSkipped, kSkipped, kSkipped}));
  EXPECT_NE(Stage(run, "download").error.find("denied by the test"), std::string::npos) << Stage(run, "download").error;
  EXPECT_EQ(Reason(Stage(run, "extract")), "stage download did not complete");
  EXPECT_EQ(Stage(run, "extract").seconds, 0);
  EXPECT_FALSE(fs::exists(tmp_ / "scratch/cifar.tar.gz"));
  EXPECT_FALSE(fs::exists(tmp_ / "scratch/extract"));
}

TEST_F(StreamedRun, CorruptByteFailsIntegrityNotExtract) {
  Publish(members_);
  auto run = Run([&](storage::FaultInjectionStorage& f) { f.CorruptByteAt(tarball_.size() / 2); });
  EXPECT_EQ(Statuses(run), (std::vector<StageStatus>{kOk, kFailed, kSkipped, kSkipped, kSkipped}));
  EXPECT_NE(Stage(run, "integrity").error.find("md5 mismatch"), std::string::npos) << Stage(run, "integrity").error;
  EXPECT_FALSE(fs::exists(tmp_ / "scratch/cifar.tar.gz"));  // a tarball that failed its check is not kept
  EXPECT_FALSE(fs::exists(tmp_ / "scratch/extract"));
}

TEST_F(StreamedRun, UnsafeMemberFailsExtractAfterIntactDownload) {
  members_.push_back({"../escaped", "x"});
  Publish(members_);
  auto run = Run();
  EXPECT_EQ(Statuses(run), (std::vector<StageStatus>{kOk, kOk, kFailed, kSkipped, kSkipped}));
  EXPECT_NE(Stage(run, "extract").error.find("escaped"), std::string::npos) << Stage(run, "extract").error;
  EXPECT_EQ(Reason(Stage(run, "verify")), "stage extract did not complete");
  EXPECT_TRUE(fs::exists(tmp_ / "scratch/cifar.tar.gz"));  // intact and checked: kept for inspection
  EXPECT_FALSE(fs::exists(tmp_ / "scratch/extract"));
  EXPECT_FALSE(fs::exists(tmp_ / "escaped"));
}

TEST_F(StreamedRun, MemberDifferingFromTheManifestFailsVerify) {
  Publish(members_, {{"cifar-10-batches-py/data_batch_1", Md5Hex("something else")}});
  auto run = Run();
  EXPECT_EQ(Statuses(run), (std::vector<StageStatus>{kOk, kOk, kOk, kFailed, kSkipped}));
  EXPECT_NE(Stage(run, "verify").error.find("data_batch_1"), std::string::npos) << Stage(run, "verify").error;
  EXPECT_FALSE(FinalMemberExists("cifar-10-batches-py/data_batch_1"));
  EXPECT_EQ(Reason(Stage(run, "pickled")), "stage verify did not complete");
}

TEST_F(StreamedRun, CancelDuringTheTransferInterruptsDownload) {
  Publish(members_);
  auto run = Run({}, /*cancel_on_open=*/true);
  EXPECT_EQ(run.status, kInterrupted);
  EXPECT_EQ(Statuses(run), (std::vector<StageStatus>{kInterrupted, kSkipped, kSkipped, kSkipped, kSkipped}));
  EXPECT_NE(Stage(run, "download").error.find("interrupted"), std::string::npos) << Stage(run, "download").error;
  EXPECT_FALSE(fs::exists(tmp_ / "scratch/cifar.tar.gz"));
  EXPECT_FALSE(fs::exists(tmp_ / "scratch/extract"));
}

}  // namespace
}  // namespace tb::pipeline
