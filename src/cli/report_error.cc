#include <cstdio>

#include "cli/commands.h"
#include "util/signals.h"
#include "util/terminal_text.h"

namespace tb::cli {

int ReportError(const std::string& verb, const Status& status) {
  std::fprintf(stderr, "tierbench %s: %s\n", verb.c_str(), TerminalSafe(status.message()).c_str());
  if (status.code() == Code::kInvalidArgument) return 2;
  if (status.code() == Code::kCancelled) return InterruptedExitCode();
  return 1;
}

}  // namespace tb::cli
