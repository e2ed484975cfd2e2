#include "pipeline/shard.h"

#include <algorithm>
#include <filesystem>
#include <numeric>

#include <nlohmann/json.hpp>

#include "dataset/cifar.h"
#include "launch/cluster.h"
#include "util/json.h"

namespace tb::pipeline {

std::vector<size_t> ShareIndices(const std::vector<std::string>& names, Share s) {
  std::vector<size_t> order(names.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return names[a] < names[b]; });
  std::vector<size_t> out;
  const size_t count = static_cast<size_t>(std::max(1, s.count));
  for (size_t i = static_cast<size_t>(std::max(0, s.index)); i < order.size(); i += count) out.push_back(order[i]);
  return out;
}

std::vector<std::string> ShareOf(const std::vector<std::string>& names, Share s) {
  std::vector<std::string> out;
  for (size_t i : ShareIndices(names, s)) out.push_back(names[i]);
  return out;
}

Result<BatchShare> ShareBatches(const Context& ctx, const std::string& dir, bool with_test, Share share) {
  const std::vector<std::string>* listed = ctx.listed_files();
  BatchShare out;
  auto base = [](const std::string& path) { return std::filesystem::path(path).filename().string(); };
  TB_ASSIGN_OR_RETURN(auto train_paths, dataset::SplitFiles(dir, true, listed));
  for (const auto& p : train_paths) out.batches.push_back(base(p));
  out.train_batches = out.batches.size();
  if (with_test) {
    TB_ASSIGN_OR_RETURN(auto test_paths, dataset::SplitFiles(dir, false, listed));
    for (const auto& p : test_paths) out.batches.push_back(base(p));
  }
  for (size_t i : ShareIndices(out.batches, share)) {
    out.mine.push_back(out.batches[i]);
    if (i < out.train_batches) ++out.mine_train;
  }
  std::vector<std::string> names;
  if (listed) {
    names = *listed;
  } else {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) names.push_back(e.path().filename().string());
    if (ec) return Status::FromErrno(ec.value(), "list", dir);
  }
  auto has = [](const std::vector<std::string>& v, const std::string& n) {
    return std::find(v.begin(), v.end(), n) != v.end();
  };
  for (const auto& name : names)
    if (!has(out.batches, name) || has(out.mine, name)) out.listed.push_back(name);
  return out;
}

std::string AbsolutePath(const std::string& path) {
  if (path.empty()) return path;
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(path, ec);
  return ec ? path : abs.lexically_normal().string();
}

int RankOf(const Context& ctx) { return ctx.cluster ? ctx.cluster->world().rank : 0; }
int WorldSizeOf(const Context& ctx) { return ctx.cluster ? ctx.cluster->world().size : 1; }
bool HostLeader(const Context& ctx) { return !ctx.cluster || ctx.cluster->world().local_rank == 0; }

Share CopyShare(const Context& ctx) {
  if (!ctx.cluster) return {};
  const launch::World& w = ctx.cluster->world();
  // Staged: each host hashes its own scratch copy; in place: one copy for every rank.
  if (ctx.cfg.scenario == "staged") return {w.local_rank, w.local_size};
  return {w.rank, w.size};
}

Share UploadShare(const Context& ctx) {
  if (!ctx.cluster) return {};
  return {ctx.cluster->world().rank, ctx.cluster->world().size};
}

Result<std::vector<RankReport>> Exchange(Context& ctx, const std::string& tag, const Status& mine_status,
                                         const std::string& payload) {
  RankReport me;
  me.rank = RankOf(ctx);
  me.host = ctx.cluster ? ctx.cluster->world().host : std::string();
  me.local_rank = ctx.cluster ? ctx.cluster->world().local_rank : 0;
  me.payload = payload;
  if (!ctx.cluster) {
    if (!mine_status.ok()) return mine_status;
    return std::vector<RankReport>{me};
  }
  nlohmann::json j{{"rank", me.rank},
                   {"host", me.host},
                   {"local_rank", me.local_rank},
                   {"error", mine_status.ok() ? std::string() : mine_status.message()},
                   {"payload", payload}};
  auto gathered = ctx.cluster->AllGather(tag, JsonText(j));
  if (!mine_status.ok()) return mine_status;
  if (!gathered.ok()) return gathered.status();
  std::vector<RankReport> out;
  std::string failure;
  for (size_t r = 0; r < gathered->size(); ++r) {
    auto e = nlohmann::json::parse((*gathered)[r], nullptr, false);
    if (e.is_discarded() || !e.is_object())
      return Status::Internal(tag + ": rank " + std::to_string(r) + " sent a report that is not a JSON object");
    RankReport rep;
    rep.rank = static_cast<int>(r);
    auto text = [&](const char* key) {
      auto it = e.find(key);
      return it != e.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    rep.host = text("host");
    auto lr = e.find("local_rank");
    rep.local_rank = lr != e.end() && lr->is_number_integer() ? lr->get<int>() : 0;
    rep.payload = text("payload");
    std::string error = text("error");
    if (!error.empty() && failure.empty())
      failure = "rank " + std::to_string(r) + " (host " + rep.host + ") failed: " + error;
    out.push_back(std::move(rep));
  }
  if (!failure.empty()) return Status::Internal(failure);
  return out;
}

Status OncePerHost(Context& ctx, report::StageResult& result, const std::string& stage,
                   const std::function<Status()>& work, const std::function<std::string()>& publish,
                   const std::function<void(const std::string&)>& adopt) {
  if (!ctx.cluster) return work();
  const bool leader = HostLeader(ctx);
  Status mine = leader ? work() : Status::Ok();
  std::string output = leader && mine.ok() ? publish() : std::string();
  TB_ASSIGN_OR_RETURN(auto all, Exchange(ctx, "once-per-host:" + stage, mine, output));
  if (leader) return Status::Ok();
  const std::string& host = ctx.cluster->world().host;
  for (const RankReport& e : all) {
    if (e.local_rank != 0 || e.host != host) continue;
    adopt(e.payload);
    result.detail_json = JsonText(
        nlohmann::json{{"by_rank", e.rank}, {"host", host}, {"reason", "done once per host, by its local rank 0"}});
    return Status::Ok();
  }
  return Status::Internal("no rank with local rank 0 on host " + host + " to do " + stage);
}

}  // namespace tb::pipeline
