// A plain-text table for terminals: columns padded by display width (UTF-8 aware, so "—" and
// "×" count as one column), left- or right-aligned, with rule lines.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tb::report {

class TextTable {
 public:
  enum class Align { kLeft, kRight };
  explicit TextTable(std::vector<Align> aligns) : aligns_(std::move(aligns)) {}

  void AddRow(std::vector<std::string> cells) { rows_.push_back({false, std::move(cells)}); }
  void AddRule() { rows_.push_back({true, {}}); }
  std::string Render() const;

  // Control characters (ESC, newlines, …) and invalid UTF-8 written as visible escapes (see
  // util/terminal_text.h), so text from a results file cannot move the cursor or recolour the
  // terminal. Cells are sanitized by Render().
  static std::string Sanitize(std::string_view s);
  // Number of code points (terminal columns for the text this tool prints).
  static size_t DisplayWidth(std::string_view s);

 private:
  struct Row {
    bool rule;
    std::vector<std::string> cells;
  };
  std::vector<Align> aligns_;
  std::vector<Row> rows_;
};

}  // namespace tb::report
