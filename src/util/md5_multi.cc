#include "util/md5_multi.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "util/fs.h"
#include "util/md5_multi_kernels.h"
#include "util/parallel.h"

namespace tb {

namespace mi = md5_internal;

const char* Md5IsaName(Md5Isa isa) {
  switch (isa) {
    case Md5Isa::kAvx512:
      return "avx512";
    case Md5Isa::kAvx2:
      return "avx2";
    case Md5Isa::kScalar:
      break;
  }
  return "scalar";
}

bool Md5IsaSupported(Md5Isa isa) {
  switch (isa) {
    case Md5Isa::kAvx512:
      return mi::CpuHasAvx512();
    case Md5Isa::kAvx2:
      return mi::CpuHasAvx2();
    case Md5Isa::kScalar:
      break;
  }
  return true;
}

Md5Isa BestMd5Isa() {
  Md5Isa best = Md5IsaSupported(Md5Isa::kAvx512) ? Md5Isa::kAvx512
                : Md5IsaSupported(Md5Isa::kAvx2) ? Md5Isa::kAvx2
                                                 : Md5Isa::kScalar;
  if (const char* env = std::getenv("TB_MD5_ISA")) {
    std::string_view want(env);
    if (want == "scalar") return Md5Isa::kScalar;
    if (want == "avx2" && best != Md5Isa::kScalar) return Md5Isa::kAvx2;
  }
  return best;
}

int Md5IsaLanes(Md5Isa isa) {
  switch (isa) {
    case Md5Isa::kAvx512:
      return 16;
    case Md5Isa::kAvx2:
      return 8;
    case Md5Isa::kScalar:
      break;
  }
  return 1;
}

Md5Multi::Md5Multi(Md5Isa isa)
    : isa_(Md5IsaSupported(isa) ? isa : Md5Isa::kScalar),
      lanes_(Md5IsaLanes(isa_)),
      state_(4 * static_cast<size_t>(lanes_)),
      lanes_state_(static_cast<size_t>(lanes_)) {
  for (int l = 0; l < lanes_; ++l) Start(l);
}

void Md5Multi::Start(int lane) {
  for (int r = 0; r < 4; ++r) state_[r * lanes_ + lane] = mi::kIv[r];
  lanes_state_[lane] = Lane{};
}

void Md5Multi::ScalarBlocks(int lane, const uint8_t* p, size_t nblocks) {
  uint32_t s[4];
  for (int r = 0; r < 4; ++r) s[r] = state_[r * lanes_ + lane];
  mi::Md5BlocksScalar(s, p, nblocks);
  for (int r = 0; r < 4; ++r) state_[r * lanes_ + lane] = s[r];
}

void Md5Multi::Feed(int lane, const void* data, size_t n) {
  Lane& L = lanes_state_[lane];
  const auto* p = static_cast<const uint8_t*>(data);
  L.total += n;
  if (L.carry_n > 0) {
    size_t k = std::min(n, 64 - L.carry_n);
    std::memcpy(L.carry + L.carry_n, p, k);
    L.carry_n += k;
    p += k;
    n -= k;
    if (L.carry_n == 64) {
      ScalarBlocks(lane, L.carry, 1);
      L.carry_n = 0;
    }
  }
  if (n < 64) {  // never hold on to a short piece of the caller's memory
    std::memcpy(L.carry + L.carry_n, p, n);
    L.carry_n += n;
    n = 0;
  }
  L.p = n ? p : nullptr;
  L.n = n;
}

void Md5Multi::StashLeftovers() {
  for (Lane& L : lanes_state_) {
    if (L.n < 64) {
      if (L.n) std::memcpy(L.carry + L.carry_n, L.p, L.n);  // L.p is null when L.n == 0
      L.carry_n += L.n;
      L.p = nullptr;
      L.n = 0;
    }
  }
}

void Md5Multi::Run() {
  // One lane is faster alone on the scalar path; two or more go through the SIMD kernel
  // (idle lanes are masked off).
  constexpr int kMinSimdLanes = 2;
  uint32_t mask = 0;
  int active = 0;
  size_t nblocks = SIZE_MAX;
  const uint8_t* base = nullptr;
  for (int l = 0; l < lanes_; ++l) {
    const Lane& L = lanes_state_[l];
    if (L.n < 64) continue;
    mask |= 1u << l;
    ++active;
    nblocks = std::min(nblocks, L.n / 64);
    if (base == nullptr || L.p < base) base = L.p;
  }
  bool simd = isa_ != Md5Isa::kScalar && active >= kMinSimdLanes;
  int32_t offsets[16] = {};
  if (simd) {  // the gathers use 32-bit offsets from the lowest lane pointer
    for (int l = 0; l < lanes_ && simd; ++l) {
      if (!(mask >> l & 1)) continue;
      uint64_t end = static_cast<uint64_t>(lanes_state_[l].p - base) + nblocks * 64;
      if (end > INT32_MAX) simd = false;
      offsets[l] = static_cast<int32_t>(lanes_state_[l].p - base);
    }
  }
  if (simd) {
    if (isa_ == Md5Isa::kAvx512) {
      mi::Md5BlocksAvx512(state_.data(), base, offsets, mask, nblocks);
    } else {
      mi::Md5BlocksAvx2(state_.data(), base, offsets, mask, nblocks);
    }
    for (int l = 0; l < lanes_; ++l) {
      if (!(mask >> l & 1)) continue;
      lanes_state_[l].p += nblocks * 64;
      lanes_state_[l].n -= nblocks * 64;
    }
  } else {
    for (int l = 0; l < lanes_; ++l) {
      Lane& L = lanes_state_[l];
      if (L.n < 64) continue;
      size_t nb = L.n / 64;
      ScalarBlocks(l, L.p, nb);
      L.p += nb * 64;
      L.n -= nb * 64;
    }
  }
  StashLeftovers();
}

Md5Digest Md5Multi::Finish(int lane) {
  if (lanes_state_[lane].n >= 64) Run();  // caller broke the contract; stay correct
  StashLeftovers();
  Lane& L = lanes_state_[lane];
  uint8_t buf[128] = {};
  std::memcpy(buf, L.carry, L.carry_n);
  buf[L.carry_n] = 0x80;
  size_t nblocks = L.carry_n < 56 ? 1 : 2;
  uint64_t bits = L.total * 8;
  for (int i = 0; i < 8; ++i) buf[nblocks * 64 - 8 + i] = static_cast<uint8_t>(bits >> (8 * i));
  ScalarBlocks(lane, buf, nblocks);
  Md5Digest d;
  for (int r = 0; r < 4; ++r) {
    uint32_t w = state_[r * lanes_ + lane];
    for (int i = 0; i < 4; ++i) d[4 * r + i] = static_cast<uint8_t>(w >> (8 * i));
  }
  Start(lane);
  return d;
}

std::vector<Md5Digest> Md5Many(const std::vector<std::string_view>& messages, Md5Isa isa) {
  std::vector<Md5Digest> out(messages.size());
  Md5Multi m(isa);
  std::vector<long> lane_msg(m.lanes(), -1);
  size_t next = 0;
  for (;;) {
    bool any = false;
    for (int l = 0; l < m.lanes(); ++l) {
      if (lane_msg[l] >= 0 && m.pending(l) < 64) {
        out[lane_msg[l]] = m.Finish(l);
        lane_msg[l] = -1;
      }
      while (lane_msg[l] < 0 && next < messages.size()) {
        m.Start(l);
        m.Feed(l, messages[next].data(), messages[next].size());
        lane_msg[l] = static_cast<long>(next++);
        if (m.pending(l) < 64) {
          out[lane_msg[l]] = m.Finish(l);
          lane_msg[l] = -1;
        }
      }
      any = any || lane_msg[l] >= 0;
    }
    if (!any) break;
    m.Run();
  }
  return out;
}

namespace {

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

// One worker: keeps up to m.lanes() files open, one per lane, and refills lanes as files end.
// Files are named by index: `open(i)` gives a readable fd (or the error) and `owned`
// says whether the worker closes it; `name(i)` is used in errors. Reads use pread from 0.
struct FileSet {
  size_t count;
  std::function<Result<int>(size_t)> open;
  std::function<std::string(size_t)> name;
  bool owned;
  std::function<int64_t(size_t)> size;  // bytes, or -1 when unknown
};

// The work split: files much larger than the rest are hashed alone on the one-stream path
// (OpenSSL speed, several times one SIMD lane's), first, so a big file never becomes the tail
// of the lanes; all others share the lanes.
struct Schedule {
  std::vector<size_t> alone, lanes;
  std::atomic<size_t> next_alone{0}, next_lane{0};
};

void HashAlone(const FileSet& set, size_t i, uint8_t* buf, size_t chunk, const Md5FilesOptions& opt,
               Md5FileResult& r) {
  Result<int> opened = set.open(i);
  if (!opened.ok()) {
    r.status = opened.status();
    return;
  }
  int fd = *opened;
  Md5 md5;
  off_t offset = 0;
  for (;;) {
    long got = ReadFd(fd, buf, chunk, offset);
    if (got < 0) {
      r.status = Status::FromErrno(errno, "read", set.name(i));
      break;
    }
    if (got == 0) {
      r.digest = md5.Finish();
      break;
    }
    md5.Update(buf, static_cast<size_t>(got));
    offset += got;
    r.bytes += static_cast<uint64_t>(got);
    if (opt.progress) opt.progress(static_cast<uint64_t>(got), 0);
  }
  if (set.owned) ::close(fd);
  if (r.status.ok() && opt.progress) opt.progress(0, 1);
}

void HashFilesWorker(const FileSet& set, Schedule& plan, const Md5FilesOptions& opt, size_t chunk,
                     std::vector<Md5FileResult>& results) {
  Md5Multi m(opt.isa);
  const int lanes = m.lanes();
  std::unique_ptr<uint8_t, FreeDeleter> arena(
      static_cast<uint8_t*>(std::aligned_alloc(4096, chunk * static_cast<size_t>(lanes))));
  for (size_t k; (k = plan.next_alone.fetch_add(1)) < plan.alone.size();) {
    HashAlone(set, plan.alone[k], arena.get(), chunk, opt, results[plan.alone[k]]);
  }
  struct File {
    long idx = -1;
    int fd = -1;
    bool eof = false;
    off_t offset = 0;
  };
  std::vector<File> files(lanes);
  auto close_lane = [&](File& f) {
    if (f.fd >= 0 && set.owned) ::close(f.fd);
    f = File{};
  };
  for (;;) {
    bool any = false;
    for (int l = 0; l < lanes; ++l) {
      File& f = files[l];
      uint8_t* buf = arena.get() + chunk * static_cast<size_t>(l);
      for (;;) {
        if (f.idx < 0) {
          size_t k = plan.next_lane.fetch_add(1);
          if (k >= plan.lanes.size()) break;
          size_t i = plan.lanes[k];
          f.idx = static_cast<long>(i);
          Result<int> opened = set.open(i);
          if (!opened.ok()) {
            results[i].status = opened.status();
            close_lane(f);
            continue;
          }
          f.fd = *opened;
          m.Start(l);
        }
        if (m.pending(l) >= 64) break;  // the lane still has blocks to hash
        Md5FileResult& r = results[f.idx];
        if (!f.eof) {
          long got = ReadFd(f.fd, buf, chunk, f.offset);
          if (got < 0) {
            r.status = Status::FromErrno(errno, "read", set.name(static_cast<size_t>(f.idx)));
            close_lane(f);
            continue;
          }
          if (got == 0) {
            f.eof = true;
          } else {
            m.Feed(l, buf, static_cast<size_t>(got));
            f.offset += got;
            r.bytes += static_cast<uint64_t>(got);
            if (opt.progress) opt.progress(static_cast<uint64_t>(got), 0);
          }
          continue;
        }
        r.digest = m.Finish(l);
        close_lane(f);
        if (opt.progress) opt.progress(0, 1);
      }
      any = any || f.idx >= 0;
    }
    if (!any) break;
    m.Run();
  }
}

}  // namespace

namespace {
std::vector<Md5FileResult> HashFileSet(const FileSet& set, const Md5FilesOptions& options) {
  std::vector<Md5FileResult> results(set.count);
  if (set.count == 0) return results;
  size_t chunk = std::max<size_t>(4096, (options.chunk_bytes + 4095) / 4096 * 4096);
  int threads = options.threads > 0 ? options.threads : DefaultThreads();
  threads = static_cast<int>(std::min<size_t>(static_cast<size_t>(threads), set.count));
  Schedule plan;
  std::vector<int64_t> sizes(set.count, -1);
  int64_t total = 0;
  for (size_t i = 0; i < set.count; ++i) {
    if (set.size) sizes[i] = set.size(i);
    total += std::max<int64_t>(sizes[i], 0);
  }
  // "Much larger": at least 4 MiB and 4x the mean; with one lane there is nothing to balance.
  const int64_t mean = total / static_cast<int64_t>(set.count);
  const bool simd = Md5IsaLanes(options.isa) > 1;
  for (size_t i = 0; i < set.count; ++i) {
    bool alone = simd && sizes[i] >= (int64_t{4} << 20) && sizes[i] >= 4 * mean;
    (alone ? plan.alone : plan.lanes).push_back(i);
  }
  std::stable_sort(plan.alone.begin(), plan.alone.end(), [&](size_t a, size_t b) { return sizes[a] > sizes[b]; });
  if (threads == 1) {
    HashFilesWorker(set, plan, options, chunk, results);
    return results;
  }
  Status s = ParallelFor(static_cast<size_t>(threads), threads, [&](size_t) -> Status {
    HashFilesWorker(set, plan, options, chunk, results);
    return Status::Ok();
  });
  (void)s;  // workers report per file
  return results;
}
}  // namespace

std::vector<Md5FileResult> Md5Files(const std::vector<std::string>& paths, const Md5FilesOptions& options) {
  FileSet set{paths.size(),
              [&](size_t i) -> Result<int> {
                // A FIFO, device or directory listed as a file is refused, never waited on.
                TB_ASSIGN_OR_RETURN(int fd, OpenRegularFile(paths[i]));
                posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
                return fd;
              },
              [&](size_t i) { return paths[i]; }, /*owned=*/true,
              [&](size_t i) -> int64_t {
                struct stat st {};
                return ::stat(paths[i].c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : -1;
              }};
  return HashFileSet(set, options);
}

std::vector<Md5FileResult> Md5Fds(const std::vector<int>& fds, const std::vector<std::string>& names,
                                  const Md5FilesOptions& options) {
  FileSet set{fds.size(), [&](size_t i) -> Result<int> { return fds[i]; }, [&](size_t i) { return names[i]; }, /*owned=*/false,
              [&](size_t i) -> int64_t {
                struct stat st {};
                return ::fstat(fds[i], &st) == 0 ? static_cast<int64_t>(st.st_size) : -1;
              }};
  return HashFileSet(set, options);
}

}  // namespace tb
