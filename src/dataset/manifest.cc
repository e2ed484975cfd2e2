#include "dataset/manifest.h"

#include <cctype>
#include <unordered_map>

#include "util/md5.h"
#include "util/md5_multi.h"
#include "util/text.h"

namespace tb::dataset {

namespace {

bool IsHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

// A manifest path, normalised ("./a//b/." -> "a/b"); empty when it would leave the root it
// is verified against (absolute, a ".." segment, a NUL) or names no file.
std::string NormalisedRelative(std::string_view p) {
  if (p.empty() || p[0] == '/' || p.find('\0') != std::string_view::npos) return "";
  std::string out;
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    std::string_view seg = p.substr(i, j - i);
    i = j + 1;
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") return "";
    if (!out.empty()) out += '/';
    out += seg;
  }
  return out;
}

}  // namespace

Result<std::vector<ManifestEntry>> ParseManifest(std::string_view text, const std::string& name) {
  if (text.size() > kMaxManifestBytes) {
    return Status::Corruption(name + ": manifest is " + std::to_string(text.size()) + " bytes, more than the " +
                              std::to_string(kMaxManifestBytes >> 20) + " MiB limit");
  }
  std::vector<ManifestEntry> entries;
  std::vector<size_t> entry_line;                // line of each entry
  std::unordered_map<std::string, size_t> seen;  // path -> index in entries
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    auto bad = [&](const std::string& why) {
      return Status::Corruption(name + ":" + std::to_string(line_no) + ": " + why);
    };
    if (line.size() > kMaxManifestLineBytes) {
      return bad("line is " + std::to_string(line.size()) + " bytes, longer than the limit of " +
                 std::to_string(kMaxManifestLineBytes) + " ('<md5>  <path>' with a path of at most " +
                 std::to_string(kMaxManifestPathBytes) + " bytes)");
    }
    if (line.empty() || line[0] == '#') continue;
    if (line[0] == '\\') return bad("escaped file names are not supported");
    if (line.size() < 34 || !IsHex(line.substr(0, 32))) return bad("expected '<32 hex digits>  <path>'");
    if (line[32] != ' ' || (line[33] != ' ' && line[33] != '*')) {
      return bad("expected two spaces (or ' *') after the md5");
    }
    std::string_view raw = line.substr(34);
    if (raw.empty()) return bad("missing path");
    ManifestEntry e;
    e.path = NormalisedRelative(raw);
    if (e.path.empty()) return bad("path '" + ShownName(raw) + "' is absolute, contains '..' or names no file");
    e.md5_hex = std::string(line.substr(0, 32));
    for (char& c : e.md5_hex) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto [it, fresh] = seen.emplace(e.path, entries.size());
    if (!fresh) {
      if (entries[it->second].md5_hex == e.md5_hex) continue;  // the same claim twice: one entry
      return bad("path '" + ShownName(e.path) + "' is listed twice with different md5s (lines " +
                 std::to_string(entry_line[it->second]) + " and " + std::to_string(line_no) + ")");
    }
    if (entries.size() == kMaxManifestEntries) {
      return bad("more than " + std::to_string(kMaxManifestEntries) + " entries");
    }
    entries.push_back(std::move(e));
    entry_line.push_back(line_no);
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
      report.missing_why.push_back(results[i].status.message());
      continue;
    }
    report.files += 1;
    report.bytes += results[i].bytes;
    if (ToHex(results[i].digest) != entries[i].md5_hex) report.mismatched.push_back(entries[i].path);
  }
  return report;
}

}  // namespace tb::dataset
