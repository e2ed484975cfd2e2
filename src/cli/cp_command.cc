// PLACEHOLDER: replaced by the storage work. Fails loudly so nothing mistakes it for done.
#include <cstdio>

#include "cli/commands.h"

namespace tb::cli {

int CpCommand(const Args&) {
  std::fprintf(stderr, "tierbench cp: not built yet\n");
  return 1;
}

}  // namespace tb::cli
