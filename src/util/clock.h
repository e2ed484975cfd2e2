// Clocks: steady seconds for durations, UTC ISO-8601 for timestamps.
#pragma once

#include <chrono>
#include <string>

namespace tb {

inline double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
// Wall-clock seconds since the Unix epoch: comparable between processes and (with synchronised
// clocks) hosts, unlike NowSeconds.
inline double UnixSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}
std::string UtcTimestamp();  // "2026-11-25T18:46:20.123Z"

}  // namespace tb
