#include "pipeline/ingest.h"

#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "dataset/archive.h"
#include "dataset/cifar.h"
#include "dataset/manifest.h"
#include "launch/cluster.h"
#include "pipeline/member_verifier.h"
#include "pipeline/shard.h"
#include "storage/transfer.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/md5.h"
#include "util/md5_multi.h"
#include "util/text.h"

namespace tb::pipeline {
namespace {

constexpr size_t kChunkBytes = 1 << 20;
constexpr size_t kQueueChunks = 32;  // bounded read-ahead: 32 MiB

// A piece of the download: kChunkBytes of storage (not zero-filled), `size` of them used.
struct Chunk {
  std::unique_ptr<char[]> data;
  size_t size = 0;
  static Chunk New() { return Chunk{std::unique_ptr<char[]>(new char[kChunkBytes]), 0}; }
};

// A bounded queue of chunks between the network reader and the unpacker.
class ChunkQueue {
 public:
  void Push(Chunk chunk) {
    std::unique_lock<std::mutex> lock(mu_);
    not_full_.wait(lock, [&] { return q_.size() < kQueueChunks || closed_; });
    if (closed_) return;
    q_.push_back(std::move(chunk));
    not_empty_.notify_one();
  }
  // Ends the stream (status OK = clean end of data).
  void Close(Status status) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!done_) {
      done_ = true;
      end_status_ = std::move(status);
    }
    not_empty_.notify_all();
  }
  // Consumer gave up: unblocks the producer.
  void Abandon() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    not_full_.notify_all();
  }
  // Chunk buffers are recycled, so the reader never zero-fills a fresh megabyte per chunk.
  Chunk TakeBuffer() {
    std::lock_guard<std::mutex> lock(mu_);
    if (free_.empty()) return Chunk::New();
    Chunk b = std::move(free_.back());
    free_.pop_back();
    b.size = 0;
    return b;
  }
  void GiveBuffer(Chunk b) {
    std::lock_guard<std::mutex> lock(mu_);
    if (b.data && free_.size() < kQueueChunks) free_.push_back(std::move(b));
  }
  bool abandoned() {
    std::lock_guard<std::mutex> lock(mu_);
    return closed_;
  }
  // Next chunk; an empty one at the end of data; error when the producer failed.
  Result<Chunk> Pop() {
    std::unique_lock<std::mutex> lock(mu_);
    not_empty_.wait(lock, [&] { return !q_.empty() || done_; });
    if (!q_.empty()) {
      Chunk c = std::move(q_.front());
      q_.pop_front();
      not_full_.notify_one();
      return c;
    }
    if (!end_status_.ok()) return end_status_;
    return Chunk();
  }

 private:
  std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::deque<Chunk> q_;
  std::vector<Chunk> free_;
  bool done_ = false, closed_ = false;
  Status end_status_;
};

report::StageResult Named(const char* name) {
  report::StageResult r;
  r.name = name;
  return r;
}

void MarkRate(report::StageResult& r) {
  if (r.bytes > 0 && r.seconds > 0) r.mb_per_s = static_cast<double>(r.bytes) / 1e6 / r.seconds;
}

}  // namespace

namespace {
IngestResult StreamIngestHere(Context& ctx);
}  // namespace

// Several ranks: the pass runs once per host, on its local rank 0; the host's other ranks
// wait for it and take its folders, its verified file list and its stage outcomes (with no
// bytes of their own).
IngestResult StreamIngest(Context& ctx) {
  if (!ctx.cluster) return StreamIngestHere(ctx);
  const bool leader = HostLeader(ctx);
  IngestResult out;
  if (leader) out = StreamIngestHere(ctx);
  nlohmann::json stages = nlohmann::json::array();
  for (const auto& r : out.stages)
    stages.push_back({{"name", r.name}, {"status", r.status}, {"seconds", r.seconds}, {"error", r.error}});
  nlohmann::json published{{"fell_back", out.fell_back}, {"wall_seconds", out.wall_seconds},
                           {"tarball", ctx.tarball_path}, {"data_root", ctx.data_root},
                           {"dataset_dir", ctx.dataset_dir}, {"stages", stages}};
  // A failed pass is reported in the leader's stage results, not as the exchange's error: the
  // host's other ranks show the same stage failed.
  auto all = Exchange(ctx, "stream-ingest", Status::Ok(), JsonText(published));
  if (leader) return out;
  if (!all.ok()) {
    out.fell_back = true;  // the sequential stages meet (and report) the same problem
    return out;
  }
  const std::string& host = ctx.cluster->world().host;
  for (const RankReport& e : *all) {
    if (e.local_rank != 0 || e.host != host) continue;
    auto j = nlohmann::json::parse(e.payload, nullptr, false);
    if (!j.is_object() || j.value("fell_back", true)) {
      out.fell_back = true;
      return out;
    }
    ctx.tarball_path = j.value("tarball", std::string());
    ctx.data_root = j.value("data_root", std::string());
    ctx.dataset_dir = j.value("dataset_dir", std::string());
    out.wall_seconds = j.value("wall_seconds", 0.0);
    bool verified = false;
    for (const auto& st : j.value("stages", nlohmann::json::array())) {
      report::StageResult r = Named(st.value("name", std::string()).c_str());
      r.status = st.value("status", std::string("failed"));
      r.seconds = st.value("seconds", 0.0);
      std::string error = st.value("error", std::string());
      const std::string prefix = "stage " + r.name + ": ";
      if (error.rfind(prefix, 0) == 0) error = error.substr(prefix.size());
      if (!error.empty()) r.error = prefix + "rank " + std::to_string(e.rank) + " (host " + host + "): " + error;
      r.detail_json = JsonText(nlohmann::json{{"by_rank", e.rank}, {"host", host},
                                              {"reason", "done once per host, by its local rank 0"}});
      if (r.name == "verify" && r.status == "ok") verified = true;
      out.stages.push_back(std::move(r));
    }
    if (verified) {  // the same manifest the leader checked the members against
      auto text = ReadSmallObject(ctx.cfg.manifest, ctx.storage_options);
      auto entries = text.ok() ? dataset::ParseManifest(*text, ctx.cfg.manifest)
                               : Result<std::vector<dataset::ManifestEntry>>(text.status());
      UnlistedFiles unlisted;
      Status applied = entries.ok() ? ApplyManifest(ctx, *entries, &unlisted) : entries.status();
      if (!applied.ok())
        for (auto& r : out.stages)
          if (r.name == "verify") {
            r.status = "failed";
            r.error = "stage verify: " + applied.message();
          }
    }
    return out;
  }
  out.fell_back = true;
  return out;
}

bool StreamingApplies(const JobConfig& cfg) {
  return cfg.stream && cfg.scenario == "staged" && cfg.StageEnabled("download") && cfg.StageEnabled("extract");
}

namespace {

IngestResult StreamIngestHere(Context& ctx) {
  IngestResult out;
  // integrity and verify ride along when they are on; download and extract always stream.
  const bool check_tarball = ctx.cfg.StageEnabled("integrity");
  const bool check_members = ctx.cfg.StageEnabled("verify");
  // What the pass checks against must be known first; if not, the sequential stages run and
  // report the problem at the stage it belongs to.
  auto expected_md5 = check_tarball ? ExpectedMd5(ctx) : Result<std::string>(std::string());
  std::string expected = expected_md5.ok() ? *expected_md5 : "";
  auto manifest_text = check_members ? ReadSmallObject(ctx.cfg.manifest, ctx.storage_options)
                                     : Result<std::string>(std::string());
  std::vector<dataset::ManifestEntry> entries;
  if (check_members && manifest_text.ok()) {
    auto parsed = dataset::ParseManifest(*manifest_text, ctx.cfg.manifest);
    if (parsed.ok()) entries = std::move(parsed).value();
  }
  auto split = storage::SplitObjectUri(ctx.cfg.origin_url);
  std::string name = split.ok() ? split->key.substr(split->key.rfind('/') + 1) : "";
  if ((check_tarball && expected.size() != 32) || (check_members && entries.empty()) || name.empty()) {
    out.fell_back = true;
    return out;
  }
  std::map<std::string, std::string> want;  // path -> md5
  for (const auto& e : entries) want[e.path] = e.md5_hex;

  report::StageResult download = Named("download"), integrity = Named("integrity"),
                      extract = Named("extract"), verify = Named("verify");
  UnlistedFiles unlisted;
  auto fail_rest = [&](report::StageResult& failed, const Status& s) {
    failed.status = s.IsCancelled() || ctx.cancelled() ? "interrupted" : "failed";
    failed.error = "stage " + failed.name + ": " + s.message();
  };

  double t_start = NowSeconds();
  std::string dest_dir = ctx.cfg.scratch + "/extract";
  Status prep = MakeDirs(ctx.cfg.scratch);
  if (prep.ok()) prep = RemoveAll(dest_dir);
  if (prep.ok()) prep = MakeDirs(dest_dir);
  std::string tarball = ctx.cfg.scratch + "/" + name;
  Result<AtomicFile> tar_file = prep.ok() ? AtomicFile::Create(tarball) : Result<AtomicFile>(prep);
  auto stream = tar_file.ok() ? storage::OpenStream(ctx.cfg.origin_url, OriginDownloadOptions(ctx))
                              : Result<std::unique_ptr<storage::Reader>>(tar_file.status());
  if (!stream.ok()) {
    fail_rest(download, stream.status());
    download.seconds = NowSeconds() - t_start;
    out.stages = {download};
    return out;
  }

  // Producer: the network reader; it also hashes the tarball and keeps it (integrity and the
  // tarball copy ride on the receiving core, off the unpacker's critical path).
  ChunkQueue queue;
  double download_end = 0, md5_seconds = 0, write_seconds = 0;
  uint64_t tar_bytes = 0;
  Md5 tar_md5;
  Status write_error;
  std::thread producer([&] {
    Status end;
    for (;;) {
      if (ctx.cancelled()) {
        end = Status::Cancelled("interrupted while downloading " + ctx.cfg.origin_url);
        break;
      }
      Chunk chunk = queue.TakeBuffer();
      size_t filled = 0;
      Status s;
      while (filled < kChunkBytes) {
        auto n = (*stream)->Read(chunk.data.get() + filled, kChunkBytes - filled);
        if (!n.ok()) {
          s = n.status();
          break;
        }
        if (*n == 0) break;
        filled += *n;
      }
      if (!s.ok()) {
        end = s;
        break;
      }
      if (filled == 0) break;
      chunk.size = filled;
      tar_bytes += filled;
      double t1 = NowSeconds();
      if (check_tarball) tar_md5.Update(chunk.data.get(), filled);
      double t2 = NowSeconds();
      Status w = tar_file->Write(chunk.data.get(), filled);
      md5_seconds += t2 - t1;
      write_seconds += NowSeconds() - t2;
      if (!w.ok()) {
        write_error = w;
        end = w;
        break;
      }
      queue.Push(std::move(chunk));
      if (queue.abandoned()) break;
    }
    download_end = NowSeconds();
    queue.Close(end);
  });

  // Consumer: feeds the unpacker.
  double wait_seconds = 0;
  Status producer_error;
  Chunk pending;
  size_t pending_off = 0;
  dataset::ArchiveReadFn read = [&](char* buf, size_t n) -> Result<size_t> {
    if (pending_off == pending.size) {
      double t0 = NowSeconds();
      auto chunk = queue.Pop();
      wait_seconds += NowSeconds() - t0;
      if (!chunk.ok()) {
        producer_error = chunk.status();
        return chunk.status();
      }
      queue.GiveBuffer(std::move(pending));
      pending = std::move(chunk).value();
      pending_off = 0;
      if (pending.size == 0) return size_t{0};
    }
    size_t take = std::min(n, pending.size - pending_off);
    std::memcpy(buf, pending.data.get() + pending_off, take);
    pending_off += take;
    return take;
  };
  // Verifier: members arrive written under temporary names; they are hashed in batches with
  // multi-buffer MD5 (one file per SIMD lane) on their own thread and renamed into place only
  // when they match the manifest.
  std::optional<MemberVerifier> verifier;
  dataset::ExtractOptions options;
  if (check_members) {
    verifier.emplace(want, ctx.cfg.manifest);
    options.defer_member = [&](dataset::PendingMember m) { return verifier->Add(std::move(m)); };
    options.keep_member_bytes = 16 << 20;  // CIFAR batches (30 MB uncompressed max) mostly fit
  }
  options.cancel = ctx.storage_options.cancel;
  SetExtractLimits(ctx.cfg, &options);
  Progress progress("ingest", 0, 0, ProgressEnabled(ctx.progress));
  std::function<void(uint64_t, uint64_t)> on_progress = [&](uint64_t b, uint64_t f) { progress.Add(b, f); };
  options.progress = &on_progress;
  double consumer_start = NowSeconds();
  auto stats = dataset::ExtractStream(read, ctx.cfg.origin_url, dest_dir, options);
  Status verified = verifier ? verifier->Finish() : Status::Ok();
  if (stats.ok() && !verified.ok()) stats = verified;
  // Drain whatever the archive did not consume (tar padding) so the tarball md5 is whole.
  // When unpacking failed, the download still runs to its end (as in the sequential order):
  // a corrupt tarball must be reported by integrity, the root cause, not by extract.
  Status drained;
  if (producer_error.ok() && !ctx.cancelled() && (stats.ok() || !stats.status().IsCancelled())) {
    char sink[1 << 16];
    for (;;) {
      auto n = read(sink, sizeof sink);
      if (!n.ok()) {
        drained = n.status();
        break;
      }
      if (*n == 0) break;
    }
  }
  if (stats.ok() && !drained.ok()) stats = drained;
  double consumer_end = NowSeconds();
  queue.Abandon();
  producer.join();
  progress.Finish();
  out.wall_seconds = consumer_end - t_start;

  download.seconds = download_end - t_start - md5_seconds;
  download.bytes = tar_bytes;
  download.files = 1;
  integrity.seconds = md5_seconds;
  integrity.bytes = tar_bytes;
  integrity.files = 1;
  verify.seconds = verifier ? verifier->hash_seconds() : 0;
  extract.seconds = std::max(0.0, consumer_end - consumer_start - wait_seconds);
  std::string actual = ToHex(tar_md5.Finish());
  nlohmann::json mode = {{"mode", "streaming"}, {"source", ctx.cfg.origin_url}};

  const bool download_whole = write_error.ok() && producer_error.ok() && drained.ok() && !ctx.cancelled();
  if (!stats.ok() && download_whole && check_tarball && actual != expected) {
    // The tarball itself is corrupt: that is why unpacking failed.
    download.status = "ok";
    fail_rest(integrity, Status::Corruption("md5 mismatch for " + tarball + ": expected " + expected + ", actual " +
                                            actual + " (unpacking it had failed: " + stats.status().message() + ")"));
    (void)RemoveAll(dest_dir);
  } else if (!stats.ok()) {
    // Attribute the failure to the stage it belongs to.
    const Status& s = stats.status();
    if (!write_error.ok()) {
      fail_rest(download, write_error);
    } else if (!producer_error.ok() || !drained.ok() || s.IsCancelled() || ctx.cancelled()) {
      fail_rest(download, !producer_error.ok() ? producer_error : !drained.ok() ? drained : s);
    } else {
      // The tarball arrived whole and (when checked) matches: keep it, as the sequential
      // order would, so it can be inspected.
      download.status = integrity.status = "ok";
      if (Status c = tar_file->Commit(); !c.ok()) {
        fail_rest(download, c);
      } else if (verifier && verifier->mismatched()) {
        extract.status = "ok";
        fail_rest(verify, s);
      } else {
        fail_rest(extract, s);
      }
    }
    (void)RemoveAll(dest_dir);  // nothing half-ingested may pass for complete
  } else {
    download.status = "ok";
    if (check_tarball && actual != expected) {
      fail_rest(integrity, Status::Corruption("md5 mismatch for " + tarball + ": expected " + expected +
                                              ", actual " + actual));
      (void)RemoveAll(dest_dir);
    } else {
      integrity.status = "ok";
      Status committed = tar_file->Commit();
      if (!committed.ok()) {
        download.status = "failed";
        download.error = "stage download: " + committed.message();
      } else {
        extract.status = "ok";
        extract.files = stats->files;
        extract.bytes = stats->bytes;
        std::vector<std::string> missing;
        for (const auto& e : entries)
          if (!verifier->seen(e.path)) missing.push_back(e.path);
        verify.files = verifier ? verifier->verified_files() : 0;
        verify.bytes = stats->bytes;
        ctx.tarball_path = tarball;
        ctx.data_root = dest_dir;
        auto dir = dataset::FindDatasetDir(dest_dir);
        if (dir.ok()) ctx.dataset_dir = *dir;
        if (!missing.empty()) {
          std::string list;
          for (size_t i = 0; i < missing.size() && i < 5; ++i) list += (i ? ", " : "") + ShownName(missing[i]);
          fail_rest(verify, Status::Corruption(std::to_string(missing.size()) + " file(s) of " + ctx.cfg.manifest +
                                               " missing from " + ctx.cfg.origin_url + ": " + list));
        } else if (check_members && !ctx.dataset_dir.empty()) {
          // Members the manifest does not list were extracted unverified: never read later.
          Status applied = ApplyManifest(ctx, entries, &unlisted);
          if (applied.ok()) verify.status = "ok";
          else fail_rest(verify, applied);
        } else {
          verify.status = "ok";
        }
      }
    }
  }
  for (auto* r : {&download, &integrity, &extract, &verify}) MarkRate(*r);
  nlohmann::json d = mode;
  d["dest"] = tarball;
  download.detail_json = JsonText(d);
  integrity.detail_json = JsonText(nlohmann::json{{"mode", "streaming"}, {"file", tarball}, {"expected_md5", expected},
                                         {"actual_md5", actual}});
  extract.detail_json = JsonText(nlohmann::json{{"mode", "streaming"}, {"dest", dest_dir}});
  std::vector<std::string> mismatched;
  if (verifier)
    for (const auto& p : verifier->mismatched_paths()) mismatched.push_back(ShownName(p));
  verify.detail_json = JsonText(nlohmann::json{{"mode", "streaming"}, {"manifest", ctx.cfg.manifest},
                                      {"entries", entries.size()}, {"mismatched", mismatched},
                                      {"unlisted", unlisted.count}, {"unlisted_files", unlisted.first},
                                      {"md5", Md5IsaName(BestMd5Isa())}});
  // A stage that never got to run after an earlier failure stays "skipped" with no time.
  // Stages switched off are left out (the runner reports them as switched off).
  std::vector<report::StageResult*> ran = {&download};
  if (check_tarball) ran.push_back(&integrity);
  ran.push_back(&extract);
  if (check_members) ran.push_back(&verify);
  bool failed = false;
  for (auto* r : ran) {
    if (failed) {
      r->status = "skipped";
      r->seconds = 0;
      r->mb_per_s = 0;
      r->bytes = r->files = 0;
      r->detail_json = JsonText(nlohmann::json{{"reason", "an earlier stage did not complete"}});
    }
    if (r->status == "failed" || r->status == "interrupted") failed = true;
  }
  out.stages.clear();
  for (auto* r : ran) out.stages.push_back(*r);
  return out;
}

}  // namespace

}  // namespace tb::pipeline
