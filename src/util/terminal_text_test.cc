#include "util/terminal_text.h"

#include <gtest/gtest.h>

#include "util/utf8.h"

namespace tb {
namespace {

TEST(TerminalSafe, PrintableTextAndUtf8PassUnchanged) {
  EXPECT_EQ(TerminalSafe("airplane"), "airplane");
  EXPECT_EQ(TerminalSafe("caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x90\xb8 \\ ~"), "caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x90\xb8 \\ ~");
  EXPECT_EQ(TerminalSafe(""), "");
}

TEST(TerminalSafe, ControlCharactersBecomeVisibleEscapes) {
  EXPECT_EQ(TerminalSafe("cat\x1b[31m\nred"), "cat\\x1b[31m\\nred");
  EXPECT_EQ(TerminalSafe("a\tb\rc\x7f"), "a\\tb\\rc\\x7f");
  EXPECT_EQ(TerminalSafe(std::string("nul\0end", 7)), "nul\\x00end");
  EXPECT_EQ(TerminalSafe("title\x1b]0;pwned\x07"), "title\\x1b]0;pwned\\x07");
  // C1 controls: U+009B is a one-character CSI on many terminals.
  EXPECT_EQ(TerminalSafe("x\xc2\x9b" "2J"), "x\\u009b2J");
  EXPECT_EQ(TerminalSafe("\xc2\x85"), "\\u0085");
}

TEST(TerminalSafe, InvalidUtf8BytesBecomeOctalEscapesAsInTheResults) {
  EXPECT_EQ(TerminalSafe("bad\xff\xfe"), "bad\\377\\376");
  EXPECT_EQ(TerminalSafe("\xc3"), "\\303");                        // truncated sequence
  EXPECT_EQ(TerminalSafe("\xc0\xaf"), "\\300\\257");              // overlong '/'
  EXPECT_EQ(TerminalSafe("\xed\xa0\x80"), "\\355\\240\\200");    // surrogate U+D800
  EXPECT_EQ(TerminalSafe("\xf4\x90\x80\x80"), "\\364\\220\\200\\200");  // above U+10FFFF
  EXPECT_EQ(TerminalSafe("\xe2\x80" "A"), "\\342\\200A");
  EXPECT_EQ(TerminalSafe("caf\xe9"), EscapeInvalidUtf8("caf\xe9"));
}

TEST(TerminalSafe, OutputHasNoControlBytes) {
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  std::string out = TerminalSafe(all + all);
  for (unsigned char c : out) EXPECT_TRUE(c >= 0x20 && c != 0x7f) << static_cast<int>(c);
}

}  // namespace
}  // namespace tb
