// The allowed range of a named numeric setting (a config key or a flag), shared by every
// table of ranges so that one rule decides what is in range.
#pragma once

#include <cmath>

namespace tb {

struct NamedRange {
  const char* name;  // the key or flag it applies to
  double lo, hi;
  const char* text;                       // the range as users write it, for messages and --help
  bool lo_open = false, hi_open = false;  // (lo, ...) or (..., hi): the bound itself is out

  // True when `x` is finite and lies within the bounds.
  bool Contains(double x) const {
    return std::isfinite(x) && (lo_open ? x > lo : x >= lo) && (hi_open ? x < hi : x <= hi);
  }
};

}  // namespace tb
