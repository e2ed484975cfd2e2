#include "dataset/synth.h"

#include <algorithm>
#include <cmath>

namespace tb::dataset {

namespace {

constexpr int kSide = 32;
constexpr int kPlane = kSide * kSide;

uint64_t SplitMix(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

class Rng {
 public:
  Rng(uint64_t seed, uint64_t file, uint64_t index) {
    uint64_t s = seed;
    s = SplitMix(s) ^ file * 0xD1B54A32D192ED03ull;
    s = SplitMix(s) ^ index * 0x8CB92BA72F3D8DD7ull;
    state_ = SplitMix(s);
  }
  uint64_t Next() { return SplitMix(state_); }
  double Uniform() { return static_cast<double>(Next() >> 11) * (1.0 / 9007199254740992.0); }
  double Range(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  int Int(int n) { return static_cast<int>(Next() % static_cast<uint64_t>(n)); }

 private:
  uint64_t state_;
};

struct Rgb {
  double r, g, b;
};

Rgb FromHsv(double h, double s, double v) {
  h = std::fmod(h, 360.0);
  if (h < 0) h += 360.0;
  double c = v * s, x = c * (1 - std::fabs(std::fmod(h / 60.0, 2.0) - 1)), m = v - c;
  Rgb o{};
  switch (static_cast<int>(h / 60.0)) {
    case 0: o = {c, x, 0}; break;
    case 1: o = {x, c, 0}; break;
    case 2: o = {0, c, x}; break;
    case 3: o = {0, x, c}; break;
    case 4: o = {x, 0, c}; break;
    default: o = {c, 0, x}; break;
  }
  return {(o.r + m) * 255, (o.g + m) * 255, (o.b + m) * 255};
}

// Coverage (0..1) of the class shape at pixel (x, y) for a shape centred at (cx, cy) with
// radius r and rotation-free geometry; soft edges by 1 px.
double Coverage(int cls, double x, double y, double cx, double cy, double r) {
  double dx = x - cx, dy = y - cy;
  auto soft = [](double d) { return std::clamp(0.5 - d, 0.0, 1.0); };  // d: signed distance
  switch (cls) {
    case 0: return soft(std::hypot(dx, dy) - r);                                   // disc
    case 1: return soft(std::max(std::fabs(dx), std::fabs(dy)) - r * 0.85);         // square
    case 2: {                                                                       // triangle
      double top = cy - r, h = 2 * r;
      double t = (y - top) / h;  // 0 at apex, 1 at base
      if (t < 0 || t > 1) return 0;
      return soft(std::fabs(dx) - t * r);
    }
    case 3: return soft(std::fabs(std::hypot(dx, dy) - r * 0.75) - r * 0.25);     // ring
    case 4: return soft(std::max(std::fabs(dx) - r * 1.2, std::fabs(dy) - r * 0.3));  // horizontal bar
    case 5: return soft(std::max(std::fabs(dy) - r * 1.2, std::fabs(dx) - r * 0.3));  // vertical bar
    case 6: {                                                                       // X
      double d = std::min(std::fabs(dx - dy), std::fabs(dx + dy)) / std::sqrt(2.0);
      return std::max(std::fabs(dx), std::fabs(dy)) > r ? 0 : soft(d - r * 0.2);
    }
    case 7: {                                                                       // plus
      double d = std::min(std::fabs(dx), std::fabs(dy));
      return std::max(std::fabs(dx), std::fabs(dy)) > r ? 0 : soft(d - r * 0.22);
    }
    case 8: return soft(std::fabs(dx) + std::fabs(dy) - r);                         // diamond
    default: {                                                                      // two dots
      double a = std::hypot(dx - r * 0.6, dy), b = std::hypot(dx + r * 0.6, dy);
      return soft(std::min(a, b) - r * 0.38);
    }
  }
}

}  // namespace

uint8_t RenderImage(uint64_t seed, uint64_t file, uint64_t index, uint8_t* out) {
  Rng rng(seed, file, index);
  const int cls = rng.Int(10);
  // Background: a gradient between two low-saturation colours.
  Rgb bg0 = FromHsv(rng.Range(0, 360), rng.Range(0.0, 0.45), rng.Range(0.15, 0.9));
  Rgb bg1 = FromHsv(rng.Range(0, 360), rng.Range(0.0, 0.45), rng.Range(0.15, 0.9));
  double gangle = rng.Range(0, 6.283185307179586);
  double gx = std::cos(gangle) / kSide, gy = std::sin(gangle) / kSide;
  // Foreground: the class hue most of the time, any hue otherwise; contrasting value.
  double hue = rng.Uniform() < 0.6 ? cls * 36.0 + rng.Range(-20, 20) : rng.Range(0, 360);
  double bg_v = (bg0.r + bg0.g + bg0.b + bg1.r + bg1.g + bg1.b) / (6 * 255.0);
  double fg_v = bg_v > 0.5 ? rng.Range(0.05, 0.35) : rng.Range(0.65, 1.0);
  Rgb fg = FromHsv(hue, rng.Range(0.5, 1.0), fg_v);
  double r = rng.Range(6.0, 10.5);
  double cx = rng.Range(r * 0.8 + 1, kSide - r * 0.8 - 1);
  double cy = rng.Range(r * 0.8 + 1, kSide - r * 0.8 - 1);
  // A distractor blob somewhere (half the time).
  bool blob = rng.Uniform() < 0.5;
  Rgb bc = FromHsv(rng.Range(0, 360), rng.Range(0.2, 0.9), rng.Range(0.2, 1.0));
  double bx = rng.Range(0, kSide), by = rng.Range(0, kSide), br = rng.Range(1.5, 3.5);
  const double noise = rng.Range(4.0, 22.0);

  for (int y = 0; y < kSide; ++y) {
    for (int x = 0; x < kSide; ++x) {
      double t = std::clamp(0.5 + (x - 16) * gx + (y - 16) * gy, 0.0, 1.0);
      double pr = bg0.r + (bg1.r - bg0.r) * t, pg = bg0.g + (bg1.g - bg0.g) * t, pb = bg0.b + (bg1.b - bg0.b) * t;
      if (blob) {
        double a = std::clamp(br - std::hypot(x - bx, y - by), 0.0, 1.0);
        pr += (bc.r - pr) * a;
        pg += (bc.g - pg) * a;
        pb += (bc.b - pb) * a;
      }
      double a = Coverage(cls, x + 0.5, y + 0.5, cx, cy, r);
      pr += (fg.r - pr) * a;
      pg += (fg.g - pg) * a;
      pb += (fg.b - pb) * a;
      uint64_t bits = rng.Next();
      auto n = [&](int shift) { return (static_cast<double>((bits >> shift) & 0xFFFF) / 65535.0 - 0.5) * 2 * noise; };
      int i = y * kSide + x;
      out[i] = static_cast<uint8_t>(std::clamp(pr + n(0), 0.0, 255.0));
      out[kPlane + i] = static_cast<uint8_t>(std::clamp(pg + n(16), 0.0, 255.0));
      out[2 * kPlane + i] = static_cast<uint8_t>(std::clamp(pb + n(32), 0.0, 255.0));
    }
  }
  return static_cast<uint8_t>(cls);
}

}  // namespace tb::dataset
