// Text taken from input (manifest paths, archive member names, object keys) as it appears in
// messages: errors, log lines and the results JSON.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tb {

// How many bytes of an input-supplied name a message shows.
inline constexpr size_t kShownNameBytes = 200;

// `name` itself when at most `keep` bytes, else its first `keep` bytes (never cutting a UTF-8
// sequence in two) followed by "...(N bytes)" with the full length, so a hostile 10 MB name
// never floods stderr, the log or the results.
std::string ShownName(std::string_view name, size_t keep = kShownNameBytes);

}  // namespace tb
