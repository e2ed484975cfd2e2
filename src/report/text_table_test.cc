#include "report/text_table.h"

#include <gtest/gtest.h>

namespace tb::report {
namespace {

TEST(TextTable, PadsByDisplayWidth) {
  TextTable t({TextTable::Align::kLeft, TextTable::Align::kRight});
  t.AddRow({"Stage", "Seconds"});
  t.AddRule();
  t.AddRow({"download", "\u2014"});
  t.AddRow({"verify", "214.04"});
  EXPECT_EQ(t.Render(),
            "Stage     Seconds\n"
            "--------  -------\n"
            "download        \u2014\n"
            "verify     214.04\n");
  EXPECT_EQ(TextTable::DisplayWidth("2.41\u00d7"), 5u);
}

TEST(TextTable, ControlCharactersCannotReachTheTerminal) {
  TextTable t({TextTable::Align::kLeft});
  t.AddRow({"evil\x1b[2J\nlabel"});
  EXPECT_EQ(t.Render(), "evil\\x1b[2J\\nlabel\n");
  EXPECT_EQ(TextTable::Sanitize("a\tb\x7f"), "a\\tb\\x7f");
}

}  // namespace
}  // namespace tb::report
