#include "util/utf8.h"

namespace tb {

size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto at = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  uint8_t b = at(i);
  if (b < 0x80) return 1;
  size_t n;
  uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b >= 0xC2 && b <= 0xDF) {
    n = 2;
  } else if (b >= 0xE0 && b <= 0xEF) {
    n = 3;
    if (b == 0xE0) lo = 0xA0;       // no overlong 3-byte forms
    if (b == 0xED) hi = 0x9F;       // no UTF-16 surrogates
  } else if (b >= 0xF0 && b <= 0xF4) {
    n = 4;
    if (b == 0xF0) lo = 0x90;       // no overlong 4-byte forms
    if (b == 0xF4) hi = 0x8F;       // nothing above U+10FFFF
  } else {
    return 0;                       // 80..C1 and F5..FF never start a sequence
  }
  if (s.size() - i < n) return 0;
  if (at(i + 1) < lo || at(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k)
    if ((at(i + k) & 0xC0) != 0x80) return 0;
  return n;
}

void AppendOctalEscape(uint8_t b, std::string* out) {
  out->push_back('\\');
  out->push_back(static_cast<char>('0' + (b >> 6)));
  out->push_back(static_cast<char>('0' + ((b >> 3) & 7)));
  out->push_back(static_cast<char>('0' + (b & 7)));
}

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = Utf8SequenceLength(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string EscapeInvalidUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t n = Utf8SequenceLength(s, i);
    if (n > 0) {
      out.append(s.substr(i, n));
      i += n;
      continue;
    }
    AppendOctalEscape(static_cast<uint8_t>(s[i++]), &out);
  }
  return out;
}

}  // namespace tb
