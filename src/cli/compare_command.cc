// PLACEHOLDER: replaced by the report work. Fails loudly so nothing mistakes it for done.
#include <cstdio>

#include "cli/commands.h"

namespace tb::cli {

int CompareCommand(const Args&) {
  std::fprintf(stderr, "tierbench compare: not built yet\n");
  return 1;
}

}  // namespace tb::cli
