// Test helpers shared by unit and integration tests (header-only, GoogleTest).
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace tb::testing {

// A fresh temporary directory removed at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "tb-test-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Environment of the real services started by scripts/services.sh (nginx, Ceph RGW).
// Returns "" when unset; integration tests call RequireService() first.
inline std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace tb::testing

// Skips the test when the service variable is unset, unless TB_REQUIRE_SERVICES=1 (as in
// scripts/test.sh and CI), where a missing service is a failure.
#define TB_REQUIRE_SERVICE(var)                                                       \
  do {                                                                                \
    if (::tb::testing::Env(var).empty()) {                                            \
      if (::tb::testing::Env("TB_REQUIRE_SERVICES") == "1") FAIL() << var " not set"; \
      GTEST_SKIP() << var " not set (run scripts/services.sh up)";                    \
    }                                                                                 \
  } while (0)

// The same for a peer program every test run installs (e.g. /usr/bin/python3 with torch):
// skips when `available` is false, unless TB_REQUIRE_SERVICES=1, where that is a failure.
#define TB_REQUIRE_PEER(available, what)                                                     \
  do {                                                                                       \
    if (!(available)) {                                                                      \
      if (::tb::testing::Env("TB_REQUIRE_SERVICES") == "1") FAIL() << what << " not available"; \
      GTEST_SKIP() << what << " not available";                                              \
    }                                                                                        \
  } while (0)
