// Synthetic, learnable CIFAR-like images: each class is a shape (disc, square, triangle, ring,
// bars, X, plus, diamond, pair of dots) drawn at a random position and size, in a colour whose
// hue leans towards the class (but not always), on a random background gradient with a
// distractor blob and per-pixel noise. A small CNN separates the classes well, yet no single
// cue (colour, position, brightness) gives the label away.
//
// Every image depends only on (seed, file, index): generation is deterministic for a seed and
// independent of the order or thread that renders it. Thread-safety: pure functions.
#pragma once

#include <cstdint>

namespace tb::dataset {

// Renders one 32x32 image (1024 R, then 1024 G, then 1024 B bytes) into out[3072] and
// returns its label (0..9).
uint8_t RenderImage(uint64_t seed, uint64_t file, uint64_t index, uint8_t* out);

}  // namespace tb::dataset
