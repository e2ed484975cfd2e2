// Where a span of work got its bytes and CPU: snapshots of the process's I/O accounting
// (/proc/self/io), its CPU times (getrusage) and the bytes the HTTP/S3 transport moved, taken
// before and after a stage. The difference tells device reads from page-cache reads.
//
// Process-wide: when spans overlap (threads of streamed stages), their deltas overlap too.
#pragma once

#include <cstdint>
#include <string_view>

namespace tb {

struct IoCounters {
  bool proc_io = false;      // /proc/self/io was readable (task I/O accounting on)
  uint64_t rchar = 0;        // bytes read(2)/pread(2) returned, from any source (not mmap)
  uint64_t wchar = 0;        // bytes write(2) accepted
  uint64_t read_bytes = 0;   // bytes read from block devices (page cache misses, also for mmap)
  uint64_t write_bytes = 0;  // bytes sent (or to be sent) to block devices
  double user_cpu_s = 0;     // getrusage(RUSAGE_SELF)
  double system_cpu_s = 0;
  uint64_t net_rx_bytes = 0;  // response bodies received by the HTTP/S3 transport
  uint64_t net_tx_bytes = 0;  // request bodies sent
  uint64_t net_requests = 0;  // transfers the transport completed (each retry counts)
};

// The counters now. Never fails: what cannot be read stays 0 (proc_io tells).
IoCounters SampleIoCounters();
// after - before, field by field (a counter that went backwards gives 0).
IoCounters IoDelta(const IoCounters& before, const IoCounters& after);
// Parses the text of /proc/<pid>/io; false when a field the delta needs is missing.
bool ParseProcIo(std::string_view text, IoCounters* out);

// Called by the transport once per finished transfer (thread-safe, process-wide).
void CountNetworkTransfer(uint64_t rx_bytes, uint64_t tx_bytes);

}  // namespace tb
