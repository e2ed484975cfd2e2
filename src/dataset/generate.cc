#include "dataset/generate.h"

#include <algorithm>
#include <cstdio>

#include "dataset/cifar.h"
#include "dataset/cifar_writer.h"
#include "dataset/manifest.h"
#include "dataset/synth.h"
#include "dataset/tar_writer.h"
#include "util/fs.h"
#include "util/md5.h"
#include "util/parallel.h"

namespace tb::dataset {

namespace {

// The real readme.html: a redirect to the dataset's home page, 88 bytes with its newline.
constexpr const char* kReadme =
    "<meta HTTP-EQUIV=\"REFRESH\" content=\"0; URL=http://www.cs.toronto.edu/~kriz/cifar.html\">\n";

struct FileSpec {
  std::string name;        // "data_batch_3"
  std::string batch_label;  // "training batch 3 of 5"
  uint64_t file_id = 0;     // RNG stream (1..N training, 0 test)
  size_t images = 0;
  uint64_t first_image = 0;  // global index, for filenames
};

struct Written {
  std::string name;
  std::string md5_hex;
  uint64_t size = 0;
};

Status WriteBatchFile(const GenerateOptions& o, const std::string& dir, const FileSpec& f, Written* w) {
  std::string pixels(f.images * kImageBytes, '\0');
  BatchContent content;
  content.batch_label = f.batch_label;
  content.labels.resize(f.images);
  content.filenames.resize(f.images);
  const auto& names = Cifar10LabelNames();
  for (size_t i = 0; i < f.images; ++i) {
    uint8_t label = RenderImage(o.seed, f.file_id, i, reinterpret_cast<uint8_t*>(pixels.data()) + i * kImageBytes);
    content.labels[i] = label;
    char num[32];
    std::snprintf(num, sizeof num, "_s_%06llu.png", static_cast<unsigned long long>(f.first_image + i));
    content.filenames[i] = names[label] + num;
  }
  content.pixels = pixels;
  TB_ASSIGN_OR_RETURN(EncodedBatch enc, EncodeBatch(content, o.protocol));
  std::string path = dir + "/" + f.name;
  TB_ASSIGN_OR_RETURN(AtomicFile out, AtomicFile::Create(path));
  Md5 md5;
  for (std::string_view part : {std::string_view(enc.head), enc.pixels, std::string_view(enc.tail)}) {
    md5.Update(part);
    TB_RETURN_IF_ERROR(out.Write(part.data(), part.size()));
  }
  TB_RETURN_IF_ERROR(out.Commit());
  w->name = f.name;
  w->md5_hex = ToHex(md5.Finish());
  w->size = enc.size();
  return Status::Ok();
}

Status WriteSmallFile(const std::string& dir, const std::string& name, std::string_view data, Written* w) {
  TB_RETURN_IF_ERROR(WriteFileAtomic(dir + "/" + name, data));
  w->name = name;
  w->md5_hex = ToHex(Md5Of(data));
  w->size = data.size();
  return Status::Ok();
}

}  // namespace

Status ApplyPreset(const std::string& name, GenerateOptions* options) {
  if (name == "seed-1283") {
    options->train_files = 1280;
    options->images_per_file = 40;
    options->test_images = 10000;
    return Status::Ok();
  }
  return Status::InvalidArgument("unknown dataset preset '" + name + "' (known: seed-1283)");
}

Result<GenerateReport> Generate(const GenerateOptions& o) {
  if (o.out_dir.empty()) return Status::InvalidArgument("generate: --out is required");
  if (o.train_files < 1 || o.train_files > 100000) return Status::InvalidArgument("generate: train files must be 1..100000");
  if (o.images_per_file < 1 || o.images_per_file > 1000000) {
    return Status::InvalidArgument("generate: images per file must be 1..1000000");
  }
  if (o.test_images < 1 || o.test_images > 1000000) return Status::InvalidArgument("generate: test images must be 1..1000000");
  if (o.protocol != 2 && o.protocol != 4) return Status::InvalidArgument("generate: protocol must be 2 or 4");
  if (o.tarball != "tar.gz" && o.tarball != "tar" && o.tarball != "none") {
    return Status::InvalidArgument("generate: tarball must be tar.gz, tar or none");
  }
  GenerateReport report;
  report.dataset_dir = o.out_dir + "/" + kDatasetFolder;
  TB_RETURN_IF_ERROR(MakeDirs(report.dataset_dir));

  std::vector<FileSpec> specs;
  for (int i = 1; i <= o.train_files; ++i) {
    FileSpec f;
    f.name = "data_batch_" + std::to_string(i);
    f.batch_label = "training batch " + std::to_string(i) + " of " + std::to_string(o.train_files);
    f.file_id = static_cast<uint64_t>(i);
    f.images = static_cast<size_t>(o.images_per_file);
    f.first_image = static_cast<uint64_t>(i - 1) * static_cast<uint64_t>(o.images_per_file);
    specs.push_back(f);
  }
  FileSpec test;
  test.name = "test_batch";
  test.batch_label = "testing batch 1 of 1";
  test.file_id = 0;
  test.images = static_cast<size_t>(o.test_images);
  test.first_image = 0;
  specs.push_back(test);

  std::vector<Written> written(specs.size() + 2);
  TB_RETURN_IF_ERROR(ParallelFor(specs.size(), o.threads, [&](size_t i) -> Status {
    Status s = WriteBatchFile(o, report.dataset_dir, specs[i], &written[i]);
    return s.ok() ? s : s.Prefix("generate " + specs[i].name);
  }));
  TB_RETURN_IF_ERROR(WriteSmallFile(report.dataset_dir, "batches.meta",
                                    EncodeMeta(Cifar10LabelNames(), o.images_per_file, o.protocol),
                                    &written[specs.size()]));
  TB_RETURN_IF_ERROR(WriteSmallFile(report.dataset_dir, "readme.html", kReadme, &written[specs.size() + 1]));
  std::sort(written.begin(), written.end(), [](const Written& a, const Written& b) { return a.name < b.name; });

  std::vector<ManifestEntry> manifest;
  for (const Written& w : written) {
    manifest.push_back({w.md5_hex, std::string(kDatasetFolder) + "/" + w.name});
    report.bytes += w.size;
  }
  report.files = written.size();
  report.manifest_path = o.out_dir + "/" + kDatasetFolder + ".md5";
  TB_RETURN_IF_ERROR(WriteFileAtomic(report.manifest_path, FormatManifest(manifest)));

  if (o.tarball != "none") {
    std::vector<TarMember> members;
    members.push_back({std::string(kDatasetFolder) + "/", "", 0, true});
    for (const Written& w : written) {
      members.push_back({std::string(kDatasetFolder) + "/" + w.name, report.dataset_dir + "/" + w.name, w.size, false});
    }
    std::string name = std::string(kTarballStem) + "." + o.tarball;
    report.tarball_path = o.out_dir + "/" + name;
    TarOptions topt;
    topt.gzip = o.tarball == "tar.gz";
    topt.threads = o.threads;
    TB_ASSIGN_OR_RETURN(report.tarball_md5, WriteTarball(report.tarball_path, members, topt));
    report.md5_path = report.tarball_path + ".md5";
    TB_RETURN_IF_ERROR(WriteFileAtomic(report.md5_path, report.tarball_md5 + "  " + name + "\n"));
  }
  return report;
}

}  // namespace tb::dataset
