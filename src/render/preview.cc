#include "render/preview.h"

#include <algorithm>

#include "dataset/cifar.h"
#include "dataset/shuffle.h"
#include "render/font.h"
#include "render/png_writer.h"
#include "util/fs.h"
#include "util/parallel.h"

namespace tb::render {
namespace {

// The grid shows the first batch the training loader draws: its image size and its shuffle.
using dataset::kHeight;
using dataset::kWidth;
using dataset::ShuffledOrder;

constexpr int kNrow = 8;     // torchvision.utils.make_grid defaults
constexpr int kPadding = 2;
constexpr uint8_t kWhite[3] = {255, 255, 255};

// The label under an image, shortened until it fits `width` pixels at font scale `fs`.
std::string Fit(std::string text, int width, int fs) {
  while (!text.empty() && TextWidth(text, fs) > width) text.pop_back();
  return text;
}

Status CheckOptions(const PreviewOptions& o) {
  if (o.count < 1 || o.count > 4096) return Status::InvalidArgument("preview: count must be 1..4096");
  if (o.scale < 1 || o.scale > 64) return Status::InvalidArgument("preview: scale must be 1..64");
  if (o.out_png.empty()) return Status::InvalidArgument("preview: no output file given");
  return Status::Ok();
}

Status TooFew(const std::string& where, size_t total, const char* what, int count) {
  return Status::InvalidArgument("preview: " + where + " has " + std::to_string(total) + " " + what +
                                 ", fewer than --count " + std::to_string(count));
}

// Draws `split` (the grid's images, in order) labelled with `names` and writes the PNG.
Result<PreviewResult> DrawGrid(const dataset::Split& split, const std::vector<std::string>& names,
                               const PreviewOptions& o) {
  const int s = o.scale;
  const int fs = std::max(1, s / 2);           // font scale
  const int band = (kGlyphHeight + 3) * fs;    // label strip under each row of images
  const int xmaps = std::min(kNrow, o.count);
  const int ymaps = (o.count + xmaps - 1) / xmaps;
  const int cell_w = (kWidth + kPadding) * s;
  const int row_h = (kHeight + kPadding) * s + band;
  RgbImage img;
  img.width = xmaps * cell_w + kPadding * s;
  img.height = ymaps * row_h + kPadding * s;
  img.rgb.assign(static_cast<size_t>(img.width) * img.height * 3, 0);  // black padding

  PreviewResult result;
  for (int k = 0; k < o.count; ++k) {
    uint32_t index = static_cast<uint32_t>(k);  // split holds the drawn images, in order
    uint8_t label = split.labels[index];
    std::string name = label < names.size() ? names[label] : "label " + std::to_string(label);
    result.class_names.push_back(name);
    const uint8_t* px = split.pixels.data() + static_cast<size_t>(index) * dataset::kImageBytes;
    int x0 = kPadding * s + (k % xmaps) * cell_w;
    int y0 = kPadding * s + (k / xmaps) * row_h;
    for (int y = 0; y < kHeight * s; ++y) {
      uint8_t* dst = img.rgb.data() + (static_cast<size_t>(y0 + y) * img.width + x0) * 3;
      int sy = y / s;
      for (int x = 0; x < kWidth * s; ++x) {
        int sp = sy * kWidth + x / s;
        dst[3 * x] = px[sp];
        dst[3 * x + 1] = px[1024 + sp];
        dst[3 * x + 2] = px[2048 + sp];
      }
    }
    std::string text = Fit(name, kWidth * s, fs);
    int tx = x0 + (kWidth * s - TextWidth(text, fs)) / 2;
    DrawText(img.rgb.data(), img.width, img.height, tx, y0 + kHeight * s + 2 * fs, text, fs, kWhite);
  }
  TB_ASSIGN_OR_RETURN(std::string png, EncodePng(img));
  TB_RETURN_IF_ERROR(WriteFileAtomic(o.out_png, png));
  result.width = img.width;
  result.height = img.height;
  return result;
}

}  // namespace

Result<PreviewResult> RenderPreview(const PreviewOptions& o) {
  TB_RETURN_IF_ERROR(CheckOptions(o));
  TB_ASSIGN_OR_RETURN(std::string dir, dataset::FindDatasetDir(o.data_dir));
  // The first batch the training loader would draw in epoch 0 with this seed: only the pixels
  // of those images are read (the split's size comes from its pickle structure alone).
  size_t total = 0;
  const std::vector<std::string>* listed = o.files ? &*o.files : nullptr;
  TB_ASSIGN_OR_RETURN(dataset::Split split, dataset::LoadSplitImages(
                                                dir, true, DefaultThreads(),
                                                [&](size_t count) {
                                                  total = count;
                                                  std::vector<uint32_t> order = ShuffledOrder(count, o.seed, 0);
                                                  order.resize(std::min(order.size(), static_cast<size_t>(o.count)));
                                                  return order;
                                                },
                                                listed));
  TB_RETURN_IF_ERROR(dataset::RequireListed(dir, "batches.meta", listed));
  TB_ASSIGN_OR_RETURN(std::vector<std::string> names, dataset::ReadLabelNames(dir + "/batches.meta"));
  if (total < static_cast<size_t>(o.count)) return TooFew(dir, total, "training images", o.count);
  return DrawGrid(split, names, o);
}

Result<PreviewResult> RenderPreviewOf(const dataset::Split& split, const std::vector<std::string>& label_names,
                                      const PreviewOptions& o, const std::string& where) {
  TB_RETURN_IF_ERROR(CheckOptions(o));
  if (split.count < static_cast<size_t>(o.count)) return TooFew(where, split.count, "images", o.count);
  if (split.pixels.size() < split.count * dataset::kImageBytes || split.labels.size() < split.count)
    return Status::InvalidArgument("preview: " + where + " holds no pixels for its " + std::to_string(split.count) +
                                   " images");
  std::vector<uint32_t> order = ShuffledOrder(split.count, o.seed, 0);
  dataset::Split drawn;
  drawn.count = static_cast<size_t>(o.count);
  drawn.pixels.resize(drawn.count * dataset::kImageBytes);
  for (size_t k = 0; k < drawn.count; ++k) {
    drawn.labels.push_back(split.labels[order[k]]);
    std::copy_n(split.pixels.data() + static_cast<size_t>(order[k]) * dataset::kImageBytes, dataset::kImageBytes,
                drawn.pixels.data() + k * dataset::kImageBytes);
  }
  return DrawGrid(drawn, label_names, o);
}

}  // namespace tb::render
