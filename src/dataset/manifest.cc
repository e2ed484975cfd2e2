#include "dataset/manifest.h"

#include <cctype>

#include "util/md5.h"
#include "util/md5_multi.h"

namespace tb::dataset {

namespace {

bool IsHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

// A manifest path must stay inside the root it is verified against.
bool SafeRelative(std::string_view p) {
  if (p.empty() || p[0] == '/') return false;
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    if (p.substr(i, j - i) == "..") return false;
    i = j + 1;
  }
  return p.find('\0') == std::string_view::npos;
}

}  // namespace

Result<std::vector<ManifestEntry>> ParseManifest(std::string_view text, const std::string& name) {
  std::vector<ManifestEntry> entries;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;
    auto bad = [&](const std::string& why) {
      return Status::Corruption(name + ":" + std::to_string(line_no) + ": " + why);
    };
    if (line[0] == '\\') return bad("escaped file names are not supported");
    if (line.size() < 34 || !IsHex(line.substr(0, 32))) return bad("expected '<32 hex digits>  <path>'");
    if (line[32] != ' ' || (line[33] != ' ' && line[33] != '*')) {
      return bad("expected two spaces (or ' *') after the md5");
    }
    std::string_view path = line.substr(34);
    if (path.empty()) return bad("missing path");
    while (path.substr(0, 2) == "./") path.remove_prefix(2);
    if (!SafeRelative(path)) return bad("path '" + std::string(path) + "' is absolute or contains '..'");
    ManifestEntry e;
    e.md5_hex = std::string(line.substr(0, 32));
    for (char& c : e.md5_hex) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    e.path = std::string(path);
    entries.push_back(std::move(e));
  }
  if (entries.empty()) return Status::Corruption(name + ": manifest has no entries");
  return entries;
}

std::string FormatManifest(const std::vector<ManifestEntry>& entries) {
  std::string out;
  for (const auto& e : entries) {
    out += e.md5_hex;
    out += "  ";
    out += e.path;
    out += '\n';
  }
  return out;
}

Result<VerifyReport> VerifyManifest(const std::string& root, const std::vector<ManifestEntry>& entries, int threads,
                                    const std::function<void(uint64_t, uint64_t)>& progress) {
  // Files are spread over cores and, within a core, hashed several at a time in SIMD lanes
  // (util/md5_multi.h), with large sequential reads.
  std::vector<std::string> paths;
  paths.reserve(entries.size());
  for (const auto& e : entries) paths.push_back(root.empty() ? e.path : root + "/" + e.path);
  Md5FilesOptions options;
  options.threads = threads;
  options.progress = progress;
  std::vector<Md5FileResult> results = Md5Files(paths, options);
  VerifyReport report;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (!results[i].status.ok()) {
      report.missing.push_back(entries[i].path);
      continue;
    }
    report.files += 1;
    report.bytes += results[i].bytes;
    if (ToHex(results[i].digest) != entries[i].md5_hex) report.mismatched.push_back(entries[i].path);
  }
  return report;
}

}  // namespace tb::dataset
