// Stage 4, verify: md5 of every dataset file against the manifest, files hashed in parallel.
// Staged: the extracted files in scratch; inplace: the files where they are.
#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "dataset/manifest.h"
#include "pipeline/member_verifier.h"
#include "pipeline/shard.h"
#include "pipeline/stage.h"
#include "pipeline/stream.h"
#include "storage/wrappers.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/md5.h"
#include "util/md5_multi.h"
#include "util/parallel.h"
#include "util/text.h"

namespace tb::pipeline {
namespace {

// In the streamed pass: the member sink. Members arrive written under temporary names; they are
// hashed in batches with multi-buffer MD5 (one file per SIMD lane) on the verifier's thread
// and renamed into place only when they match the manifest.
class VerifyPart : public StreamPart {
 public:
  Status Wire(Context& ctx, StreamWiring& w) override {
    TB_ASSIGN_OR_RETURN(std::string text, ReadSmallObject(ctx.cfg.manifest, ctx.storage_options));
    TB_ASSIGN_OR_RETURN(entries_, dataset::ParseManifest(text, ctx.cfg.manifest));
    if (entries_.empty()) return Status::InvalidArgument(ctx.cfg.manifest + " lists no files");
    std::map<std::string, std::string> want;  // path -> md5
    for (const auto& e : entries_) want[e.path] = e.md5_hex;
    verifier_.emplace(std::move(want), ctx.cfg.manifest);
    w.member_sink = [this](dataset::PendingMember m) {
      if (first_ == 0) first_ = NowSeconds();
      return verifier_->Add(std::move(m));
    };
    w.member_sink_finish = [this] {
      Status s = verifier_->Finish();
      if (first_ > 0) span.Add(first_, NowSeconds());
      span.busy = verifier_->hash_seconds();
      return s;
    };
    w.keep_member_bytes = 16 << 20;  // CIFAR batches (30 MB uncompressed max) mostly fit
    return Status::Ok();
  }

  Status Finish(Context& ctx, const StreamEnd& end, report::StageResult& result) override {
    UnlistedFiles unlisted;
    Status s = Check(ctx, end, result, &unlisted);
    std::vector<std::string> mismatched;
    for (const auto& p : verifier_->mismatched_paths()) mismatched.push_back(ShownName(p));
    result.detail_json = JsonText(nlohmann::json{{"mode", "streaming"},
                                                 {"manifest", ctx.cfg.manifest},
                                                 {"entries", entries_.size()},
                                                 {"mismatched", mismatched},
                                                 {"unlisted", unlisted.count},
                                                 {"unlisted_files", unlisted.first},
                                                 {"md5", Md5IsaName(BestMd5Isa())}});
    return s;
  }

 private:
  Status Check(Context& ctx, const StreamEnd& end, report::StageResult& result, UnlistedFiles* unlisted) {
    TB_RETURN_IF_ERROR(end.members);
    if (!end.unpacked.ok()) return end.unpacked.status();  // the sink refused a member
    result.files = verifier_->verified_files();
    result.bytes = end.unpacked->bytes;
    std::vector<std::string> missing;
    for (const auto& e : entries_)
      if (!verifier_->seen(e.path)) missing.push_back(e.path);
    if (!missing.empty()) {
      std::string list;
      for (size_t i = 0; i < missing.size() && i < 5; ++i) list += (i ? ", " : "") + ShownName(missing[i]);
      return Status::Corruption(std::to_string(missing.size()) + " file(s) of " + ctx.cfg.manifest + " missing from " +
                                ctx.cfg.origin_url + ": " + list);
    }
    // Members the manifest does not list were extracted unverified: never read later.
    if (!ctx.dataset_dir.empty()) return ApplyManifest(ctx, entries_, unlisted);
    return Status::Ok();
  }

  std::vector<dataset::ManifestEntry> entries_;
  std::optional<MemberVerifier> verifier_;
  double first_ = 0;
};
// Hashes `mine` (batches, so an interrupt is honoured between them); fills bytes, files and
// the mismatched/missing lists of `detail`.
Status HashShare(Context& ctx, const std::vector<dataset::ManifestEntry>& entries, report::StageResult& result,
                 nlohmann::json& detail) {
  Progress progress("verify", 0, entries.size(), ProgressEnabled(ctx.progress), ctx.progress_listener);
  // Hashed in batches (16 files per thread: enough to fill the SIMD lanes of util/md5_multi.h)
  // so an interrupt (SIGINT/SIGTERM) is honoured after the batch in flight instead of after
  // the whole dataset. A cancel flag inside Md5Files would make this finer.
  int threads = ctx.cfg.verify_threads > 0 ? ctx.cfg.verify_threads
                                           : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const size_t batch = static_cast<size_t>(threads) * 16;
  Result<dataset::VerifyReport> report = dataset::VerifyReport{};
  for (size_t first = 0; first < entries.size() && report.ok(); first += batch) {
    if (ctx.cancelled()) {
      progress.Finish();
      return Status::Cancelled("verify interrupted after " + std::to_string(first) + " of " +
                               std::to_string(entries.size()) + " files");
    }
    std::vector<dataset::ManifestEntry> part(entries.begin() + first,
                                             entries.begin() + std::min(entries.size(), first + batch));
    auto r = dataset::VerifyManifest(ctx.data_root, part, threads, [&](uint64_t b, uint64_t f) { progress.Add(b, f); });
    if (!r.ok()) {
      report = r.status();
      break;
    }
    report->files += r->files;
    report->bytes += r->bytes;
    report->mismatched.insert(report->mismatched.end(), r->mismatched.begin(), r->mismatched.end());
    report->missing.insert(report->missing.end(), r->missing.begin(), r->missing.end());
    report->missing_why.insert(report->missing_why.end(), r->missing_why.begin(), r->missing_why.end());
  }
  progress.Finish();
  if (!report.ok()) return report.status();
  if (ctx.cancelled()) return Status::Cancelled("verify interrupted");
  result.bytes = report->bytes;
  result.files = report->files;
  auto shown = [](const std::vector<std::string>& names) {
    std::vector<std::string> out;
    for (const auto& n : names) out.push_back(ShownName(n));
    return out;
  };
  detail["mismatched"] = shown(report->mismatched);
  detail["missing"] = shown(report->missing);
  result.detail_json = JsonText(detail);
  if (!report->ok()) {
    // Mismatches first; an unreadable file is given with its cause (e.g. not a regular file).
    std::string what;
    const bool mismatched = !report->mismatched.empty();
    const auto& list = mismatched ? report->mismatched : report->missing_why;
    for (size_t i = 0; i < list.size() && i < 5; ++i) what += (i ? ", " : "") + ShownName(list[i], 2 * kShownNameBytes);
    if (list.size() > 5) what += ", …";
    return Status::Corruption(std::to_string(report->mismatched.size()) + " file(s) differ from " + ctx.cfg.manifest +
                              " and " + std::to_string(report->missing.size()) + " missing or unreadable under " +
                              ctx.data_root + ": " + what);
  }
  return Status::Ok();
}

// The bytes verify keeps for pickled (streamed scenario), at most `limit` in all: a file's
// listed size taken up front (else its chunks as they arrive), given back when the file does
// not fit whole or does not match.
class KeepBudget {
 public:
  explicit KeepBudget(uint64_t limit) : left_(limit) {}
  bool Take(uint64_t n) {
    uint64_t left = left_.load();
    while (n <= left)
      if (left_.compare_exchange_weak(left, left - n)) return true;
    return false;
  }
  void Give(uint64_t n) { left_ += n; }

 private:
  std::atomic<uint64_t> left_;
};

// One file's bytes kept while HashObject reads it. `paid`: bytes taken from the budget;
// `whole` false once the budget ran out (what was paid is given back and the bytes dropped).
class Kept {
 public:
  explicit Kept(KeepBudget* budget) : budget_(budget) {}
  // With the object's listed size (`sizes`, by key): taken whole up front, so the buffer is
  // allocated once, or the file is not kept at all.
  void Start(const std::map<std::string, uint64_t>& sizes, const std::string& key) {
    auto size = sizes.find(key);
    if (size == sizes.end()) return;
    whole_ = budget_->Take(size->second);
    if (!whole_) return;
    paid_ = size->second;
    bytes_.reserve(size->second);
  }
  void Append(const char* data, size_t n) {
    if (!whole_) return;
    const uint64_t need = bytes_.size() + n;
    if (need > paid_ && !budget_->Take(need - paid_)) return Drop();
    paid_ = std::max(paid_, need);
    bytes_.append(data, n);
  }
  // At the end of the object: what was paid beyond it goes back; no spare capacity is held.
  void Finish() {
    if (!whole_) return;
    budget_->Give(paid_ - bytes_.size());
    paid_ = bytes_.size();
    bytes_.shrink_to_fit();
  }
  void Drop() {
    budget_->Give(paid_);
    paid_ = 0;
    std::string().swap(bytes_);
    whole_ = false;
  }
  bool whole() const { return whole_; }
  std::string& bytes() { return bytes_; }

 private:
  KeepBudget* budget_;
  std::string bytes_;
  uint64_t paid_ = 0;
  bool whole_ = true;
};

// The object's md5 over one GET stream; NotFound when it is missing. With `keep`, its bytes
// are also kept there while its budget lasts.
Result<std::string> HashObject(storage::Storage& storage, const std::string& key, uint64_t* bytes, Kept* keep) {
  TB_ASSIGN_OR_RETURN(std::unique_ptr<storage::Reader> reader, storage.OpenRead(key));
  Md5 md5;
  std::vector<char> buf(size_t{1} << 20);
  for (;;) {
    TB_ASSIGN_OR_RETURN(size_t n, reader->Read(buf.data(), buf.size()));
    if (n == 0) break;
    md5.Update(buf.data(), n);
    *bytes += n;
    if (keep) keep->Append(buf.data(), n);
  }
  if (keep) keep->Finish();
  return ToHex(md5.Finish());
}

// The manifest paths of the batch files in `folder` (data_batch_*, test_batch; CIFAR-100's
// train, test): what pickled decodes.
std::set<std::string> BatchPaths(const std::vector<dataset::ManifestEntry>& entries, const std::string& folder) {
  std::vector<std::string> names;
  for (const auto& e : entries)
    if (e.path.rfind(folder + "/", 0) == 0) names.push_back(e.path.substr(folder.size() + 1));
  std::set<std::string> paths;
  for (bool train : {true, false}) {
    Result<std::vector<std::string>> files = dataset::SplitFiles("", train, &names);
    if (files.ok())
      for (const std::string& f : *files) paths.insert(folder + "/" + f);
  }
  return paths;
}

// The sizes of the objects under `folder` by key (one listing; none where the tier cannot list).
std::map<std::string, uint64_t> ListedSizes(storage::Storage& storage, const std::string& folder) {
  std::map<std::string, uint64_t> sizes;
  if (!storage.caps().listable) return sizes;
  Result<std::vector<storage::ObjectInfo>> listed = storage.List(folder + "/");
  if (listed.ok())
    for (const storage::ObjectInfo& o : *listed) sizes[o.key] = o.size_bytes;
  return sizes;
}

// A rank's share in verify's detail: its index, the count, how many files, and the first names
// hashed (names order), so a reader can see the shares are disjoint.
nlohmann::json ShareDetail(const Share& share, const std::vector<std::string>& paths) {
  constexpr size_t kNamesShown = 64;
  std::vector<std::string> names;
  for (size_t i = 0; i < paths.size() && i < kNamesShown; ++i) names.push_back(ShownName(paths[i]));
  return {{"index", share.index}, {"count", share.count}, {"files", paths.size()}, {"names", names}};
}

// Streamed scenario: every manifest entry read from the tier (ctx.dataset_uri's parent is the
// data root) and hashed as it arrives, files in parallel; nothing is stored locally. When
// pickled will run, the batch files' bytes whose md5 matched are kept in ctx.verified_bytes
// (up to verify.keep_bytes) so that pickled does not read them again. Several ranks read the
// one copy in the tier: each hashes its share (ctx.hashed_files), and pickled decodes the
// batch files of that share, so each object is read once by the whole cluster.
Status VerifyOverTier(Context& ctx, report::StageResult& result, nlohmann::json& detail) {
  ctx.verified_bytes.clear();
  TB_ASSIGN_OR_RETURN(std::string text, ReadSmallObject(ctx.cfg.manifest, ctx.storage_options));
  TB_ASSIGN_OR_RETURN(std::vector<dataset::ManifestEntry> entries, dataset::ParseManifest(text, ctx.cfg.manifest));
  std::string uri = ctx.dataset_uri;
  while (uri.size() > 1 && uri.back() == '/') uri.pop_back();
  const size_t slash = uri.rfind('/');
  const std::string root = uri.substr(0, slash), folder = uri.substr(slash + 1);
  TB_ASSIGN_OR_RETURN(std::unique_ptr<storage::Storage> tier, storage::Open(root, ctx.storage_options));
  storage::CountingStorage storage(std::move(tier));  // the GETs, for the results
  // Kept: the batch files for pickled, and the label names file for meta.
  std::set<std::string> kept_paths;
  if (ctx.cfg.verify_keep_bytes > 0 && ctx.cfg.StageEnabled(StageId::kPickled))
    kept_paths = BatchPaths(entries, folder);
  if (ctx.cfg.verify_keep_bytes > 0 && ctx.cfg.StageEnabled(StageId::kMeta))
    for (const auto& e : entries)
      if (e.path == folder + "/" + kMetaFile) kept_paths.insert(e.path);
  KeepBudget budget(ctx.cfg.verify_keep_bytes);
  const std::map<std::string, uint64_t> sizes =
      kept_paths.empty() ? std::map<std::string, uint64_t>{} : ListedSizes(storage, folder);
  std::mutex mu;
  std::vector<std::string> mismatched, missing, names;
  std::atomic<uint64_t> bytes{0};
  uint64_t kept_bytes = 0, not_kept = 0;
  std::vector<std::string> paths;
  for (const auto& e : entries) paths.push_back(e.path);
  const std::vector<size_t> mine = ShareIndices(paths, CopyShare(ctx));
  ctx.hashed_files.clear();
  for (size_t i : mine) ctx.hashed_files.push_back(entries[i].path);
  Progress progress("verify", 0, mine.size(), ProgressEnabled(ctx.progress), ctx.progress_listener);
  Status s = ParallelFor(mine.size(), ctx.cfg.verify_threads > 0 ? ctx.cfg.verify_threads : 8, [&](size_t k) -> Status {
    const size_t i = mine[k];
    if (ctx.cancelled()) return Status::Cancelled("verify interrupted");
    uint64_t n = 0;
    std::optional<Kept> keep;
    if (kept_paths.count(entries[i].path)) keep.emplace(&budget).Start(sizes, entries[i].path);
    Result<std::string> md5 = HashObject(storage, entries[i].path, &n, keep ? &*keep : nullptr);
    bytes += n;
    progress.Add(n, 1);
    std::lock_guard<std::mutex> lock(mu);
    if (!md5.ok() && !md5.status().IsNotFound()) return md5.status();
    const bool match = md5.ok() && *md5 == entries[i].md5_hex;
    if (!md5.ok())
      missing.push_back(entries[i].path);
    else if (!match)
      mismatched.push_back(entries[i].path);
    if (keep && match && keep->whole()) {  // only bytes whose md5 matched the manifest
      kept_bytes += keep->bytes().size();
      ctx.verified_bytes.emplace(entries[i].path.substr(folder.size() + 1), std::move(keep->bytes()));
    } else if (keep) {
      keep->Drop();
      not_kept += match ? 1 : 0;
    }
    return Status::Ok();
  });
  progress.Finish();
  if (!s.ok() || !mismatched.empty() || !missing.empty()) {  // the stage fails: nothing is used
    ctx.verified_bytes.clear();
    kept_bytes = 0;
  }
  TB_RETURN_IF_ERROR(s);
  for (const auto& e : entries)
    if (e.path.rfind(folder + "/", 0) == 0) names.push_back(e.path.substr(folder.size() + 1));
  ctx.verified_files = std::move(names);
  ctx.data_root = root;
  result.bytes = bytes.load();
  result.files = mine.size() - missing.size();
  detail = {{"manifest", ctx.cfg.manifest},
            {"root", root},
            {"entries", entries.size()},
            {"mismatched", mismatched},
            {"missing", missing},
            {"read_from", "tier"},
            {"gets", storage.stats(storage::StorageOp::kOpenRead).ops},
            {"kept_files", ctx.verified_bytes.size()},
            {"kept_bytes", kept_bytes},
            {"not_kept_files", not_kept}};
  if (ctx.cluster) detail["share"] = ShareDetail(CopyShare(ctx), ctx.hashed_files);
  if (mismatched.empty() && missing.empty()) return Status::Ok();
  const auto& list = mismatched.empty() ? missing : mismatched;
  return Status::Corruption(std::to_string(mismatched.size()) + " file(s) differ from " + ctx.cfg.manifest + " and " +
                            std::to_string(missing.size()) + " missing under " + root + ": " + ShownName(list[0]) +
                            (list.size() > 1 ? ", …" : ""));
}

class VerifyStage : public Stage {
 public:
  Status Run(Context& ctx, report::StageResult& result) override {
    std::vector<dataset::ManifestEntry> entries;
    nlohmann::json detail;
    if (!ctx.dataset_uri.empty()) {
      Status s = VerifyOverTier(ctx, result, detail);
      result.detail_json = JsonText(detail);
      return s;
    }
    // Several ranks: a failure on one (a mismatch, an unreadable manifest) fails the stage on
    // all of them, naming it: the runner's frame exchanges every rank's outcome (ClusterEnd).
    TB_RETURN_IF_ERROR(HashMine(ctx, result, entries, detail));
    UnlistedFiles unlisted;
    Status applied = ApplyManifest(ctx, entries, &unlisted);
    detail["unlisted"] = unlisted.count;
    detail["unlisted_files"] = unlisted.first;
    result.detail_json = JsonText(detail);
    TB_RETURN_IF_ERROR(applied);
    return Status::Ok();
  }
  std::unique_ptr<StreamPart> NewStreamPart() override { return std::make_unique<VerifyPart>(); }

 private:
  // Reads the manifest into `entries` and hashes this rank's share of it.
  static Status HashMine(Context& ctx, report::StageResult& result, std::vector<dataset::ManifestEntry>& entries,
                         nlohmann::json& detail) {
    TB_RETURN_IF_ERROR(ctx.NeedDataset());
    TB_ASSIGN_OR_RETURN(std::string text, ReadSmallObject(ctx.cfg.manifest, ctx.storage_options));
    TB_ASSIGN_OR_RETURN(entries, dataset::ParseManifest(text, ctx.cfg.manifest));
    // Several ranks: this rank hashes its share of the copy it reads (pipeline/shard.h); the
    // others hash the rest, so every file is hashed once per copy.
    std::vector<std::string> paths;
    for (const auto& e : entries) paths.push_back(e.path);
    std::vector<dataset::ManifestEntry> mine;
    ctx.hashed_files.clear();
    for (size_t i : ShareIndices(paths, CopyShare(ctx))) {
      mine.push_back(entries[i]);
      ctx.hashed_files.push_back(entries[i].path);
    }
    detail = {{"manifest", ctx.cfg.manifest}, {"root", ctx.data_root}, {"entries", entries.size()}};
    if (ctx.cluster) detail["share"] = ShareDetail(CopyShare(ctx), ctx.hashed_files);
    return HashShare(ctx, mine, result, detail);
  }
};

}  // namespace

std::unique_ptr<Stage> NewVerifyStage() { return std::make_unique<VerifyStage>(); }

}  // namespace tb::pipeline
