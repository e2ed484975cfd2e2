// ParallelFor: run fn(i) for i in [0, n) on `threads` workers (0 = hardware concurrency).
// Stops handing out work after the first error and returns the error with the lowest index
// among those seen. fn must be thread-safe.
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>

#include "util/status.h"

namespace tb {

int DefaultThreads();  // std::thread::hardware_concurrency(), at least 1

// The most threads, workers or parallel connections any setting may ask for: far above what
// a host uses, far below what exhausts memory or thread ids.
inline constexpr int kMaxThreads = 1024;
Status ParallelFor(size_t n, int threads, const std::function<Status(size_t)>& fn);

// A thread or connection count from text: "auto" -> 0 (the caller picks), "1".."1024" -> that
// number; anything else is InvalidArgument naming the accepted forms.
Result<int> ParseCountOrAuto(std::string_view text);

}  // namespace tb
