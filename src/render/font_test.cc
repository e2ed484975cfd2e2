#include "render/font.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace tb::render {
namespace {

TEST(Font, EveryLowercaseLetterAndDigitHasItsOwnGlyph) {
  const uint8_t* box = Glyph('\x01');
  std::vector<const uint8_t*> seen;
  for (char c : std::string("abcdefghijklmnopqrstuvwxyz0123456789")) {
    const uint8_t* g = Glyph(c);
    EXPECT_NE(g, box) << c;
    for (const uint8_t* other : seen) EXPECT_NE(std::memcmp(g, other, kGlyphHeight), 0) << c;
    seen.push_back(g);
  }
  EXPECT_EQ(TextWidth("", 2), 0);
  EXPECT_EQ(TextWidth("ab", 1), 11);
  EXPECT_EQ(TextWidth("ab", 3), 33);
}

TEST(Font, DrawsScaledAndClipped) {
  std::vector<uint8_t> rgb(20 * 10 * 3, 0);
  const uint8_t red[3] = {255, 0, 0};
  DrawText(rgb.data(), 20, 10, 0, 0, "l", 1, red);  // 'l' row 0 = " ##  "
  EXPECT_EQ(rgb[(0 * 20 + 1) * 3], 255);
  EXPECT_EQ(rgb[(0 * 20 + 0) * 3], 0);
  EXPECT_EQ(rgb[(0 * 20 + 1) * 3 + 1], 0);
  std::vector<uint8_t> big(20 * 10 * 3, 0);
  DrawText(big.data(), 20, 10, 15, 5, "mmmm", 2, red);  // mostly outside: must not crash
  int set = 0;
  for (size_t i = 0; i < big.size(); i += 3) set += big[i] == 255;
  EXPECT_GT(set, 0);
}

}  // namespace
}  // namespace tb::render
