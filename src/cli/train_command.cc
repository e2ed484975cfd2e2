// PLACEHOLDER: replaced by the train work. Fails loudly so nothing mistakes it for done.
#include <cstdio>

#include "cli/commands.h"

namespace tb::cli {

int TrainCommand(const Args&) {
  std::fprintf(stderr, "tierbench train: not built yet\n");
  return 1;
}

}  // namespace tb::cli
