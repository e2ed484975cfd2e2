// A process-wide pool of libcurl handles so that HTTP connections (and TLS sessions, DNS
// answers) are reused across requests and threads. Each pooled connection is one multi handle
// driving one easy handle: the multi's connection cache keeps the TCP/TLS connections alive
// between requests; all handles share DNS and TLS-session caches through one share handle.
// curl types stay out of headers: the accessors return void* that the .cc casts back.
//
// Thread-safety: CurlPool is thread-safe; a CurlLease is used by one thread at a time.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "storage/storage.h"

namespace tb::storage {

struct CurlConn {
  void* multi = nullptr;  // CURLM*
  void* easy = nullptr;   // CURL*
};

class CurlPool {
 public:
  static CurlPool& Global();
  CurlConn Acquire();           // a fresh or idle connection; easy options reset
  void Release(CurlConn conn);  // back to the idle list (closed when the list is full)

 private:
  CurlPool();
  std::mutex mu_;
  std::vector<CurlConn> idle_;
  void* share_ = nullptr;  // CURLSH*
};

// RAII lease of one pooled connection.
class CurlLease {
 public:
  CurlLease() : conn_(CurlPool::Global().Acquire()) {}
  ~CurlLease() { CurlPool::Global().Release(conn_); }
  CurlLease(const CurlLease&) = delete;
  CurlLease& operator=(const CurlLease&) = delete;
  void* multi() const { return conn_.multi; }
  void* easy() const { return conn_.easy; }

 private:
  CurlConn conn_;
};

// The one place an easy handle is set up for a request of any tier (HTTP origin, S3): the URL,
// no signals, the user agent, TLS verification (Options::verify_tls), the connect timeout
// (Options::connect_timeout_s), the stall timeout (Options::low_speed_timeout_s: under 1 byte/s
// for that long fails the transfer; 0 = off), the receive buffer and the error buffer
// (`errbuf`: CURL_ERROR_SIZE bytes, cleared here). What a tier adds (redirects, headers, body
// callbacks) the caller sets afterwards.
void SetCommonOptions(const CurlLease& lease, const std::string& url, const Options& options, char* errbuf);

// Runs the lease's easy handle to completion on its pooled multi handle (connection reuse),
// polling Options::cancel every 200 ms. Returns the CURLcode (as int: no curl in headers).
int PerformOnMulti(const CurlLease& lease, const Options& options);

// Adds the lease's transfer (body bytes received and sent, one request) to the process's
// network counters (util/io_stats.h). PerformOnMulti calls it; a caller driving the multi
// handle itself calls it once per transfer, before removing the handle.
void CountTransfer(const CurlLease& lease);

}  // namespace tb::storage
