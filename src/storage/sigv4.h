// AWS Signature Version 4 (header and presigned-query forms) over OpenSSL.
//
// The request is described in its *decoded* form: `path` and query keys/values are raw bytes
// (e.g. the S3 key "a b+c/ü"), and the signer produces the canonical (percent-encoded) form.
// The URL actually sent must use CanonicalUri(path, ...) and CanonicalQueryString(...), so the
// bytes on the wire and the bytes signed are the same.
//
// Path modes: AWS services other than S3 normalise the path (dot segments removed, repeated
// slashes collapsed) before encoding; S3 does not (set normalize_path = false): the key is
// URI-encoded once, as is.
//
// Thread-safety: free functions, reentrant.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tb::storage::sigv4 {

using KeyValues = std::vector<std::pair<std::string, std::string>>;

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty when not temporary credentials
};

struct Request {
  std::string method;     // "GET", "PUT", ...
  std::string path;       // decoded path, starting with '/'
  KeyValues query;        // decoded query parameters (a key without '=' has value "")
  KeyValues headers;      // name/value as sent (any case; duplicates allowed; Host included)
  std::string payload_hash;  // hex sha256 of the body, or "UNSIGNED-PAYLOAD"
};

struct SignOptions {
  std::string region = "us-east-1";
  std::string service = "s3";
  bool normalize_path = false;      // true for non-S3 services
  bool add_content_sha256 = false;  // add + sign x-amz-content-sha256 (header form; S3 needs it)
  bool omit_session_token = false;  // add the token after signing instead of signing it
  std::string amz_date;             // "YYYYMMDDTHHMMSSZ"; empty = now
};

// Everything the signer computed (the intermediate strings are exposed for tests/debugging;
// none of them contain the secret key).
struct Signed {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;       // lowercase hex
  std::string authorization;   // header form only: the Authorization header value
  KeyValues added_headers;     // header form: x-amz-date, x-amz-content-sha256, token, Authorization
  KeyValues added_query;       // query form: X-Amz-* parameters incl. X-Amz-Signature
};

// Header form: returns the headers to add to the request.
Signed SignHeaders(const Request& request, const Credentials& creds, const SignOptions& options);
// Query (presigned URL) form, valid `expires_s` seconds.
Signed Presign(const Request& request, const Credentials& creds, const SignOptions& options,
               int64_t expires_s);

// --- building blocks (exposed for tests and for building URLs) ---

// Removes "." and ".." segments and collapses repeated '/' (keeps a trailing '/').
std::string NormalizePath(std::string_view path);
// The encoded path as signed and sent.
std::string CanonicalUri(std::string_view path, bool normalize_path);
// Sorted by encoded key, then encoded value; "k=v" joined with '&'.
std::string CanonicalQueryString(const KeyValues& query);
// Canonical header block ("name:value\n" ...) and the signed-headers list ("a;b;c").
std::pair<std::string, std::string> CanonicalHeaders(const KeyValues& headers);
// Header value as signed: leading/trailing whitespace trimmed, inner runs of spaces/tabs
// (incl. folded lines) collapsed to one space.
std::string TrimHeaderValue(std::string_view value);

std::string Sha256Hex(std::string_view data);
std::string HmacSha256(std::string_view key, std::string_view data);  // raw 32 bytes
std::string SigningKey(std::string_view secret, std::string_view date, std::string_view region,
                       std::string_view service);  // raw 32 bytes
std::string AmzDateNow();  // current UTC "YYYYMMDDTHHMMSSZ"

inline constexpr const char kUnsignedPayload[] = "UNSIGNED-PAYLOAD";
inline constexpr const char kEmptySha256[] =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

}  // namespace tb::storage::sigv4
