// tierbench preview: a random labelled batch of training images as a PNG grid, and the
// class names printed like the tutorial ("cat   ship  ship  plane").
#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "cli/flags.h"
#include "dataset/cifar.h"
#include "render/preview.h"
#include "util/path_guard.h"
#include "util/terminal_text.h"

namespace tb::cli {
namespace {

// The PNG must not overwrite a file of the dataset it draws from, nor land inside it.
Status CheckPreviewPaths(const std::string& data_dir, const std::string& out_png) {
  PathGuard guard;
  auto found = dataset::FindDatasetDir(data_dir);
  guard.AddInputDir("the dataset folder (--data)", found.ok() ? *found : data_dir);
  return guard.AddOutputFile("--out", out_png);
}

}  // namespace

int PreviewCommand(const Args& args) {
  Flags flags("tierbench preview --data DIR --out grid.png [--count 4] [--scale 4] [--seed S]\n\n"
              "Draws a random batch of training images (the first batch the training loader would\n"
              "draw with this seed) as a make_grid-style PNG with each class name under its image.",
              {{"data", "dataset folder (cifar-10-batches-py or its parent)", false, "DIR"},
               {"out", "PNG file to write", false, "FILE"},
               {"count", "images (default 4)", false, "N"},
               {"scale", "scale factor (default 4)", false, "N"},
               {"seed", "shuffle seed (default 0)", false, "N"}});
  Status st = flags.Parse(args);
  if (!st.ok()) return ReportError("preview", st);
  if (flags.help_requested()) {
    std::fputs(flags.HelpText().c_str(), stdout);
    return 0;
  }
  render::PreviewOptions o;
  o.data_dir = flags.Get("data");
  o.out_png = flags.Get("out");
  if (o.data_dir.empty() || o.out_png.empty()) {
    return ReportError("preview", Status::InvalidArgument("--data and --out are required"));
  }
  Result<int64_t> count = flags.GetInt("count", 4), scale = flags.GetInt("scale", 4),
                  seed = flags.GetInt("seed", 0);
  for (const auto* r : {&count, &scale, &seed}) {
    if (!r->ok()) return ReportError("preview", r->status());
  }
  if (*count < 1 || *count > 4096 || *scale < 1 || *scale > 64 || *seed < 0) {
    return ReportError("preview", Status::InvalidArgument(
                                      "--count " + std::to_string(*count) + ", --scale " + std::to_string(*scale) +
                                      ", --seed " + std::to_string(*seed) +
                                      ": out of range: allowed --count 1..4096, --scale 1..64, --seed 0 or more"));
  }
  o.count = static_cast<int>(*count);
  o.scale = static_cast<int>(*scale);
  o.seed = static_cast<uint64_t>(*seed);
  if (Status s = CheckPreviewPaths(o.data_dir, o.out_png); !s.ok()) return ReportError("preview", s);
  Result<render::PreviewResult> r = render::RenderPreview(o);
  if (!r.ok()) return ReportError("preview", r.status());
  std::string line;
  for (size_t i = 0; i < r->class_names.size(); ++i) {
    char cell[64];
    std::snprintf(cell, sizeof(cell), "%-5s", TerminalSafe(r->class_names[i]).c_str());
    line += (i ? " " : "") + std::string(cell);
  }
  std::printf("%s\n", line.c_str());
  std::fprintf(stderr, "wrote %s (%dx%d)\n", o.out_png.c_str(), r->width, r->height);
  return 0;
}

}  // namespace tb::cli
