#include "util/text.h"

namespace tb {

std::string ShownName(std::string_view name, size_t keep) {
  if (name.size() <= keep) return std::string(name);
  size_t cut = keep;
  // Back off over continuation bytes (10xxxxxx) so a multi-byte character is never split;
  // at most 3 of them follow a lead byte.
  for (int i = 0; i < 3 && cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80; ++i) --cut;
  return std::string(name.substr(0, cut)) + "...(" + std::to_string(name.size()) + " bytes)";
}

}  // namespace tb
