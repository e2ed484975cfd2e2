// PLACEHOLDER: replaced by the pipeline work. Fails loudly so nothing mistakes it for done.
#include <cstdio>

#include "cli/commands.h"

namespace tb::cli {

int RunCommand(const Args&) {
  std::fprintf(stderr, "tierbench run: not built yet\n");
  return 1;
}

}  // namespace tb::cli
