// Helpers for S3 integration tests against the real RGW of scripts/services.sh (header-only,
// GoogleTest). Each test gets a fresh bucket, emptied and removed at scope exit.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <random>
#include <string>

#include "storage/s3_client.h"
#include "util/testing.h"

namespace tb::storage::testing {

inline Options S3TestOptions() {
  Options o;
  o.endpoint_url = ::tb::testing::Env("TB_S3_ENDPOINT");
  o.max_retries = 2;
  return o;
}

// A unique bucket name per test ("tb-s3t-<pid>-<n>").
inline std::string UniqueBucketName() {
  static std::atomic<int> n{0};
  auto t = std::chrono::system_clock::now().time_since_epoch().count() % 1000000;
  return "tb-s3t-" + std::to_string(getpid()) + "-" + std::to_string(t) + "-" + std::to_string(n++);
}

class ScratchBucket {
 public:
  explicit ScratchBucket(const Options& o) : name_(UniqueBucketName()) {
    auto c = S3Client::Create(o);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    if (!c.ok()) return;
    client_ = *c;
    Status s = client_->CreateBucket(name_);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  ~ScratchBucket() {
    if (!client_) return;
    auto uploads = client_->ListMultipartUploads(name_, "");
    if (uploads.ok()) {
      for (const auto& u : uploads->uploads) (void)client_->AbortMultipartUpload(name_, u.key, u.upload_id);
    }
    auto all = client_->ListObjectsV2(name_, "");
    if (all.ok()) {
      std::vector<std::string> keys;
      for (const auto& e : *all) keys.push_back(e.key);
      (void)client_->DeleteObjects(name_, keys);
    }
    (void)client_->DeleteBucket(name_);
  }
  const std::string& name() const { return name_; }
  const S3Client& client() const { return *client_; }

 private:
  std::string name_;
  std::shared_ptr<S3Client> client_;
};

// Deterministic pseudo-random bytes.
inline std::string RandomBytes(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  std::mt19937_64 rng(seed);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t v = rng();
    std::memcpy(&s[i], &v, 8);
  }
  for (; i < n; ++i) s[i] = static_cast<char>(rng());
  return s;
}

}  // namespace tb::storage::testing
