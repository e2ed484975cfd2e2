// ReadSmallObject: an .md5 file or a manifest from a path, http(s):// or s3:// URI; ExpectedMd5:
// the md5 the origin tarball must have.
#include <cctype>

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

namespace {

bool IsMd5Hex(const std::string& s) {
  if (s.size() != 32) return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

Result<std::string> ExpectedMd5(const Context& ctx) {
  if (!ctx.cfg.origin_md5.empty()) {
    if (!IsMd5Hex(ctx.cfg.origin_md5))
      return Status::InvalidArgument("origin.md5 is not 32 hex digits: '" + ctx.cfg.origin_md5 + "'");
    return Lower(ctx.cfg.origin_md5);
  }
  auto text = ReadSmallObject(ctx.cfg.origin_md5_file, ctx.storage_options);
  if (!text.ok()) return text.status().Prefix("expected md5 from " + ctx.cfg.origin_md5_file);
  std::string word = text->substr(0, text->find_first_of(" \t\r\n"));
  if (!IsMd5Hex(word))
    return Status::Corruption(ctx.cfg.origin_md5_file + " does not start with an md5 (32 hex digits)");
  return Lower(word);
}

}  // namespace tb::pipeline
