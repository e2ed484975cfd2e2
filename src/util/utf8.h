// UTF-8: encoding a code point (used by the pickle and XML decoders), and making bytes that
// are not valid UTF-8 safe to carry in JSON and logs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tb {

// Appends code point `cp` as UTF-8. REQUIRES: cp <= 0x10FFFF.
inline void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Length (1..4) of the well-formed UTF-8 sequence that starts at s[i], or 0 when s[i] starts
// none (Unicode table 3-7: no overlong forms, no surrogates, nothing above U+10FFFF).
// REQUIRES: i < s.size().
size_t Utf8SequenceLength(std::string_view s, size_t i);

// Appends byte `b` as a backslash and three octal digits ("\351"), the form GNU tar uses.
void AppendOctalEscape(uint8_t b, std::string* out);

// True when `s` is well-formed UTF-8 (Unicode table 3-7: no overlong forms, no surrogates,
// nothing above U+10FFFF) — exactly what a JSON writer accepts.
bool IsValidUtf8(std::string_view s);

// `s` with every byte that is not part of a well-formed UTF-8 sequence written as a backslash
// and three octal digits, the way GNU tar lists such a name (`tar -tf` shows the Latin-1 name
// "caf\xe9" as caf\351). Valid UTF-8 (and so every ASCII string) comes back unchanged, and the
// result is always valid UTF-8. The form is for display: a valid name that already holds the
// characters "\351" reads the same.
std::string EscapeInvalidUtf8(std::string_view s);

}  // namespace tb
