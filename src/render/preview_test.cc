#include "render/preview.h"

#include <gtest/gtest.h>

#include <set>

#include "dataset/cifar_testing.h"
#include "dataset/shuffle.h"
#include "render/png_writer.h"
#include "util/fs.h"
#include "util/testing.h"

namespace tb::render {
namespace {

using dataset::ShuffledOrder;
namespace testing = dataset::testing;

TEST(RenderPreview, WritesAGridWithLabelsAndReturnsTheClassNames) {
  tb::testing::TempDir tmp;
  ASSERT_TRUE(testing::WriteTestDataset(tmp.path(), 2, 50, 10).ok());
  PreviewOptions o;
  o.data_dir = tmp.path();
  o.out_png = tmp / "grid.png";
  o.count = 4;
  o.scale = 4;
  o.seed = 3;
  Result<PreviewResult> r = RenderPreview(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // make_grid: 4 images in one row, 2-pixel padding, then a label strip; all scaled 4x.
  EXPECT_EQ(r->width, (4 * 34 + 2) * 4);
  EXPECT_EQ(r->height, 34 * 4 + (8 + 3) * 2 + 2 * 4);
  // The images are the first batch the training loader draws in epoch 0 with this seed.
  std::vector<uint32_t> order = ShuffledOrder(100, 3, 0);
  const auto& names = dataset::Cifar10LabelNames();
  ASSERT_EQ(r->class_names.size(), 4u);
  for (int k = 0; k < 4; ++k) EXPECT_EQ(r->class_names[k], names[testing::TestLabel(order[k])]);

  Result<std::string> bytes = ReadFile(o.out_png);
  ASSERT_TRUE(bytes.ok());
  Result<RgbImage> img = DecodePng(*bytes, o.out_png);
  ASSERT_TRUE(img.ok()) << img.status().ToString();
  EXPECT_EQ(img->width, r->width);
  EXPECT_EQ(img->height, r->height);
  // Pixel (0, 0) of the first image, scaled, at (8, 8); the padding is black.
  auto at = [&](int x, int y, int c) { return img->rgb[(static_cast<size_t>(y) * img->width + x) * 3 + c]; };
  EXPECT_EQ(at(8, 8, 0), testing::TestPixel(order[0], 0, 1));
  EXPECT_EQ(at(8, 8, 1), testing::TestPixel(order[0], 1024, 1));
  EXPECT_EQ(at(8 + 4 * 31 + 3, 8, 2), testing::TestPixel(order[0], 2048 + 31, 1));
  EXPECT_EQ(at(0, 0, 0), 0);
  EXPECT_EQ(at(8 + 32 * 4 + 1, 20, 1), 0);
  std::set<int> values(img->rgb.begin(), img->rgb.end());
  EXPECT_GT(values.size(), 100u);
  // Some white label pixels in the strip under the first image.
  int white = 0;
  for (int y = 8 + 128; y < img->height; ++y) {
    for (int x = 8; x < 8 + 128; ++x) white += at(x, y, 0) == 255 && at(x, y, 1) == 255 && at(x, y, 2) == 255;
  }
  EXPECT_GT(white, 20);
}

TEST(RenderPreview, WrapsAfterEightImagesAndIsDeterministic) {
  tb::testing::TempDir tmp;
  ASSERT_TRUE(testing::WriteTestDataset(tmp.path(), 1, 30, 5).ok());
  PreviewOptions o;
  o.data_dir = tmp.path() + "/cifar-10-batches-py";
  o.out_png = tmp / "a.png";
  o.count = 10;
  o.scale = 1;
  Result<PreviewResult> a = RenderPreview(o);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->width, 8 * 34 + 2);
  EXPECT_EQ(a->height, 2 * (34 + 11) + 2);
  o.out_png = tmp / "b.png";
  ASSERT_TRUE(RenderPreview(o).ok());
  EXPECT_EQ(*ReadFile(tmp / "a.png"), *ReadFile(tmp / "b.png"));
}

TEST(RenderPreview, NamesTheProblem) {
  tb::testing::TempDir tmp;
  PreviewOptions o;
  o.data_dir = tmp / "missing";
  o.out_png = tmp / "x.png";
  EXPECT_FALSE(RenderPreview(o).ok());
  ASSERT_TRUE(testing::WriteTestDataset(tmp.path(), 1, 3, 1).ok());
  o.data_dir = tmp.path();
  o.count = 4;
  Result<PreviewResult> r = RenderPreview(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("fewer than --count 4"), std::string::npos);
  o.count = 0;
  EXPECT_TRUE(RenderPreview(o).status().IsInvalidArgument());
}

// From a split in memory (the streamed scenario's test split): the seed's order over it.
TEST(RenderPreview, FromASplitInMemoryInTheSeedsOrder) {
  tb::testing::TempDir tmp;
  dataset::Split split;
  split.count = 20;
  for (size_t i = 0; i < split.count; ++i) {
    split.labels.push_back(testing::TestLabel(i));
    for (size_t k = 0; k < dataset::kImageBytes; ++k) split.pixels.push_back(testing::TestPixel(i, k, 1));
  }
  PreviewOptions o;
  o.out_png = tmp / "grid.png";
  o.count = 5;
  o.scale = 2;
  o.seed = 9;
  Result<PreviewResult> r = RenderPreviewOf(split, dataset::Cifar10LabelNames(), o, "mem://x (test split)");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::vector<uint32_t> order = ShuffledOrder(20, 9, 0);
  ASSERT_EQ(r->class_names.size(), 5u);
  for (int k = 0; k < 5; ++k) EXPECT_EQ(r->class_names[k], dataset::Cifar10LabelNames()[testing::TestLabel(order[k])]);
  Result<std::string> bytes = ReadFile(o.out_png);
  ASSERT_TRUE(bytes.ok());
  Result<RgbImage> img = DecodePng(*bytes, o.out_png);
  ASSERT_TRUE(img.ok()) << img.status().ToString();
  auto at = [&](int x, int y, int c) { return img->rgb[(static_cast<size_t>(y) * img->width + x) * 3 + c]; };
  EXPECT_EQ(at(4, 4, 0), testing::TestPixel(order[0], 0, 1));  // image 0's first pixel, scaled 2x
  EXPECT_EQ(at(4, 4, 2), testing::TestPixel(order[0], 2048, 1));

  o.count = 21;
  Result<PreviewResult> many = RenderPreviewOf(split, dataset::Cifar10LabelNames(), o, "mem://x (test split)");
  ASSERT_FALSE(many.ok());
  EXPECT_NE(many.status().message().find("mem://x (test split) has 20 images, fewer than --count 21"),
            std::string::npos)
      << many.status().message();
}

}  // namespace
}  // namespace tb::render
