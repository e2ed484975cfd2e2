// PLACEHOLDER: replaced by the dataset work. Fails loudly so nothing mistakes it for done.
#include <cstdio>

#include "cli/commands.h"

namespace tb::cli {

int DatasetCommand(const Args&) {
  std::fprintf(stderr, "tierbench dataset: not built yet\n");
  return 1;
}

}  // namespace tb::cli
