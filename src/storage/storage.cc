// URI dispatch and helpers shared by every backend.
#include "storage/storage.h"

#include <cctype>

#include "storage/s3_storage.h"

namespace tb::storage {

// memory_storage.cc: "name[/prefix]" of a mem:// URI.
Result<std::unique_ptr<Storage>> OpenMemoryStorage(std::string_view name_and_prefix);

namespace {

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// "scheme://rest" -> scheme (lower case); "" for plain paths.
std::string SchemeOf(std::string_view uri) {
  size_t pos = uri.find("://");
  if (pos == std::string_view::npos || pos == 0) return "";
  std::string scheme;
  for (char c : uri.substr(0, pos)) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') return "";
    scheme += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return scheme;
}

std::string_view TrimTrailingSlashes(std::string_view s, size_t keep) {
  while (s.size() > keep && s.back() == '/') s.remove_suffix(1);
  return s;
}

}  // namespace

std::string Md5FromEtag(std::string_view etag) {
  if (etag.size() != 32) return "";
  std::string out;
  for (char c : etag) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return "";
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string UrlEncode(std::string_view s, bool keep_slash) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

Result<std::unique_ptr<Storage>> Open(std::string_view root_uri, const Options& options) {
  if (root_uri.empty()) return Status::InvalidArgument("empty storage URI");
  std::string scheme = SchemeOf(root_uri);
  if (scheme.empty()) return NewPosixStorage(std::string(TrimTrailingSlashes(root_uri, 1)));
  std::string_view rest = root_uri.substr(scheme.size() + 3);
  if (scheme == "file") {
    if (!StartsWith(rest, "/")) {
      return Status::InvalidArgument("file URI must be absolute (file:///path): " + std::string(root_uri));
    }
    return NewPosixStorage(std::string(TrimTrailingSlashes(rest, 1)));
  }
  if (scheme == "http" || scheme == "https") {
    if (rest.empty() || rest[0] == '/') return Status::InvalidArgument("URL has no host: " + std::string(root_uri));
    return NewHttpStorage(std::string(TrimTrailingSlashes(root_uri, scheme.size() + 4)), options);
  }
  if (scheme == "s3") {
    rest = TrimTrailingSlashes(rest, 0);
    size_t slash = rest.find('/');
    std::string bucket(rest.substr(0, slash));
    std::string prefix(slash == std::string_view::npos ? "" : rest.substr(slash + 1));
    if (bucket.empty()) return Status::InvalidArgument("S3 URI has no bucket: " + std::string(root_uri));
    return NewS3Storage(bucket, prefix, options);
  }
  if (scheme == "mem") {
    return OpenMemoryStorage(TrimTrailingSlashes(rest, 0));
  }
  return Status::InvalidArgument("unsupported storage URI scheme '" + scheme + "' in " + std::string(root_uri) +
                                 " (use a path, file://, http(s)://, s3:// or mem://)");
}

Result<ObjectRef> SplitObjectUri(std::string_view uri) {
  std::string scheme = SchemeOf(uri);
  if (uri.empty() || uri.back() == '/') {
    return Status::InvalidArgument("not an object URI (ends with '/'): " + std::string(uri));
  }
  if (scheme == "s3" || scheme == "mem") {
    std::string_view rest = uri.substr(scheme.size() + 3);
    size_t slash = rest.find('/');
    if (slash == std::string_view::npos || slash == 0 || slash + 1 == rest.size()) {
      return Status::InvalidArgument("object URI names no key: " + std::string(uri));
    }
    return ObjectRef{std::string(uri.substr(0, scheme.size() + 3 + slash)), std::string(rest.substr(slash + 1))};
  }
  size_t min_root = 0;  // the root keeps at least this prefix
  if (!scheme.empty()) {
    min_root = scheme.size() + 3;
    if (scheme == "http" || scheme == "https") {
      size_t host_end = uri.find('/', min_root);
      if (host_end == std::string_view::npos) {
        return Status::InvalidArgument("URL names no object: " + std::string(uri));
      }
      min_root = host_end;
    }
  }
  size_t slash = uri.rfind('/');
  if (slash == std::string_view::npos || slash < min_root) {
    if (!scheme.empty()) return Status::InvalidArgument("URI names no object: " + std::string(uri));
    return ObjectRef{".", std::string(uri)};
  }
  std::string root(uri.substr(0, slash));
  bool is_http = scheme == "http" || scheme == "https";
  if (root.size() == min_root && !is_http) root += '/';  // "/x" -> ("/", "x")
  return ObjectRef{root, std::string(uri.substr(slash + 1))};
}

}  // namespace tb::storage
