// Byte sizes as people write them.
#pragma once

#include <cstdint>
#include <string>

#include "util/status.h"

namespace tb {

// Parses "8MiB", "16M", "1G", "4096" (binary units; K/M/G/T with optional B or iB).
Result<uint64_t> ParseBytes(const std::string& text);

}  // namespace tb
