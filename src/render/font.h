// A small built-in bitmap font (5x8 cells: 7 rows above the baseline, 1 descender row) for
// labelling preview images: a-z, A-Z (drawn as capitals), 0-9 and a little punctuation.
// No runtime font files.
#pragma once

#include <cstdint>
#include <string_view>

namespace tb::render {

inline constexpr int kGlyphWidth = 5, kGlyphHeight = 8;

// The glyph of `c` (unknown characters give a hollow box): row r, column x is set when
// bit (4 - x) of Glyph(c)[r] is 1.
const uint8_t* Glyph(char c);

// Width in pixels of `text` at scale `s` (glyphs plus 1-pixel gaps, all scaled).
int TextWidth(std::string_view text, int s);

// Draws `text` into an RGB buffer (width x height, 3 bytes a pixel) with its top-left at
// (x, y), each font pixel an s x s block; clipped to the buffer.
void DrawText(uint8_t* rgb, int width, int height, int x, int y, std::string_view text, int s,
              const uint8_t colour[3]);

}  // namespace tb::render
