// ReadSmallObject: an .md5 file or a manifest from a path, http(s):// or s3:// URI.
#include "pipeline/stage.h"
#include "storage/transfer.h"

namespace tb::pipeline {

Result<std::string> ReadSmallObject(const std::string& uri, const storage::Options& options) {
  constexpr size_t kMaxBytes = 64 << 20;
  TB_ASSIGN_OR_RETURN(std::unique_ptr<storage::Reader> reader, storage::OpenStream(uri, options));
  std::string out;
  char buf[1 << 16];
  for (;;) {
    TB_ASSIGN_OR_RETURN(size_t n, reader->Read(buf, sizeof buf));
    if (n == 0) break;
    out.append(buf, n);
    if (out.size() > kMaxBytes) return Status::InvalidArgument(uri + " is larger than 64 MiB");
  }
  return out;
}

}  // namespace tb::pipeline
