#include "util/io_stats.h"

#include <sys/resource.h>

#include <atomic>
#include <charconv>
#include <cstdlib>
#include <string>

#include "util/fs.h"
#include "util/text.h"

namespace tb {
namespace {

std::atomic<uint64_t> g_net_rx{0}, g_net_tx{0}, g_net_requests{0};

double Seconds(const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; }

uint64_t Minus(uint64_t after, uint64_t before) { return after > before ? after - before : 0; }

}  // namespace

bool ParseProcIo(std::string_view text, IoCounters* out) {
  bool have_rchar = false, have_read_bytes = false;
  ForEachKeyValueLine(text, [&](std::string_view key, std::string_view value) {
    uint64_t n = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec != std::errc() || end == value.data()) return true;
    if (key == "rchar")
      out->rchar = n, have_rchar = true;
    else if (key == "wchar")
      out->wchar = n;
    else if (key == "read_bytes")
      out->read_bytes = n, have_read_bytes = true;
    else if (key == "write_bytes")
      out->write_bytes = n;
    return true;
  });
  return have_rchar && have_read_bytes;
}

IoCounters SampleIoCounters() {
  IoCounters c;
  if (auto text = ReadFile("/proc/self/io"); text.ok()) c.proc_io = ParseProcIo(*text, &c);
  if (!c.proc_io) c.rchar = c.wchar = c.read_bytes = c.write_bytes = 0;
  rusage ru{};
  if (getrusage(RUSAGE_SELF, &ru) == 0) {
    c.user_cpu_s = Seconds(ru.ru_utime);
    c.system_cpu_s = Seconds(ru.ru_stime);
  }
  c.net_rx_bytes = g_net_rx.load(std::memory_order_relaxed);
  c.net_tx_bytes = g_net_tx.load(std::memory_order_relaxed);
  c.net_requests = g_net_requests.load(std::memory_order_relaxed);
  return c;
}

IoCounters IoDelta(const IoCounters& before, const IoCounters& after) {
  IoCounters d;
  d.proc_io = before.proc_io && after.proc_io;
  if (d.proc_io) {
    d.rchar = Minus(after.rchar, before.rchar);
    d.wchar = Minus(after.wchar, before.wchar);
    d.read_bytes = Minus(after.read_bytes, before.read_bytes);
    d.write_bytes = Minus(after.write_bytes, before.write_bytes);
  }
  d.user_cpu_s = after.user_cpu_s > before.user_cpu_s ? after.user_cpu_s - before.user_cpu_s : 0;
  d.system_cpu_s = after.system_cpu_s > before.system_cpu_s ? after.system_cpu_s - before.system_cpu_s : 0;
  d.net_rx_bytes = Minus(after.net_rx_bytes, before.net_rx_bytes);
  d.net_tx_bytes = Minus(after.net_tx_bytes, before.net_tx_bytes);
  d.net_requests = Minus(after.net_requests, before.net_requests);
  return d;
}

void CountNetworkTransfer(uint64_t rx_bytes, uint64_t tx_bytes) {
  g_net_rx.fetch_add(rx_bytes, std::memory_order_relaxed);
  g_net_tx.fetch_add(tx_bytes, std::memory_order_relaxed);
  g_net_requests.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace tb
