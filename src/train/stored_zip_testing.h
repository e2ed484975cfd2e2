// Test and fuzz support: writes the stored (uncompressed) zip layout that torch.save uses for
// model.pth, so tests can build hostile files record by record. Header-only, no test framework.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tb::train::testing {

inline void PutLe16(std::string* s, uint32_t v) {
  s->push_back(static_cast<char>(v & 0xff));
  s->push_back(static_cast<char>(v >> 8 & 0xff));
}
inline void PutLe32(std::string* s, uint32_t v) {
  PutLe16(s, v & 0xffff);
  PutLe16(s, v >> 16);
}

// A stored zip of `records` (name, bytes), CRCs left zero (the reader does not check them).
// `padding` bytes of extra field precede each record's data, as torch's alignment does.
inline std::string StoredZip(const std::vector<std::pair<std::string, std::string_view>>& records,
                             uint32_t padding = 0) {
  std::string out, central;
  for (const auto& [name, data] : records) {
    const auto offset = static_cast<uint32_t>(out.size());
    const auto size = static_cast<uint32_t>(data.size());
    const auto name_size = static_cast<uint32_t>(name.size());
    PutLe32(&out, 0x04034b50);
    for (uint32_t v : {20, 0, 0, 0, 0}) PutLe16(&out, v);  // version, flags, method, time, date
    PutLe32(&out, 0); PutLe32(&out, size); PutLe32(&out, size);
    PutLe16(&out, name_size); PutLe16(&out, padding);
    out += name;
    out.append(padding, 'p');
    out += data;
    PutLe32(&central, 0x02014b50);
    for (uint32_t v : {20, 20, 0, 0, 0, 0}) PutLe16(&central, v);
    PutLe32(&central, 0); PutLe32(&central, size); PutLe32(&central, size);
    for (uint32_t v : {name_size, 0u, 0u, 0u, 0u}) PutLe16(&central, v);
    PutLe32(&central, 0); PutLe32(&central, offset);
    central += name;
  }
  const auto cd = static_cast<uint32_t>(out.size());
  out += central;
  PutLe32(&out, 0x06054b50);
  const auto n = static_cast<uint32_t>(records.size());
  for (uint32_t v : {0u, 0u, n, n}) PutLe16(&out, v);
  PutLe32(&out, static_cast<uint32_t>(central.size())); PutLe32(&out, cd); PutLe16(&out, 0);
  return out;
}

}  // namespace tb::train::testing
