// Text that came from data (label names, archive member names, manifest paths, error messages
// quoting them) made safe for a terminal and for line-oriented logs.
#pragma once

#include <string>
#include <string_view>

namespace tb {

// Returns `s` with every C0 control character, DEL and C1 control character written as a
// visible escape ("\n", "\r", "\t", "\x1b", "\u009b") and every byte that is not part of
// valid UTF-8 as a backslash and three octal digits ("\351", as in the results JSON), so no input can move the cursor, recolour or retitle the terminal
// or start a forged log line. Printable ASCII and valid UTF-8 pass unchanged.
std::string TerminalSafe(std::string_view s);

}  // namespace tb
