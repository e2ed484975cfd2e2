// Multi-buffer MD5: several independent messages hashed at once, one per SIMD lane
// (AVX-512: 16 lanes, AVX2: 8 lanes, chosen at run time; a portable scalar path otherwise).
// MD5 itself is a serial chain per message, so one core hashes N messages almost N times as
// fast as one: this is how `verify` checks many files per core. Digests are identical to
// util/md5.h (OpenSSL).
//
// Thread-safety: an Md5Multi is used by one thread; the free functions are reentrant.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "util/md5.h"
#include "util/status.h"

namespace tb {

enum class Md5Isa { kScalar, kAvx2, kAvx512 };

const char* Md5IsaName(Md5Isa isa);  // "scalar", "avx2", "avx512"
bool Md5IsaSupported(Md5Isa isa);    // by this CPU
// The widest supported ISA, lowered by the environment variable TB_MD5_ISA
// (scalar|avx2|avx512) when set, e.g. to compare paths in benchmarks.
Md5Isa BestMd5Isa();
int Md5IsaLanes(Md5Isa isa);  // 1, 8, 16

// A set of lanes, each hashing one message at a time, fed in pieces:
//
//   Md5Multi m;                       // m.lanes() lanes, all idle
//   m.Start(l);                       // lane l begins a new message
//   m.Feed(l, p, n);                  // REQUIRES m.pending(l) < 64 (the lane wants input)
//   m.Run();                          // hashes whole blocks of all fed lanes together
//   ... feed again the lanes that want input (pending < 64) ...
//   Md5Digest d = m.Finish(l);        // REQUIRES pending(l) < 64; lane becomes idle
//
// Memory passed to Feed() is read until Run() has brought that lane below 64 pending bytes;
// at that point the lane has copied its < 64 leftover bytes and no longer refers to it, so
// the caller may reuse the buffer. Lanes with fewer than 64 pending bytes are skipped.
class Md5Multi {
 public:
  explicit Md5Multi(Md5Isa isa = BestMd5Isa());
  Md5Multi(const Md5Multi&) = delete;
  Md5Multi& operator=(const Md5Multi&) = delete;

  Md5Isa isa() const { return isa_; }
  int lanes() const { return lanes_; }

  void Start(int lane);
  void Feed(int lane, const void* data, size_t n);
  size_t pending(int lane) const { return lanes_state_[lane].carry_n + lanes_state_[lane].n; }
  // Hashes until at least one fed lane has fewer than 64 pending bytes (all of them on the
  // scalar path). Lanes with < 64 pending bytes end up holding no reference to caller memory.
  void Run();
  Md5Digest Finish(int lane);

 private:
  struct Lane {
    const uint8_t* p = nullptr;  // caller's memory, n bytes not yet hashed
    size_t n = 0;
    uint8_t carry[64];           // leftover bytes (< 64) of earlier Feed() calls
    size_t carry_n = 0;
    uint64_t total = 0;          // message length so far
  };
  void ScalarBlocks(int lane, const uint8_t* p, size_t nblocks);
  void StashLeftovers();

  Md5Isa isa_;
  int lanes_;
  std::vector<uint32_t> state_;  // 4 rows of lanes_ words (SoA)
  std::vector<Lane> lanes_state_;
};

// MD5 of each message, hashed in lanes (any count, any lengths).
std::vector<Md5Digest> Md5Many(const std::vector<std::string_view>& messages, Md5Isa isa = BestMd5Isa());

struct Md5FilesOptions {
  int threads = 0;                  // 0 = all cores
  size_t chunk_bytes = 256 << 10;   // read size per lane (multiple of 64)
  Md5Isa isa = BestMd5Isa();
  // Called from worker threads after each read (bytes) and each finished file (files).
  std::function<void(uint64_t bytes, uint64_t files)> progress;
};

struct Md5FileResult {
  Status status;  // non-OK if the file could not be read (the message names the path)
  Md5Digest digest{};
  uint64_t bytes = 0;
};

// Hashes many local files: files are spread over threads, and each thread keeps up to
// lanes() files in flight, refilling a lane as soon as its file ends. Reads are large,
// page-aligned and sequential. Results are in the order of `paths`. A path that is not a
// regular file (a FIFO, a device, a directory) fails at once with "not a regular file"
// instead of blocking (util/fs.h OpenRegularFile).
std::vector<Md5FileResult> Md5Files(const std::vector<std::string>& paths, const Md5FilesOptions& options = {});

// The same for files already open (read with pread from offset 0; the fds stay open):
// e.g. members just written, hashed before they are renamed into place. `names` (one per
// fd) appear in errors.
std::vector<Md5FileResult> Md5Fds(const std::vector<int>& fds, const std::vector<std::string>& names,
                                  const Md5FilesOptions& options = {});

}  // namespace tb
