// The preview stage: a random batch from the shuffled loader, rendered like
// torchvision.utils.make_grid (2-pixel padding), scaled up, each image's class name drawn
// under it, written as PNG. No libtorch involved.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dataset/cifar.h"
#include "util/status.h"

namespace tb::render {

struct PreviewOptions {
  std::string data_dir;   // a cifar-10-batches-py folder (or its parent)
  std::string out_png;
  int count = 4;
  int scale = 4;
  uint64_t seed = 0;
  // When set, the only files of the dataset folder read (names relative to it: those a
  // verified manifest lists); unset, every batch in the folder.
  std::optional<std::vector<std::string>> files;
};

struct PreviewResult {
  std::vector<std::string> class_names;  // of the drawn images, in order
  int width = 0, height = 0;
};

Result<PreviewResult> RenderPreview(const PreviewOptions& options);

// The same grid from a split already in memory (the streamed scenario has no local folder: the
// test split pickled decoded, or read through the tier): its images in the order the seed
// shuffles them (epoch 0), the first `count`, named by `label_names`. `data_dir` and `files`
// are not used; `where` names the split in errors.
Result<PreviewResult> RenderPreviewOf(const dataset::Split& split, const std::vector<std::string>& label_names,
                                      const PreviewOptions& options, const std::string& where);

}  // namespace tb::render
