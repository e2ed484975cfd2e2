#include "report/text_table.h"

#include <algorithm>

#include "util/terminal_text.h"

namespace tb::report {

size_t TextTable::DisplayWidth(std::string_view s) {
  size_t n = 0;
  for (char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

std::string TextTable::Sanitize(std::string_view s) { return TerminalSafe(s); }

std::string TextTable::Render() const {
  std::vector<Row> rows = rows_;
  for (Row& r : rows)
    for (std::string& cell : r.cells) cell = Sanitize(cell);
  std::vector<size_t> widths(aligns_.size(), 0);
  for (const Row& r : rows)
    for (size_t i = 0; i < r.cells.size() && i < widths.size(); ++i)
      widths[i] = std::max(widths[i], DisplayWidth(r.cells[i]));
  std::string out;
  for (const Row& r : rows) {
    std::string line;
    for (size_t i = 0; i < widths.size(); ++i) {
      if (i > 0) line += "  ";
      if (r.rule) {
        line += std::string(widths[i], '-');
        continue;
      }
      std::string cell = i < r.cells.size() ? r.cells[i] : "";
      std::string pad(widths[i] - std::min(widths[i], DisplayWidth(cell)), ' ');
      line += aligns_[i] == Align::kRight ? pad + cell : cell + pad;
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

}  // namespace tb::report
