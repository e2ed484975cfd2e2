// MD5 digests (OpenSSL underneath). Used by integrity, verify, manifests and S3 Content-MD5.
// Thread-safety: an Md5 object is not shared between threads; free functions are reentrant.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "util/status.h"

namespace tb {

using Md5Digest = std::array<uint8_t, 16>;

class Md5 {
 public:
  Md5();
  ~Md5();
  Md5(const Md5&) = delete;
  Md5& operator=(const Md5&) = delete;
  void Update(const void* data, size_t n);
  void Update(std::string_view s) { Update(s.data(), s.size()); }
  Md5Digest Finish();  // REQUIRES: called once.

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string ToHex(const uint8_t* data, size_t n);
inline std::string ToHex(const Md5Digest& d) { return ToHex(d.data(), d.size()); }
std::string Base64(const uint8_t* data, size_t n);
Md5Digest Md5Of(std::string_view data);
// md5 of a whole local file, read with large sequential reads. Errors name the path.
Result<Md5Digest> Md5File(const std::string& path);

}  // namespace tb
