// What verify hands to the data stages: the manifest's files in the dataset folder, and the
// files there it does not list (reported, or refused under verify.unlisted = "fail").
#include <filesystem>
#include <set>

#include "pipeline/stage.h"
#include "util/text.h"

namespace tb::pipeline {

namespace fs = std::filesystem;

Status ApplyManifest(Context& ctx, const std::vector<dataset::ManifestEntry>& entries, UnlistedFiles* unlisted) {
  constexpr size_t kNamed = 10;  // unlisted files named in details and messages
  *unlisted = UnlistedFiles{};
  // Manifest paths are relative to the data root; the dataset folder is usually one level
  // below it ("cifar-10-batches-py/data_batch_1").
  auto normal = [](const std::string& p) {
    fs::path n = fs::path(p).lexically_normal();
    return n.has_relative_path() && !n.has_filename() ? n.parent_path() : n;  // no trailing '/'
  };
  const fs::path root = normal(ctx.data_root), dir = normal(ctx.dataset_dir);
  std::string prefix = dir.lexically_relative(root).generic_string();
  if (prefix == ".") prefix.clear();
  const bool inside = prefix != ".." && prefix.rfind("../", 0) != 0 && !(prefix.empty() && root != dir);
  std::set<std::string> listed;
  std::vector<std::string> names;
  for (const auto& e : entries) {
    listed.insert(e.path);
    if (!inside) continue;
    if (prefix.empty()) {
      names.push_back(e.path);
    } else if (e.path.size() > prefix.size() && e.path.compare(0, prefix.size(), prefix) == 0 &&
               e.path[prefix.size()] == '/') {
      names.push_back(e.path.substr(prefix.size() + 1));
    }
  }
  ctx.verified_files = std::move(names);

  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec), end;
  if (ec) return Status::FromErrno(ec.value(), "list", ctx.dataset_dir);
  for (; it != end; it.increment(ec)) {
    if (ec) return Status::FromErrno(ec.value(), "list", ctx.dataset_dir);
    if (it->symlink_status(ec).type() == fs::file_type::directory) continue;
    std::string rel = it->path().lexically_relative(dir).generic_string();
    if (!prefix.empty()) rel = prefix + "/" + rel;
    if (listed.count(rel) > 0) continue;
    if (unlisted->count++ < kNamed) unlisted->first.push_back(ShownName(rel));
  }
  if (ec) return Status::FromErrno(ec.value(), "list", ctx.dataset_dir);
  if (unlisted->count == 0) return Status::Ok();
  std::string what;
  for (const auto& name : unlisted->first) what += (what.empty() ? "" : ", ") + name;
  if (unlisted->count > unlisted->first.size()) what += ", …";
  std::string message = std::to_string(unlisted->count) + " file(s) in " + ctx.dataset_dir + " not listed in " +
                        ctx.cfg.manifest + ": " + what;
  if (ctx.cfg.verify_unlisted == "fail") {
    return Status::Corruption(message + " (verify.unlisted = \"fail\")");
  }
  if (ctx.warn) ctx.warn("verify: " + message + " (not read by later stages; verify.unlisted = \"fail\" refuses them)");
  return Status::Ok();
}

}  // namespace tb::pipeline
