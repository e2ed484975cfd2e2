// tierbench cp SRC DST: copy one object or (with --recursive) a tree between tiers, parallel
// and verified, with `aws s3 cp` naming rules.
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <tuple>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/flags.h"
#include "storage/s3_storage.h"
#include "storage/transfer.h"
#include "util/json.h"
#include "util/parallel.h"
#include "util/path_guard.h"
#include "util/progress.h"
#include "util/redact.h"
#include "util/signals.h"
#include "util/terminal_text.h"

namespace tb::cli {

namespace {

// Entries named one by one on stderr before the rest are only counted.
constexpr size_t kSkippedShown = 20;

bool IsLocalDirectory(const std::string& uri) {
  if (uri.find("://") != std::string::npos && uri.rfind("file://", 0) != 0) return false;
  std::string path = uri.rfind("file://", 0) == 0 ? uri.substr(7) : uri;
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Flags MakeFlags() {
  return Flags(
      "tierbench cp SRC DST [options]\n\n"
      "Copies one object, or with --recursive every object under SRC, between a local path\n"
      "(or file://), http(s):// (read-only) and s3://. Large objects move as parallel byte\n"
      "ranges; destinations appear only when complete and verified (md5/ETag or size).\n"
      "Copying to an existing directory or a DST ending in '/' keeps the source's name.",
      {
          {"recursive", "copy every object under SRC (a directory or s3:// prefix)", true},
          {"skip-special",
           "with --recursive: entries that hold no regular file (FIFOs, sockets, "
           "devices, dangling symlinks, symlinks to directories) are left out and counted, "
           "exit 0 (default: reported, exit 1)",
           true},
          {"create-bucket", "create the destination bucket when it does not exist (s3:// DST)", true},
          {"concurrency", "parallel connections (default 16)", false, "N"},
          {"streams",
           "connections one transfer uses: auto (default: one, then more while the "
           "aggregate rate grows, up to --concurrency) or N",
           false, "auto|N"},
          {"part-size", "bytes per ranged part, e.g. 8MiB (default 8MiB)", false, "SIZE"},
          {"endpoint-url", "S3 endpoint (default: AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL)", false, "URL"},
          {"region", "S3 region (default: AWS_REGION or profile, else us-east-1)", false, "R"},
          {"profile", "AWS profile for credentials", false, "P"},
          {"retries", "retries per request after transient failures, 0..100 (default 5)", false, "N"},
          {"connect-timeout", "seconds to wait for a connection, up to 3600 (default 10)", false, "S"},
          {"read-timeout", "seconds a request may receive nothing before it fails, 1..3600 (default 30)", false, "S"},
          {"progress", "live progress on stderr (default: when stderr is a terminal)", true},
          {"json", "print the summary as JSON", true},
      });
}

// The destination must not be the source, nor (--recursive) lie inside it or receive a copy
// over one of its files. `dst` is the resolved destination of a single object.
Status CheckCopyPaths(const std::string& src, const std::string& dst, bool recursive) {
  std::string s = LocalPathOf(src), d = LocalPathOf(dst);
  if (s.empty() != d.empty()) return Status::Ok();  // between a local path and a remote tier
  const std::string why = ": an output must never overwrite an input";
  if (s.empty()) {  // remote to remote: the same object, or a prefix inside the source's
    auto trim = [](std::string u) {
      while (u.size() > 1 && u.back() == '/') u.pop_back();
      return u;
    };
    std::string a = trim(src), b = trim(dst);
    if (a == b) return Status::InvalidArgument("DST " + dst + " is SRC " + src + why);
    if (recursive && b.rfind(a + "/", 0) == 0)
      return Status::InvalidArgument("DST " + dst + " lies inside SRC " + src + why);
    return Status::Ok();
  }
  PathGuard guard;
  if (!recursive) {
    guard.AddInputFile("SRC", s);
    return guard.AddOutputFile("DST", d);
  }
  guard.AddInputDir("SRC", s);
  TB_RETURN_IF_ERROR(guard.AddOutputDir("DST", d));
  // SRC inside DST: the copy of SRC/<p>/x lands on SRC/x, where p is SRC's path below DST.
  std::string rs = ResolvePath(s), rd = ResolvePath(d);
  if (PathIsWithin(rs, rd)) {
    std::filesystem::path below = std::filesystem::path(rs).lexically_relative(rd);
    std::error_code ec;
    if (std::filesystem::exists(std::filesystem::path(rs) / below, ec))
      return Status::InvalidArgument("DST " + dst + " would receive the copy of " + rs + "/" + below.string() +
                                     " over SRC " + src + "'s own files" + why);
  }
  return Status::Ok();
}

// The transfer settings from the flags; an out-of-range value is an error naming the flag.
Result<storage::Options> OptionsFromFlags(const Flags& f) {
  storage::Options options;
  auto concurrency = f.GetInt("concurrency", options.concurrency);
  if (!concurrency.ok()) return concurrency.status();
  if (*concurrency < 1 || *concurrency > kMaxThreads) {
    return Status::InvalidArgument("--concurrency " + std::to_string(*concurrency) + " is out of range: allowed 1.." +
                                   std::to_string(kMaxThreads));
  }
  options.concurrency = static_cast<int>(*concurrency);
  if (auto streams = f.Find("streams")) {
    auto n = ParseCountOrAuto(*streams);
    if (!n.ok()) return Status::InvalidArgument("--streams " + n.status().message());
    options.streams = *n;
  }
  if (auto ps = f.Find("part-size")) {
    auto bytes = ParseBytes(*ps);
    if (!bytes.ok()) return bytes.status();
    if (*bytes < (64 << 10) || *bytes > (5ull << 30))
      return Status::InvalidArgument("--part-size " + *ps + " is out of range: allowed 64KiB..5GiB");
    options.part_size_bytes = *bytes;
  }
  auto retries = f.GetInt("retries", options.max_retries);
  if (!retries.ok()) return retries.status();
  if (*retries < 0 || *retries > 100)
    return Status::InvalidArgument("--retries " + std::to_string(*retries) + " is out of range: allowed 0..100");
  options.max_retries = static_cast<int>(*retries);
  // Seconds; curl counts the read timeout in whole seconds.
  for (auto [flag, field, lo] : {std::tuple{"connect-timeout", &options.connect_timeout_s, 0.0},
                                 std::tuple{"read-timeout", &options.low_speed_timeout_s, 1.0}}) {
    auto seconds = f.GetDouble(flag, *field);
    if (!seconds.ok()) return seconds.status();
    if (!(*seconds >= lo && *seconds > 0 && *seconds <= 3600))
      return Status::InvalidArgument(std::string("--") + flag + " " + f.Get(flag) + " is out of range: allowed " +
                                     (lo > 0 ? "1" : "more than 0") + " to 3600 seconds");
    *field = *seconds;
  }
  options.endpoint_url = f.Get("endpoint-url");
  options.region = f.Get("region");
  options.profile = f.Get("profile");
  return options;
}

}  // namespace

int CpCommand(const Args& args) {
  Flags f = MakeFlags();
  if (Status s = f.Parse(args); !s.ok()) return ReportError("cp", s);
  if (f.help_requested()) {
    std::fputs(f.HelpText().c_str(), stdout);
    return 0;
  }
  if (f.positionals().size() != 2) {
    return ReportError("cp", Status::InvalidArgument("expected SRC and DST (see tierbench cp --help)"));
  }
  const std::string& src = f.positionals()[0];
  const std::string& dst = f.positionals()[1];
  auto parsed = OptionsFromFlags(f);
  if (!parsed.ok()) return ReportError("cp", parsed.status());
  storage::Options options = *parsed;
  options.cancel = InstallCancelHandlers();

  bool recursive = f.GetBool("recursive", false);
  if (!recursive && IsLocalDirectory(src)) {
    return ReportError("cp", Status::InvalidArgument(src + " is a directory (use --recursive)"));
  }
  std::string dst_final = dst;
  if (!recursive) {
    auto resolved = storage::ResolveCopyDestination(src, dst);
    if (!resolved.ok()) return ReportError("cp", resolved.status());
    dst_final = *resolved;
  }

  if (Status s = CheckCopyPaths(src, dst_final, recursive); !s.ok()) return ReportError("cp", s);

  if (f.GetBool("create-bucket", false) && dst.rfind("s3://", 0) == 0) {
    std::string bucket = storage::S3BucketOf(dst);
    auto created = storage::EnsureBucket(bucket, options, /*create=*/true);
    if (!created.ok()) return ReportError("cp", created.status());
    if (*created) std::fprintf(stderr, "tierbench cp: created bucket %s\n", TerminalSafe(bucket).c_str());
  }

  bool show = f.Has("progress") ? f.GetBool("progress", false) : ProgressEnabled(ProgressMode::kAuto);
  Progress progress("cp", 0, 0, show);
  storage::ProgressFn on_progress = storage::ProgressOf(progress);
  Result<storage::TransferStats> stats = recursive ? storage::CopyTree(src, dst, options, on_progress)
                                                   : storage::CopyObject(src, dst_final, options, on_progress);
  progress.Finish();
  if (!stats.ok()) return ReportError("cp", stats.status());
  // A tree copy never skips silently: name what was left out, and fail unless told to skip.
  const std::vector<storage::SkippedEntry>& skipped = stats->skipped;
  bool skip_ok = f.GetBool("skip-special", false);
  for (size_t i = 0; i < skipped.size() && i < kSkippedShown; ++i) {
    std::string path = src + (src.empty() || src.back() == '/' ? "" : "/") + skipped[i].key;
    std::fprintf(stderr, "tierbench cp: %s %s: %s\n", skip_ok ? "skipped" : "not copied",
                 TerminalSafe(RedactUrlUserinfo(path)).c_str(), skipped[i].kind.c_str());
  }
  if (skipped.size() > kSkippedShown)
    std::fprintf(stderr, "tierbench cp: ... and %zu more\n", skipped.size() - kSkippedShown);
  if (!skipped.empty()) {
    std::fprintf(stderr, "tierbench cp: %zu entr%s not copied (not regular files)%s\n", skipped.size(),
                 skipped.size() == 1 ? "y" : "ies", skip_ok ? "" : "; --skip-special leaves them out with exit 0");
  }
  double mb_per_s = stats->seconds > 0 ? stats->bytes / 1e6 / stats->seconds : 0;
  if (f.GetBool("json", false)) {
    nlohmann::json j = {{"src", RedactUrlUserinfo(src)},
                        {"dst", RedactUrlUserinfo(dst_final)},
                        {"bytes", stats->bytes},
                        {"files", stats->files},
                        {"seconds", stats->seconds},
                        {"mb_per_s", mb_per_s},
                        {"concurrency", options.concurrency},
                        {"part_size_bytes", options.part_size_bytes},
                        {"skipped", skipped.size()},
                        {"streams", stats->streams},
                        {"streams_why", stats->streams_why}};
    nlohmann::json entries = nlohmann::json::array();  // the first ones, like stderr
    for (size_t i = 0; i < skipped.size() && i < kSkippedShown; ++i)
      entries.push_back({{"key", skipped[i].key}, {"kind", skipped[i].kind}});
    j["skipped_entries"] = entries;
    std::printf("%s\n", JsonText(j, 2).c_str());
  } else {
    std::printf("copied %llu file%s, %s (%llu bytes) in %.2f s, %.1f MB/s: %s -> %s\n",
                static_cast<unsigned long long>(stats->files), stats->files == 1 ? "" : "s",
                HumanBytes(static_cast<double>(stats->bytes)).c_str(), static_cast<unsigned long long>(stats->bytes),
                stats->seconds, mb_per_s, TerminalSafe(RedactUrlUserinfo(src)).c_str(),
                TerminalSafe(RedactUrlUserinfo(dst_final)).c_str());
    std::printf("streams: %d (%s)\n", stats->streams, stats->streams_why.c_str());
  }
  return skipped.empty() || skip_ok ? 0 : 1;
}

}  // namespace tb::cli
