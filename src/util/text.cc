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

namespace {

std::string_view TrimBlanks(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

}  // namespace

void ForEachKeyValueLine(std::string_view text,
                         const std::function<bool(std::string_view key, std::string_view value)>& fn) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    if (!fn(TrimBlanks(line.substr(0, colon)), TrimBlanks(line.substr(colon + 1)))) return;
  }
}

}  // namespace tb
