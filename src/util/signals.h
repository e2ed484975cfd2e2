// SIGINT/SIGTERM turn into a cancellation flag that long operations poll; a second signal
// exits at once. The process-wide flag is the one piece of global state, owned by main paths.
#pragma once

#include <atomic>

namespace tb {

// Installs the handlers (idempotent) and returns the flag they set.
const std::atomic<bool>* InstallCancelHandlers();
// Sets the flag from within the process (a cluster lost a rank): long operations stop as for
// a signal; CancelSignal() stays 0. Safe from any thread.
void CancelFromWithin();
// The signal that cancelled (SIGINT/SIGTERM), or 0.
int CancelSignal();
// 128 + signal for an interrupted run (130 for SIGINT, 143 for SIGTERM).
int InterruptedExitCode();

}  // namespace tb
