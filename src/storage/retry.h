// Retry helpers shared by the network backends and the transfer engine: exponential backoff
// with jitter, cancellable sleeps.
#pragma once

#include "storage/storage.h"

namespace tb::storage {

// Delay before retry number `attempt` (>= 1): "equal jitter" exponential backoff starting at
// 0.2 s, capped at 10 s.
double BackoffSeconds(int attempt);

inline bool IsCancelled(const Options& o) { return o.cancel && o.cancel->load(std::memory_order_relaxed); }

// Sleeps `seconds`, waking early when Options::cancel is set. Returns false when cancelled.
bool SleepUnlessCancelled(double seconds, const Options& o);

}  // namespace tb::storage
