// The flags of `tierbench run` (shared by `doctor`), and their mapping to config keys.
#pragma once

#include "cli/flags.h"
#include "pipeline/config.h"

namespace tb::cli {

Flags MakeRunFlags(const std::string& usage);
// Turns parsed flags into dotted-key overrides for pipeline::LoadConfig.
Result<pipeline::Overrides> RunOverrides(const Flags& flags);

}  // namespace tb::cli
