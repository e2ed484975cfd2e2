#include "util/md5.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "util/fs.h"

namespace tb {

struct Md5::Impl {
  EVP_MD_CTX* ctx = nullptr;
};

Md5::Md5() : impl_(std::make_unique<Impl>()) {
  impl_->ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(impl_->ctx, EVP_md5(), nullptr);
}

Md5::~Md5() { EVP_MD_CTX_free(impl_->ctx); }

void Md5::Update(const void* data, size_t n) { EVP_DigestUpdate(impl_->ctx, data, n); }

Md5Digest Md5::Finish() {
  Md5Digest d{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(impl_->ctx, d.data(), &len);
  return d;
}

std::string ToHex(const uint8_t* data, size_t n) {
  static const char kHex[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[data[i] >> 4];
    out[2 * i + 1] = kHex[data[i] & 15];
  }
  return out;
}

std::string Base64(const uint8_t* data, size_t n) {
  std::string out(4 * ((n + 2) / 3) + 1, '\0');
  int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
  out.resize(len);
  return out;
}

Md5Digest Md5Of(std::string_view data) {
  Md5 m;
  m.Update(data);
  return m.Finish();
}

Result<Md5Digest> Md5File(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, "open", path);
  posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  std::vector<char> buf(1 << 20);
  Md5 m;
  for (;;) {
    long n = ReadFd(fd, buf.data(), buf.size());
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return Status::FromErrno(err, "read", path);
    }
    if (n == 0) break;
    m.Update(buf.data(), static_cast<size_t>(n));
  }
  ::close(fd);
  return m.Finish();
}

}  // namespace tb
