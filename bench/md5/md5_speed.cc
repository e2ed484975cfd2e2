// md5_speed: single-core MD5 throughput on in-memory data (the page-cache case without the
// read() copy): OpenSSL single stream vs tierbench's scalar and multi-buffer paths.
// Throughput is bytes per second of this thread's CPU time (the machine is shared, so wall
// time mostly measures the neighbours); the methods are interleaved round by round and the
// median of each method is printed, plus the median of the per-round ratios to OpenSSL.
// Built and run by bench/run.sh; prints one JSON object.
//   md5_speed [MiB per round, default 32] [rounds, default 7]
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "util/md5.h"
#include "util/md5_multi.h"

namespace {

double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  size_t mib = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 32;
  int rounds = argc > 2 ? std::atoi(argv[2]) : 7;
  std::mt19937_64 rng(7);
  std::string buf(mib << 20, '\0');
  for (auto& c : buf) c = static_cast<char>(rng());
  unsigned sink = 0;

  std::vector<tb::Md5Isa> isas;
  for (tb::Md5Isa isa : {tb::Md5Isa::kScalar, tb::Md5Isa::kAvx2, tb::Md5Isa::kAvx512}) {
    if (tb::Md5IsaSupported(isa)) isas.push_back(isa);
  }
  std::vector<double> openssl;
  std::vector<std::vector<double>> mbps(isas.size()), ratio(isas.size());
  for (int r = 0; r < rounds; ++r) {
    double t0 = CpuSeconds();
    sink += tb::Md5Of(buf)[0];
    double base = static_cast<double>(buf.size()) / (CpuSeconds() - t0) / 1e6;
    openssl.push_back(base);
    for (size_t k = 0; k < isas.size(); ++k) {
      // lanes streams of buf.size()/lanes bytes: the same bytes as the single stream.
      int lanes = tb::Md5IsaLanes(isas[k]);
      size_t each = buf.size() / static_cast<size_t>(lanes);
      std::vector<std::string_view> msgs;
      for (int l = 0; l < lanes; ++l) msgs.emplace_back(buf.data() + l * each, each);
      t0 = CpuSeconds();
      sink += tb::Md5Many(msgs, isas[k])[0][0];
      double v = static_cast<double>(each * lanes) / (CpuSeconds() - t0) / 1e6;
      mbps[k].push_back(v);
      ratio[k].push_back(v / base);
    }
  }
  std::printf("{\"rounds\": %d, \"mib\": %zu, \"openssl_single_mbps\": %.1f", rounds, mib, Median(openssl));
  for (size_t k = 0; k < isas.size(); ++k) {
    const char* n = tb::Md5IsaName(isas[k]);
    std::printf(", \"%s_lanes\": %d, \"%s_mbps\": %.1f, \"%s_vs_openssl\": %.2f", n, tb::Md5IsaLanes(isas[k]), n,
                Median(mbps[k]), n, Median(ratio[k]));
  }
  std::printf(", \"best_isa\": \"%s\", \"sink\": %u}\n", tb::Md5IsaName(tb::BestMd5Isa()), sink & 1);
  return 0;
}
