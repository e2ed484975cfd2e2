// Redaction of credentials embedded in URLs ("scheme://user:password@host/..."), for every
// place a user-supplied URL is echoed: messages, logs, results JSON, summaries.
#pragma once

#include <string>
#include <string_view>

namespace tb {

// Replaces the userinfo of `url` with "***" ("http://u:p@h/x" -> "http://***@h/x"); returns
// anything without "scheme://...@" before the first '/', '?' or '#' unchanged.
inline std::string RedactUrlUserinfo(std::string_view url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::string(url);
  size_t host_start = scheme_end + 3;
  size_t authority_end = url.find_first_of("/?#", host_start);
  if (authority_end == std::string_view::npos) authority_end = url.size();
  size_t at = url.substr(0, authority_end).rfind('@');
  if (at == std::string_view::npos || at < host_start) return std::string(url);
  return std::string(url.substr(0, host_start)) + "***" + std::string(url.substr(at));
}

}  // namespace tb
