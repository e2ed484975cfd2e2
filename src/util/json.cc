#include "util/json.h"

#include <nlohmann/json.hpp>

#include "util/utf8.h"

namespace tb {
namespace {

template <typename J>
bool NeedsEscape(const J& j) {
  using T = nlohmann::detail::value_t;
  switch (j.type()) {
    case T::string:
      return !IsValidUtf8(j.template get_ref<const typename J::string_t&>());
    case T::object:
      for (auto it = j.begin(); it != j.end(); ++it)
        if (!IsValidUtf8(it.key()) || NeedsEscape(it.value())) return true;
      return false;
    case T::array:
      for (const J& v : j)
        if (NeedsEscape(v)) return true;
      return false;
    default:
      return false;
  }
}

template <typename J>
J Escaped(const J& j) {
  using T = nlohmann::detail::value_t;
  switch (j.type()) {
    case T::string:
      return J(EscapeInvalidUtf8(j.template get_ref<const typename J::string_t&>()));
    case T::object: {
      J out = J::object();
      for (auto it = j.begin(); it != j.end(); ++it) out[EscapeInvalidUtf8(it.key())] = Escaped(it.value());
      return out;
    }
    case T::array: {
      J out = J::array();
      for (const J& v : j) out.push_back(Escaped(v));
      return out;
    }
    default:
      return j;
  }
}

template <typename J>
std::string Dump(const J& j, int indent) {
  // Escaping leaves nothing for the writer to refuse; `replace` only keeps a writer bug from
  // ever becoming an exception.
  constexpr auto kReplace = J::error_handler_t::replace;
  if (!NeedsEscape(j)) return j.dump(indent, ' ', false, kReplace);
  return Escaped(j).dump(indent, ' ', false, kReplace);
}

}  // namespace

std::string JsonText(const nlohmann::json& j, int indent) { return Dump(j, indent); }
std::string JsonText(const nlohmann::ordered_json& j, int indent) { return Dump(j, indent); }

}  // namespace tb
