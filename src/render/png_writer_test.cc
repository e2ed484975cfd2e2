#include "render/png_writer.h"

#include <gtest/gtest.h>

namespace tb::render {
namespace {

TEST(Png, RoundTrips) {
  RgbImage img;
  img.width = 7;
  img.height = 3;
  for (int i = 0; i < 7 * 3 * 3; ++i) img.rgb.push_back(static_cast<uint8_t>(i * 11));
  Result<std::string> png = EncodePng(img);
  ASSERT_TRUE(png.ok());
  EXPECT_EQ(png->substr(1, 3), "PNG");
  Result<RgbImage> back = DecodePng(*png, "mem");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->width, 7);
  EXPECT_EQ(back->height, 3);
  EXPECT_EQ(back->rgb, img.rgb);
}

TEST(Png, RejectsGarbageAndTruncation) {
  EXPECT_TRUE(DecodePng("not a png", "x").status().IsCorruption());
  RgbImage img;
  img.width = img.height = 4;
  img.rgb.assign(48, 9);
  std::string png = *EncodePng(img);
  Result<RgbImage> r = DecodePng(std::string_view(png).substr(0, png.size() / 2), "half.png");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("half.png"), std::string::npos);
  img.rgb.pop_back();
  EXPECT_FALSE(EncodePng(img).ok());
}

}  // namespace
}  // namespace tb::render
