// RGB8 images to PNG bytes and back with libpng (used by the preview and its tests).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace tb::render {

struct RgbImage {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;  // height rows of width * 3 bytes
};

Result<std::string> EncodePng(const RgbImage& image);
// Decodes any 8-bit PNG to RGB (for tests and checks); `name` is used in errors.
Result<RgbImage> DecodePng(std::string_view bytes, const std::string& name);

}  // namespace tb::render
