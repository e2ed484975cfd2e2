// The one way tierbench turns a JSON value into text (results, comparisons, stage details,
// --json output). Strings reach JSON from outside (labels, paths, archive member names,
// manifest entries, object keys, class names) and need not be UTF-8, which JSON text must
// be: every string value and object key that is not valid UTF-8 is written with its invalid
// bytes escaped as GNU tar shows them (a backslash and three octal digits, see
// EscapeInvalidUtf8 in util/utf8.h), so writing JSON never fails and never aborts.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

namespace tb {

// Like j.dump(indent) (-1: one line), but never throws.
std::string JsonText(const nlohmann::json& j, int indent = -1);
std::string JsonText(const nlohmann::ordered_json& j, int indent = -1);

}  // namespace tb
