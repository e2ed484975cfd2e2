// tierbench dataset generate | verify | inspect
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/flags.h"
#include "dataset/cifar.h"
#include "dataset/generate.h"
#include "dataset/manifest.h"
#include "dataset/pickle.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/md5.h"
#include "util/path_lock.h"
#include "util/parallel.h"
#include "util/progress.h"
#include "util/terminal_text.h"
#include "util/utf8.h"

namespace tb::cli {

namespace {

constexpr const char* kUsage = R"(usage: tierbench dataset <generate|verify|inspect> [options]

  generate --out DIR ...           build an augmented CIFAR-10 dataset, tarball and md5 manifest
  verify --manifest FILE ...       md5 every file of a manifest (md5sum -c style output)
  inspect FILE [--json]            describe a CIFAR batch or batches.meta file
  load DIR [--split train|test]    decode a whole split into memory and report the rate)";

int Usage(const std::string& why) {
  std::fprintf(stderr, "tierbench dataset: %s\n\n%s\n", why.c_str(), kUsage);
  return 2;
}

Result<int> IntFlag(const Flags& f, const std::string& name, int64_t def, int64_t lo, int64_t hi) {
  TB_ASSIGN_OR_RETURN(int64_t v, f.GetInt(name, def));
  if (v < lo || v > hi) {
    return Status::InvalidArgument("--" + name + " " + std::to_string(v) + " is out of range: allowed " +
                                   std::to_string(lo) + ".." + std::to_string(hi));
  }
  return static_cast<int>(v);
}

int Generate(const Args& args) {
  Flags f("usage: tierbench dataset generate --out DIR [options]\n\n"
          "Writes DIR/cifar-10-batches-py/ (data_batch_1..N, test_batch, batches.meta, readme.html),\n"
          "DIR/cifar-10-batches-py.md5 (manifest for md5sum -c, run from DIR), and the tarball\n"
          "DIR/cifar-10-python.tar.gz with its .md5. Identical bytes for the same seed and sizes.",
          {{"out", "output folder", false, "DIR"},
           {"preset", "named layout: seed-1283 (1,280 training files of 40 images + test_batch)", false, "NAME"},
           {"train-files", "number of data_batch_N files (default 5)", false, "N"},
           {"images-per-file", "images per training file (default 10000)", false, "M"},
           {"test-images", "images in test_batch (default 10000)", false, "K"},
           {"seed", "generator seed (default 1)", false, "S"},
           {"threads", "worker threads (default: all cores)", false, "T"},
           {"protocol", "pickle protocol: 2 (as the real files) or 4 (default 2)", false, "2|4"},
           {"tarball", "tar.gz, tar or none (default tar.gz)", false, "KIND"}});
  Status s = f.Parse(args);
  if (!s.ok()) return ReportError("dataset generate", s);
  if (f.help_requested()) {
    std::printf("%s", f.HelpText().c_str());
    return 0;
  }
  if (!f.positionals().empty()) return Usage("generate takes no positional arguments");
  dataset::GenerateOptions o;
  if (auto preset = f.Find("preset")) {
    s = dataset::ApplyPreset(*preset, &o);
    if (!s.ok()) return ReportError("dataset generate", s);
  }
  o.out_dir = f.Get("out");
  if (o.out_dir.empty()) return ReportError("dataset generate", Status::InvalidArgument("--out DIR is required"));
  auto tf = IntFlag(f, "train-files", o.train_files, 1, 100000);
  auto ipf = IntFlag(f, "images-per-file", o.images_per_file, 1, 1000000);
  auto ti = IntFlag(f, "test-images", o.test_images, 1, 1000000);
  auto th = IntFlag(f, "threads", 0, 0, kMaxThreads);
  auto pr = IntFlag(f, "protocol", 2, 2, 4);
  auto seed = f.GetInt("seed", 1);
  for (const Status* st : {&tf.status(), &ipf.status(), &ti.status(), &th.status(), &pr.status(), &seed.status()}) {
    if (!st->ok()) return ReportError("dataset generate", *st);
  }
  o.train_files = *tf;
  o.images_per_file = *ipf;
  o.test_images = *ti;
  o.threads = *th;
  o.protocol = *pr;
  o.seed = static_cast<uint64_t>(*seed);
  o.tarball = f.Get("tarball", "tar.gz");
  // The same lock as a run's scratch or model folder: no two writers in one folder (exit 2).
  auto lock = PathLock::LockDir("output folder", o.out_dir);
  if (!lock.ok()) return ReportError("dataset generate", lock.status());
  double start = NowSeconds();
  auto report = dataset::Generate(o);
  if (!report.ok()) return ReportError("dataset generate", report.status());
  double secs = NowSeconds() - start;
  std::printf("dataset   %s (%llu files, %s)\n", report->dataset_dir.c_str(),
              static_cast<unsigned long long>(report->files), HumanBytes(static_cast<double>(report->bytes)).c_str());
  std::printf("manifest  %s\n", report->manifest_path.c_str());
  if (!report->tarball_path.empty()) {
    std::printf("tarball   %s\n", report->tarball_path.c_str());
    std::printf("md5       %s  (%s)\n", report->tarball_md5.c_str(), report->md5_path.c_str());
  }
  std::printf("seconds   %.2f\n", secs);
  return 0;
}

int Verify(const Args& args) {
  Flags f("usage: tierbench dataset verify --manifest FILE [--root DIR] [--threads T]\n\n"
          "Checks every '<md5>  <path>' line (paths relative to --root, default: the manifest's\n"
          "folder). Prints 'path: OK' or 'path: FAILED' like md5sum -c; exit 1 on any failure.",
          {{"manifest", "md5 manifest file", false, "FILE"},
           {"root", "folder the manifest paths are relative to", false, "DIR"},
           {"threads", "worker threads (default: all cores)", false, "T"},
           {"quiet", "print only failures", true, ""},
           {"progress", "show live progress (default: when stderr is a terminal)", true, ""}});
  Status s = f.Parse(args);
  if (!s.ok()) return ReportError("dataset verify", s);
  if (f.help_requested()) {
    std::printf("%s", f.HelpText().c_str());
    return 0;
  }
  std::string manifest_path = f.Get("manifest");
  if (manifest_path.empty() && f.positionals().size() == 1) manifest_path = f.positionals()[0];
  if (manifest_path.empty()) return ReportError("dataset verify", Status::InvalidArgument("--manifest FILE is required"));
  auto threads = IntFlag(f, "threads", 0, 0, kMaxThreads);
  if (!threads.ok()) return ReportError("dataset verify", threads.status());
  std::string root = f.Get("root", std::filesystem::path(manifest_path).parent_path().string());
  if (root.empty()) root = ".";
  std::error_code size_error;
  uint64_t manifest_bytes = std::filesystem::file_size(manifest_path, size_error);
  if (!size_error && manifest_bytes > dataset::kMaxManifestBytes) {  // refused before it is read
    return ReportError("dataset verify", Status::InvalidArgument(manifest_path + ": manifest is " +
                                                                 std::to_string(manifest_bytes) +
                                                                 " bytes, more than the 64 MiB limit"));
  }
  auto text = ReadFile(manifest_path);
  if (!text.ok()) return ReportError("dataset verify", text.status());
  auto entries = dataset::ParseManifest(*text, manifest_path);
  if (!entries.ok()) return ReportError("dataset verify", entries.status());
  bool show = f.Has("progress") ? f.GetBool("progress", false) : ProgressEnabled(ProgressMode::kAuto);
  Progress progress("verify", 0, entries->size(), show);
  double start = NowSeconds();
  auto report = dataset::VerifyManifest(root, *entries, *threads,
                                        [&](uint64_t bytes, uint64_t files) { progress.Add(bytes, files); });
  progress.Finish();
  if (!report.ok()) return ReportError("dataset verify", report.status());
  double secs = NowSeconds() - start;
  std::map<std::string, int> bad;
  for (const auto& p : report->mismatched) bad[p] = 1;
  for (const auto& p : report->missing) bad[p] = 2;
  bool quiet = f.GetBool("quiet", false);
  for (const auto& e : *entries) {
    auto it = bad.find(e.path);
    if (it == bad.end()) {
      if (!quiet) std::printf("%s: OK\n", e.path.c_str());
    } else {
      std::printf("%s: FAILED%s\n", e.path.c_str(), it->second == 2 ? " open or read" : "");
    }
  }
  std::fflush(stdout);
  if (!report->missing.empty()) {
    for (size_t i = 0; i < report->missing_why.size() && i < 10; ++i)
      std::fprintf(stderr, "tierbench dataset verify: %s\n", report->missing_why[i].c_str());
    std::fprintf(stderr, "tierbench dataset verify: WARNING: %zu listed file(s) could not be read\n",
                 report->missing.size());
  }
  if (!report->mismatched.empty()) {
    std::fprintf(stderr, "tierbench dataset verify: WARNING: %zu computed checksum(s) did NOT match\n",
                 report->mismatched.size());
  }
  std::fprintf(stderr, "verified %llu files, %s in %.2f s (%.1f MB/s)\n",
               static_cast<unsigned long long>(report->files), HumanBytes(static_cast<double>(report->bytes)).c_str(),
               secs, secs > 0 ? static_cast<double>(report->bytes) / 1e6 / secs : 0.0);
  return report->ok() ? 0 : 1;
}

int Inspect(const Args& args) {
  Flags f("usage: tierbench dataset inspect FILE [--json]\n\n"
          "Describes a CIFAR batch (pickle or binary) or a batches.meta file: format, protocol,\n"
          "keys, shape, label histogram and md5s of the pixel and label bytes.",
          {{"json", "machine-readable output", true, ""}});
  Status s = f.Parse(args);
  if (!s.ok()) return ReportError("dataset inspect", s);
  if (f.help_requested()) {
    std::printf("%s", f.HelpText().c_str());
    return 0;
  }
  if (f.positionals().size() != 1) return Usage("inspect takes exactly one FILE");
  const std::string path = f.positionals()[0];
  auto bytes = ReadFile(path);
  if (!bytes.ok()) return ReportError("dataset inspect", bytes.status());
  nlohmann::ordered_json j;
  j["file"] = path;
  j["bytes"] = bytes->size();
  // Keys and protocol straight from the pickle, when it is one.
  auto decoded = dataset::pickle::Decode(*bytes, path);
  if (decoded.ok() && decoded->root->kind == dataset::pickle::Kind::kDict) {
    nlohmann::json keys = nlohmann::json::array();
    const auto& items = decoded->root->items;
    for (size_t i = 0; i + 1 < items.size(); i += 2) {
      const auto* k = items[i];
      keys.push_back(k->IsText() ? std::string(k->data) : std::string("<") + dataset::pickle::KindName(k->kind) + ">");
      if (i == 0) j["key_type"] = k->kind == dataset::pickle::Kind::kStr ? "str" : "bytes";
    }
    j["keys"] = keys;
  }
  auto batch = dataset::DecodeBatchBytes(*bytes, path);
  if (batch.ok()) {
    // Labels are checked against the class count of the meta file beside the batch.
    size_t classes = 0;
    std::string folder = std::filesystem::path(path).parent_path().string();
    auto meta = dataset::FindMetaFile(folder.empty() ? "." : folder);
    auto names = meta.ok() ? dataset::ReadLabelNames(*meta) : Result<std::vector<std::string>>(meta.status());
    if (names.ok()) {
      Status labels = dataset::CheckLabels(batch->labels, names->size(), path, *meta);
      if (!labels.ok()) return ReportError("dataset inspect", labels);
      classes = names->size();
    } else {
      std::fprintf(stderr, "tierbench dataset inspect: labels not checked against a class count: %s\n",
                   names.status().message().c_str());
    }
    j["kind"] = "batch";
    j["format"] = batch->format;
    j["protocol"] = batch->protocol;
    j["batch_label"] = batch->batch_label;
    j["count"] = batch->count();
    if (classes > 0) j["classes"] = classes;
    j["shape"] = {batch->count(), dataset::kImageBytes};
    std::map<int, size_t> hist;
    for (uint8_t l : batch->labels) ++hist[l];
    nlohmann::ordered_json h = nlohmann::ordered_json::object();
    for (auto [label, n] : hist) h[std::to_string(label)] = n;
    j["label_histogram"] = h;
    j["pixels_md5"] = ToHex(Md5Of(std::string_view(reinterpret_cast<const char*>(batch->pixels.data()), batch->pixels.size())));
    j["labels_md5"] = ToHex(Md5Of(std::string_view(reinterpret_cast<const char*>(batch->labels.data()), batch->labels.size())));
    if (!batch->coarse_labels.empty()) j["coarse_labels"] = true;
    j["filenames"] = batch->filenames.size();
    if (!batch->filenames.empty()) j["first_filename"] = batch->filenames.front();
  } else if (auto names = dataset::ReadLabelNames(path); names.ok()) {
    j["kind"] = "meta";
    j["format"] = "pickle";
    j["protocol"] = decoded.ok() ? decoded->protocol : 0;
    j["label_names"] = *names;
    if (decoded.ok()) {
      if (const auto* v = decoded->root->Find("num_cases_per_batch"); v && v->kind == dataset::pickle::Kind::kInt) {
        j["num_cases_per_batch"] = v->int_value;
      }
    }
  } else {
    return ReportError("dataset inspect", decoded.ok() ? batch.status() : decoded.status());
  }
  if (f.GetBool("json", false)) {
    std::printf("%s\n", JsonText(j, 2).c_str());
    return 0;
  }
  for (auto& [k, v] : j.items()) {  // strings from the file reach the terminal escaped
    std::string text = v.is_string() ? v.get<std::string>()
                                     : JsonText(v);
    std::printf("%-16s %s\n", k.c_str(), TerminalSafe(text).c_str());
  }
  return 0;
}

int Load(const Args& args) {
  Flags f("usage: tierbench dataset load DIR [--split train|test] [--threads T] [--repeat R] [--json]\n\n"
          "Decodes every batch of a split into memory (the 'pickled' stage alone) and reports\n"
          "images, bytes, seconds and MB/s of file bytes for each repetition.",
          {{"split", "train (data_batch_*) or test (test_batch); default train", false, "SPLIT"},
           {"threads", "decoder threads (default: all cores)", false, "T"},
           {"repeat", "repetitions (default 1)", false, "R"},
           {"json", "machine-readable output", true, ""}});
  Status s = f.Parse(args);
  if (!s.ok()) return ReportError("dataset load", s);
  if (f.help_requested()) {
    std::printf("%s", f.HelpText().c_str());
    return 0;
  }
  if (f.positionals().size() != 1) return Usage("load takes exactly one DIR");
  std::string split_name = f.Get("split", "train");
  if (split_name != "train" && split_name != "test") {
    return ReportError("dataset load", Status::InvalidArgument("--split must be train or test"));
  }
  auto threads = IntFlag(f, "threads", 0, 0, kMaxThreads);
  auto repeat = IntFlag(f, "repeat", 1, 1, 1000);
  if (!threads.ok()) return ReportError("dataset load", threads.status());
  if (!repeat.ok()) return ReportError("dataset load", repeat.status());
  auto dir = dataset::FindDatasetDir(f.positionals()[0]);
  if (!dir.ok()) return ReportError("dataset load", dir.status());
  nlohmann::json runs = nlohmann::json::array();
  for (int r = 0; r < *repeat; ++r) {
    double start = NowSeconds();
    auto split = dataset::LoadSplit(*dir, split_name == "train", *threads);
    double secs = NowSeconds() - start;
    if (!split.ok()) return ReportError("dataset load", split.status());
    double mbps = secs > 0 ? static_cast<double>(split->file_bytes) / 1e6 / secs : 0;
    runs.push_back({{"images", split->count}, {"files", split->files}, {"file_bytes", split->file_bytes},
                    {"seconds", secs}, {"mb_per_s", mbps}});
    if (!f.GetBool("json", false)) {
      std::printf("%s: %zu images from %d files, %s in %.3f s = %.1f MB/s\n", split_name.c_str(), split->count,
                  split->files, HumanBytes(static_cast<double>(split->file_bytes)).c_str(), secs, mbps);
    }
  }
  if (f.GetBool("json", false)) std::printf("%s\n", JsonText(nlohmann::json{{"dir", *dir}, {"split", split_name}, {"runs", runs}}, 2).c_str());
  return 0;
}

}  // namespace

int DatasetCommand(const Args& args) {
  if (args.empty()) return Usage("missing subcommand");
  const std::string& sub = args[0];
  Args rest(args.begin() + 1, args.end());
  if (sub == "generate") return Generate(rest);
  if (sub == "verify") return Verify(rest);
  if (sub == "inspect") return Inspect(rest);
  if (sub == "load") return Load(rest);
  if (sub == "--help" || sub == "-h" || sub == "help") {
    std::printf("%s\n", kUsage);
    return 0;
  }
  return Usage("unknown subcommand '" + sub + "'");
}

}  // namespace tb::cli
