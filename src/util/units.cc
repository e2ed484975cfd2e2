#include "util/units.h"

#include <cctype>
#include <cstdlib>

namespace tb {

Result<uint64_t> ParseBytes(const std::string& text) {
  size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  if (i == 0 || i > 15) return Status::InvalidArgument("not a byte size: '" + text + "'");
  uint64_t n = std::strtoull(text.substr(0, i).c_str(), nullptr, 10);
  std::string unit = text.substr(i);
  for (auto& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  int shift = -1;
  if (unit.empty() || unit == "B") shift = 0;
  else if (unit == "K" || unit == "KB" || unit == "KIB") shift = 10;
  else if (unit == "M" || unit == "MB" || unit == "MIB") shift = 20;
  else if (unit == "G" || unit == "GB" || unit == "GIB") shift = 30;
  else if (unit == "T" || unit == "TB" || unit == "TIB") shift = 40;
  if (shift < 0) return Status::InvalidArgument("unknown size unit in '" + text + "'");
  if (shift > 0 && n > (~uint64_t{0} >> shift)) return Status::InvalidArgument("byte size too large: '" + text + "'");
  return n << shift;
}

}  // namespace tb
