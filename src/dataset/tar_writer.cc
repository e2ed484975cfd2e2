#include "dataset/tar_writer.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "util/fs.h"
#include "util/md5.h"
#include "util/parallel.h"

namespace tb::dataset {

namespace {

constexpr size_t kBlock = 512;
constexpr size_t kRecord = 10240;              // GNU tar's default record (blocking factor 20)
constexpr size_t kDeflateBlock = 4u << 20;     // independent deflate blocks
constexpr size_t kBlocksInFlight = 16;         // bounds memory: ~2 x 16 x 4 MiB

void Octal(char* field, size_t width, uint64_t value) {
  // width-1 octal digits, then NUL (the ustar numeric field convention).
  std::snprintf(field, width, "%0*llo", static_cast<int>(width - 1), static_cast<unsigned long long>(value));
}

// One piece of the uncompressed tar stream: bytes held in memory or a range of a file.
struct Segment {
  uint64_t start = 0;  // offset in the tar stream
  uint64_t length = 0;
  std::string bytes;   // in-memory bytes (headers, padding) when path is empty
  std::string path;
};

Status FillFromFile(const Segment& seg, uint64_t from, size_t n, char* out) {
  int fd = ::open(seg.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, "open", seg.path);
  size_t done = 0;
  while (done < n) {
    long r = ReadFd(fd, out + done, n - done, static_cast<int64_t>(from + done));
    if (r <= 0) {
      int err = r < 0 ? errno : 0;
      ::close(fd);
      if (err) return Status::FromErrno(err, "read", seg.path);
      return Status::IOError(seg.path + ": file shrank while being archived");
    }
    done += static_cast<size_t>(r);
  }
  ::close(fd);
  return Status::Ok();
}

// Copies tar-stream bytes [begin, begin + n) into out.
Status ReadStream(const std::vector<Segment>& segs, uint64_t begin, size_t n, char* out) {
  auto it = std::upper_bound(segs.begin(), segs.end(), begin,
                             [](uint64_t off, const Segment& s) { return off < s.start; });
  size_t i = static_cast<size_t>(it - segs.begin()) - 1;
  size_t done = 0;
  while (done < n && i < segs.size()) {
    const Segment& s = segs[i];
    uint64_t pos = begin + done;
    uint64_t in_seg = pos - s.start;
    size_t take = static_cast<size_t>(std::min<uint64_t>(s.length - in_seg, n - done));
    if (s.path.empty()) {
      std::memcpy(out + done, s.bytes.data() + in_seg, take);
    } else {
      TB_RETURN_IF_ERROR(FillFromFile(s, in_seg, take, out + done));
    }
    done += take;
    ++i;
  }
  return Status::Ok();
}

struct Compressed {
  std::string data;
  uLong crc = 0;
  size_t raw_size = 0;
};

Status DeflateBlock(const std::string& raw, bool last, int level, Compressed* out) {
  z_stream z{};
  if (deflateInit2(&z, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return Status::Internal("deflateInit2 failed");
  }
  out->data.resize(deflateBound(&z, raw.size()) + 16);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  z.avail_in = static_cast<uInt>(raw.size());
  z.next_out = reinterpret_cast<Bytef*>(out->data.data());
  z.avail_out = static_cast<uInt>(out->data.size());
  int rc = deflate(&z, last ? Z_FINISH : Z_SYNC_FLUSH);
  size_t produced = out->data.size() - z.avail_out;
  deflateEnd(&z);
  if ((last && rc != Z_STREAM_END) || (!last && rc != Z_OK) || z.avail_in != 0) {
    return Status::Internal("deflate failed (" + std::to_string(rc) + ")");
  }
  out->data.resize(produced);
  out->crc = crc32(0L, reinterpret_cast<const Bytef*>(raw.data()), static_cast<uInt>(raw.size()));
  out->raw_size = raw.size();
  return Status::Ok();
}

}  // namespace

Result<std::string> UstarHeader(const TarMember& member, int64_t mtime) {
  std::string h(kBlock, '\0');
  std::string name = member.name;
  if (member.is_dir && (name.empty() || name.back() != '/')) name += '/';
  std::string prefix;
  if (name.size() > 100) {
    // Split at a '/' so that prefix <= 155 and name <= 100.
    size_t cut = name.rfind('/', std::min<size_t>(name.size() - 2, 155));
    while (cut != std::string::npos && name.size() - cut - 1 > 100) cut = std::string::npos;
    if (cut == std::string::npos || cut == 0) return Status::InvalidArgument("tar member name too long: " + member.name);
    prefix = name.substr(0, cut);
    name = name.substr(cut + 1);
  }
  std::memcpy(&h[0], name.data(), name.size());
  Octal(&h[100], 8, member.is_dir ? 0755 : 0644);
  Octal(&h[108], 8, 0);
  Octal(&h[116], 8, 0);
  if (member.size >= (uint64_t{1} << 33)) return Status::InvalidArgument("tar member too large: " + member.name);
  Octal(&h[124], 12, member.is_dir ? 0 : member.size);
  Octal(&h[136], 12, static_cast<uint64_t>(mtime));
  h[156] = member.is_dir ? '5' : '0';
  std::memcpy(&h[257], "ustar\0" "00", 8);
  std::memcpy(&h[265], "root", 4);
  std::memcpy(&h[297], "root", 4);
  Octal(&h[329], 8, 0);
  Octal(&h[337], 8, 0);
  std::memcpy(&h[345], prefix.data(), prefix.size());
  std::memset(&h[148], ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  std::snprintf(&h[148], 8, "%06o", sum);  // 6 digits, NUL, then the space already there
  h[155] = ' ';
  return h;
}

Result<std::string> WriteTarball(const std::string& out_path, const std::vector<TarMember>& members,
                                 const TarOptions& options) {
  // Lay out the uncompressed stream.
  std::vector<Segment> segs;
  uint64_t off = 0;
  auto add_bytes = [&](std::string bytes) {
    Segment s;
    s.start = off;
    s.length = bytes.size();
    s.bytes = std::move(bytes);
    off += s.length;
    segs.push_back(std::move(s));
  };
  for (const TarMember& m : members) {
    TB_ASSIGN_OR_RETURN(std::string header, UstarHeader(m, options.mtime));
    add_bytes(std::move(header));
    if (m.is_dir || m.size == 0) continue;
    Segment s;
    s.start = off;
    s.length = m.size;
    s.path = m.source_path;
    off += m.size;
    segs.push_back(std::move(s));
    if (m.size % kBlock) add_bytes(std::string(kBlock - m.size % kBlock, '\0'));
  }
  uint64_t end = off + 2 * kBlock;
  end = (end + kRecord - 1) / kRecord * kRecord;
  add_bytes(std::string(end - off, '\0'));
  const uint64_t total = off;

  TB_ASSIGN_OR_RETURN(AtomicFile out, AtomicFile::Create(out_path));
  Md5 md5;
  auto emit = [&](const void* p, size_t n) -> Status {
    md5.Update(p, n);
    return out.Write(p, n);
  };
  if (options.gzip) {
    // gzip header: no name, mtime 0, OS = Unix; then raw deflate blocks; then CRC32 + ISIZE.
    const unsigned char header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
    TB_RETURN_IF_ERROR(emit(header, sizeof header));
  }
  size_t nblocks = static_cast<size_t>((total + kDeflateBlock - 1) / kDeflateBlock);
  uLong crc = crc32(0L, Z_NULL, 0);
  for (size_t first = 0; first < nblocks; first += kBlocksInFlight) {
    size_t count = std::min(kBlocksInFlight, nblocks - first);
    std::vector<Compressed> done(count);
    std::vector<std::string> raw(count);
    TB_RETURN_IF_ERROR(ParallelFor(count, options.threads, [&](size_t k) -> Status {
      size_t b = first + k;
      uint64_t begin = uint64_t{b} * kDeflateBlock;
      size_t n = static_cast<size_t>(std::min<uint64_t>(kDeflateBlock, total - begin));
      raw[k].resize(n);
      TB_RETURN_IF_ERROR(ReadStream(segs, begin, n, raw[k].data()));
      if (!options.gzip) return Status::Ok();
      Status s = DeflateBlock(raw[k], b + 1 == nblocks, options.level, &done[k]);
      raw[k].clear();
      raw[k].shrink_to_fit();
      return s.ok() ? s : s.Prefix(out_path);
    }));
    for (size_t k = 0; k < count; ++k) {
      if (options.gzip) {
        TB_RETURN_IF_ERROR(emit(done[k].data.data(), done[k].data.size()));
        crc = crc32_combine(crc, done[k].crc, static_cast<z_off_t>(done[k].raw_size));
      } else {
        TB_RETURN_IF_ERROR(emit(raw[k].data(), raw[k].size()));
      }
    }
  }
  if (options.gzip) {
    unsigned char trailer[8];
    uint32_t c = static_cast<uint32_t>(crc), isize = static_cast<uint32_t>(total & 0xFFFFFFFFu);
    std::memcpy(trailer, &c, 4);
    std::memcpy(trailer + 4, &isize, 4);
    TB_RETURN_IF_ERROR(emit(trailer, sizeof trailer));
  }
  TB_RETURN_IF_ERROR(out.Commit(/*fsync_file=*/false));
  return ToHex(md5.Finish());
}

}  // namespace tb::dataset
