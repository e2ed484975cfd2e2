// libFuzzer target for safe extraction (built by cmake/fuzz.cmake, run by scripts/fuzz.sh).
// Each input is written as an archive file and extracted into <root>/dest with small limits.
// Besides crashes and sanitizer reports, it aborts when anything appears in <root> other
// than the archive and dest (an escape), or when a symlink under dest points outside it.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "dataset/archive.h"

namespace {

namespace fs = std::filesystem;

const std::string& Root() {
  static const std::string root = [] {
    // tmpfs when there is one: extraction fsyncs every member, which a disk makes slow.
    std::string tmpl = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm/tb-archive-fuzz.XXXXXX" : "/tmp/tb-archive-fuzz.XXXXXX";
    const char* dir = ::mkdtemp(tmpl.data());
    if (dir == nullptr) std::abort();
    return std::string(dir);
  }();
  return root;
}

void CheckContained(const std::string& root) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    std::string name = entry.path().filename();
    if (name != "in.tar" && name != "dest") {
      std::fprintf(stderr, "escape: %s appeared outside the destination\n", name.c_str());
      std::abort();
    }
  }
  const std::string dest = root + "/dest";
  for (auto it = fs::recursive_directory_iterator(dest, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_symlink(ec)) continue;
    std::string target = fs::read_symlink(it->path(), ec).string();
    if (!target.empty() && (target[0] == '/' || target.find("..") != std::string::npos)) {
      std::fprintf(stderr, "escape: symlink %s -> %s\n", it->path().c_str(), target.c_str());
      std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& root = Root();
  const std::string archive = root + "/in.tar";
  const std::string dest = root + "/dest";
  FILE* f = std::fopen(archive.c_str(), "wb");
  if (f == nullptr) std::abort();
  if (size && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
  std::error_code ec;
  fs::remove_all(dest, ec);
  tb::dataset::ExtractOptions options;
  options.max_total_bytes = 4 << 20;
  options.max_entries = 256;
  (void)tb::dataset::ExtractArchive(archive, dest, options);
  CheckContained(root);
  fs::remove_all(dest, ec);
  return 0;
}
