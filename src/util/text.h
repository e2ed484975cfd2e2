// Text taken from input (manifest paths, archive member names, object keys) as it appears in
// messages: errors, log lines and the results JSON.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace tb {

// How many bytes of an input-supplied name a message shows.
inline constexpr size_t kShownNameBytes = 200;

// `name` itself when at most `keep` bytes, else its first `keep` bytes (never cutting a UTF-8
// sequence in two) followed by "...(N bytes)" with the full length, so a hostile 10 MB name
// never floods stderr, the log or the results.
std::string ShownName(std::string_view name, size_t keep = kShownNameBytes);

// The "key: value" lines of `text` (kernel files such as /proc/self/io and /proc/cpuinfo), in
// order: fn(key, value) with both trimmed of spaces and tabs, split at the first ':'; lines
// without one are skipped. fn returns false to stop early.
void ForEachKeyValueLine(std::string_view text,
                         const std::function<bool(std::string_view key, std::string_view value)>& fn);

}  // namespace tb
