#include "cli/run_flags.h"

#include <sstream>

#include "report/stage_id.h"

namespace tb::cli {
namespace {

// flag name -> config key
struct Mapping {
  const char* flag;
  const char* key;
};
constexpr Mapping kMappings[] = {
    {"label", "label"},
    {"scenario", "scenario"},
    {"scratch", "scratch"},
    {"out", "out"},
    {"log", "log"},
    {"origin", "origin.url"},
    {"md5", "origin.md5"},
    {"md5-file", "origin.md5_file"},
    {"manifest", "origin.manifest"},
    {"dataset-dir", "inplace.dir"},
    {"dataset-uri", "streamed.dataset_uri"},
    {"upload-to", "upload.dest"},
    {"endpoint-url", "s3.endpoint_url"},
    {"region", "s3.region"},
    {"profile", "s3.profile"},
    {"concurrency", "s3.concurrency"},
    {"part-size", "s3.part_size"},
    {"epochs", "train.epochs"},
    {"batch-size", "train.batch_size"},
    {"lr", "train.lr"},
    {"momentum", "train.momentum"},
    {"workers", "train.workers"},
    {"threads", "train.threads"},
    {"seed", "train.seed"},
    {"device", "train.device"},
    {"max-steps", "train.max_steps"},
    {"model-dir", "train.model_dir"},
    {"input-mode", "train.input_mode"},
    {"shuffle", "train.shuffle"},
    {"cache-bytes", "train.cache_bytes"},
    {"read-ahead", "train.read_ahead"},
    {"preview-count", "preview.count"},
    {"preview-out", "preview.out"},
    {"verify-threads", "pipeline.verify_threads"},
    {"repeat", "pipeline.repeat"},
    {"warmup", "pipeline.warmup"},
    {"unlisted", "verify.unlisted"},
    {"connect-timeout", "net.connect_timeout"},
    {"read-timeout", "net.read_timeout"},
    {"retries", "net.retries"},
    {"streams", "net.streams"},
    {"launcher", "cluster.launcher"},
    {"rendezvous", "cluster.rendezvous"},
    {"cluster-interface", "cluster.interface"},
    {"world-timeout", "cluster.timeout"},
};

}  // namespace

Flags MakeRunFlags(const std::string& usage) {
  std::vector<FlagSpec> specs;
  specs.push_back({"config", "job file (TOML); flags override its keys", false, "FILE"});
  const auto& keys = pipeline::ConfigKeys();
  for (const auto& m : kMappings) {
    std::string help;
    for (const auto& k : keys)
      if (std::string(k.key) == m.key)
        help = std::string(k.help) + (*k.range ? std::string(" (") + k.range + ")" : "") + " [" + k.key + "]";
    specs.push_back({m.flag, help, false, "VALUE"});
  }
  specs.push_back({"skip", "comma-separated stages to switch off (e.g. upload,preview); repeatable", false, "STAGES", true});
  specs.push_back({"set", "comma-separated key=value config overrides (e.g. train.epochs=1); repeatable", false, "K=V,...", true});
  specs.push_back({"create-bucket", "create the upload bucket if it does not exist [upload.create_bucket]", true});
  specs.push_back(
      {"cold", "cold reads: evict each read stage's inputs from the page cache first [pipeline.cache]", true});
  specs.push_back({"columns", "extra table columns, comma-separated: device,cache,net,cpu (or all)", false, "LIST"});
  specs.push_back({"json", "print the results JSON instead of the table", true});
  specs.push_back({"progress", "live line for the running stage on stderr (default: only on a terminal); --no-progress "
                   "also leaves out the stage rows printed on stderr as stages end", true});
  specs.push_back({"live-json", "append live progress samples and stage events to FILE as JSON lines", false, "FILE"});
  specs.push_back({"verbose", "echo log lines to stderr", true});
  return Flags(usage, specs);
}

Result<pipeline::Overrides> RunOverrides(const Flags& flags) {
  pipeline::Overrides out;
  for (const auto& m : kMappings)
    if (auto v = flags.Find(m.flag)) out.emplace_back(m.key, *v);
  auto split = [](const std::string& s) {
    std::vector<std::string> parts;
    std::stringstream ss(s);
    std::string item;
    while (std::getline(ss, item, ','))
      if (!item.empty()) parts.push_back(item);
    return parts;
  };
  if (flags.Has("create-bucket"))
    out.emplace_back("upload.create_bucket", flags.GetBool("create-bucket", false) ? "true" : "false");
  if (flags.Has("cold")) out.emplace_back("pipeline.cache", flags.GetBool("cold", false) ? "cold" : "warm");
  if (auto skip = flags.Find("skip")) {
    for (const auto& stage : split(*skip)) {
      if (!report::StageByName(stage)) return Status::InvalidArgument("--skip: unknown stage '" + stage + "'");
      out.emplace_back("stages." + stage, "false");
    }
  }
  if (auto set = flags.Find("set")) {
    for (const auto& kv : split(*set)) {
      auto eq = kv.find('=');
      if (eq == std::string::npos) return Status::InvalidArgument("--set: expected key=value, got '" + kv + "'");
      out.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    }
  }
  return out;
}

}  // namespace tb::cli
