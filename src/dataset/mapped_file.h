// A read-only memory mapping of a whole local file (an empty file maps to an empty view).
// Errors name the path. Thread-safety: immutable once opened; the view may be read from any
// thread while the object lives.
#pragma once

#include <string>
#include <string_view>

#include "util/status.h"

namespace tb::dataset {

class MappedFile {
 public:
  static Result<MappedFile> Open(const std::string& path);
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&& o) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::string_view data() const { return {static_cast<const char*>(addr_), size_}; }
  const std::string& path() const { return path_; }

 private:
  MappedFile(std::string path, void* addr, size_t size) : path_(std::move(path)), addr_(addr), size_(size) {}
  void Release();
  std::string path_;
  void* addr_ = nullptr;
  size_t size_ = 0;
};

}  // namespace tb::dataset
