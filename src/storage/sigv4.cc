#include "storage/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>

#include "storage/storage.h"
#include "util/md5.h"

namespace tb::storage::sigv4 {
namespace {

constexpr char kAlgorithm[] = "AWS4-HMAC-SHA256";

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string Scope(std::string_view date, const SignOptions& o) {
  return std::string(date) + "/" + o.region + "/" + o.service + "/aws4_request";
}

// The shared core: canonical request -> string to sign -> signature.
void Finish(const Request& req, const KeyValues& headers, const KeyValues& query,
            const std::string& amz_date, const Credentials& creds, const SignOptions& o,
            Signed* out) {
  auto [canon_headers, signed_headers] = CanonicalHeaders(headers);
  out->canonical_request = req.method + "\n" + CanonicalUri(req.path, o.normalize_path) + "\n" +
                           CanonicalQueryString(query) + "\n" + canon_headers + "\n" +
                           signed_headers + "\n" + req.payload_hash;
  std::string date = amz_date.substr(0, 8);
  out->string_to_sign = std::string(kAlgorithm) + "\n" + amz_date + "\n" + Scope(date, o) + "\n" +
                        Sha256Hex(out->canonical_request);
  std::string key = SigningKey(creds.secret_access_key, date, o.region, o.service);
  std::string mac = HmacSha256(key, out->string_to_sign);
  out->signature = ToHex(reinterpret_cast<const uint8_t*>(mac.data()), mac.size());
}

}  // namespace

std::string NormalizePath(std::string_view path) {
  std::vector<std::string_view> segs;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view seg = path.substr(i, j - i);
    if (seg == "..") {
      if (!segs.empty()) segs.pop_back();
    } else if (!seg.empty() && seg != ".") {
      segs.push_back(seg);
    }
    i = j + 1;
  }
  std::string out;
  for (auto seg : segs) {
    out.push_back('/');
    out.append(seg);
  }
  // A trailing slash survives, as does one after a final "." or ".." (RFC 3986 5.2.4).
  bool trailing = path.ends_with("/") || path.ends_with("/.") || path.ends_with("/..");
  if (segs.empty() || trailing) out.push_back('/');
  return out;
}

std::string CanonicalUri(std::string_view path, bool normalize_path) {
  if (path.empty()) return "/";
  return normalize_path ? UrlEncode(NormalizePath(path), true) : UrlEncode(path, true);
}

std::string CanonicalQueryString(const KeyValues& query) {
  std::vector<std::pair<std::string, std::string>> enc;
  enc.reserve(query.size());
  for (const auto& [k, v] : query) enc.emplace_back(UrlEncode(k, false), UrlEncode(v, false));
  std::sort(enc.begin(), enc.end());
  std::string out;
  for (const auto& [k, v] : enc) {
    if (!out.empty()) out.push_back('&');
    out += k;
    out.push_back('=');
    out += v;
  }
  return out;
}

std::string TrimHeaderValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  bool pending_space = false;
  for (char c : value) {
    if (IsSpace(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

std::pair<std::string, std::string> CanonicalHeaders(const KeyValues& headers) {
  std::map<std::string, std::string> merged;  // sorted by lowercase name
  for (const auto& [name, value] : headers) {
    std::string key = ToLower(TrimHeaderValue(name));
    auto [it, inserted] = merged.try_emplace(key, TrimHeaderValue(value));
    if (!inserted) it->second += "," + TrimHeaderValue(value);
  }
  std::string canon, names;
  for (const auto& [name, value] : merged) {
    canon += name + ":" + value + "\n";
    if (!names.empty()) names.push_back(';');
    names += name;
  }
  return {canon, names};
}

std::string Sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return ToHex(md, len);
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len);
  return std::string(reinterpret_cast<char*>(md), len);
}

std::string SigningKey(std::string_view secret, std::string_view date, std::string_view region,
                       std::string_view service) {
  std::string k = HmacSha256("AWS4" + std::string(secret), date);
  k = HmacSha256(k, region);
  k = HmacSha256(k, service);
  return HmacSha256(k, "aws4_request");
}

std::string AmzDateNow() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

Signed SignHeaders(const Request& req, const Credentials& creds, const SignOptions& o) {
  Signed out;
  std::string amz_date = o.amz_date.empty() ? AmzDateNow() : o.amz_date;
  out.added_headers.emplace_back("X-Amz-Date", amz_date);
  if (o.add_content_sha256) out.added_headers.emplace_back("x-amz-content-sha256", req.payload_hash);
  bool token = !creds.session_token.empty();
  if (token && !o.omit_session_token) {
    out.added_headers.emplace_back("X-Amz-Security-Token", creds.session_token);
  }
  KeyValues headers = req.headers;
  headers.insert(headers.end(), out.added_headers.begin(), out.added_headers.end());
  Finish(req, headers, req.query, amz_date, creds, o, &out);
  std::string signed_headers = CanonicalHeaders(headers).second;
  out.authorization = std::string(kAlgorithm) + " Credential=" + creds.access_key_id + "/" +
                      Scope(amz_date.substr(0, 8), o) + ", SignedHeaders=" + signed_headers +
                      ", Signature=" + out.signature;
  if (token && o.omit_session_token) {
    out.added_headers.emplace_back("X-Amz-Security-Token", creds.session_token);
  }
  out.added_headers.emplace_back("Authorization", out.authorization);
  return out;
}

Signed Presign(const Request& req, const Credentials& creds, const SignOptions& o,
               int64_t expires_s) {
  Signed out;
  std::string amz_date = o.amz_date.empty() ? AmzDateNow() : o.amz_date;
  bool token = !creds.session_token.empty();
  out.added_query = {
      {"X-Amz-Algorithm", kAlgorithm},
      {"X-Amz-Credential", creds.access_key_id + "/" + Scope(amz_date.substr(0, 8), o)},
      {"X-Amz-Date", amz_date},
      {"X-Amz-SignedHeaders", CanonicalHeaders(req.headers).second},
      {"X-Amz-Expires", std::to_string(expires_s)},
  };
  if (token && !o.omit_session_token) out.added_query.emplace_back("X-Amz-Security-Token", creds.session_token);
  KeyValues query = req.query;
  query.insert(query.end(), out.added_query.begin(), out.added_query.end());
  Finish(req, req.headers, query, amz_date, creds, o, &out);
  if (token && o.omit_session_token) out.added_query.emplace_back("X-Amz-Security-Token", creds.session_token);
  out.added_query.emplace_back("X-Amz-Signature", out.signature);
  return out;
}

}  // namespace tb::storage::sigv4
