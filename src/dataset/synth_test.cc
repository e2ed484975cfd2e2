#include "dataset/synth.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

namespace tb::dataset {
namespace {

TEST(SynthTest, DeterministicPerSeedFileAndIndex) {
  std::vector<uint8_t> a(3072), b(3072), c(3072);
  uint8_t la = RenderImage(1, 2, 3, a.data());
  uint8_t lb = RenderImage(1, 2, 3, b.data());
  EXPECT_EQ(la, lb);
  EXPECT_EQ(a, b);
  RenderImage(1, 2, 4, c.data());
  EXPECT_NE(a, c);
  RenderImage(2, 2, 3, c.data());
  EXPECT_NE(a, c);
}

TEST(SynthTest, AllClassesAppearAndImagesVary) {
  std::vector<int> hist(10);
  std::vector<uint8_t> img(3072);
  for (uint64_t i = 0; i < 2000; ++i) {
    uint8_t l = RenderImage(7, 1, i, img.data());
    ASSERT_LT(l, 10);
    ++hist[l];
    std::set<uint8_t> values(img.begin(), img.end());
    EXPECT_GT(values.size(), 20u);  // not a flat image
  }
  for (int h : hist) EXPECT_GT(h, 120);
}

}  // namespace
}  // namespace tb::dataset
