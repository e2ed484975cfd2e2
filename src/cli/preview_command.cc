// PLACEHOLDER: replaced by the train work. Fails loudly so nothing mistakes it for done.
#include <cstdio>

#include "cli/commands.h"

namespace tb::cli {

int PreviewCommand(const Args&) {
  std::fprintf(stderr, "tierbench preview: not built yet\n");
  return 1;
}

}  // namespace tb::cli
