#include "storage/curl_pool.h"

#include "storage/retry.h"
#include "util/io_stats.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstdlib>

namespace tb::storage {

namespace {

constexpr size_t kMaxIdle = 64;

std::mutex g_share_locks[CURL_LOCK_DATA_LAST];

void ShareLock(CURL*, curl_lock_data data, curl_lock_access, void*) { g_share_locks[data].lock(); }
void ShareUnlock(CURL*, curl_lock_data data, void*) { g_share_locks[data].unlock(); }

}  // namespace

CurlPool& CurlPool::Global() {
  static CurlPool* pool = new CurlPool();  // never destroyed: handles may outlive statics
  return *pool;
}

CurlPool::CurlPool() {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURLSH* share = curl_share_init();
  curl_share_setopt(share, CURLSHOPT_LOCKFUNC, ShareLock);
  curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, ShareUnlock);
  curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  share_ = share;
}

CurlConn CurlPool::Acquire() {
  CurlConn conn;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      conn = idle_.back();
      idle_.pop_back();
    }
  }
  if (!conn.easy) {
    conn.multi = curl_multi_init();
    conn.easy = curl_easy_init();
    if (!conn.multi || !conn.easy) std::abort();  // out of memory
  } else {
    curl_easy_reset(static_cast<CURL*>(conn.easy));
  }
  curl_easy_setopt(static_cast<CURL*>(conn.easy), CURLOPT_SHARE, static_cast<CURLSH*>(share_));
  return conn;
}

void CurlPool::Release(CurlConn conn) {
  if (!conn.easy) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.size() < kMaxIdle) {
      idle_.push_back(conn);
      return;
    }
  }
  curl_easy_cleanup(static_cast<CURL*>(conn.easy));
  curl_multi_cleanup(static_cast<CURLM*>(conn.multi));
}

void SetCommonOptions(const CurlLease& lease, const std::string& url, const Options& o, char* errbuf) {
  CURL* easy = static_cast<CURL*>(lease.easy());
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_USERAGENT, "tierbench/0.1");
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, o.verify_tls ? 1L : 0L);
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, o.verify_tls ? 2L : 0L);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(o.connect_timeout_s * 1000));
  if (o.low_speed_timeout_s > 0) {
    curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME, std::max(1L, static_cast<long>(o.low_speed_timeout_s)));
  }
  curl_easy_setopt(easy, CURLOPT_BUFFERSIZE, 512L * 1024);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf);
  errbuf[0] = '\0';
}

int PerformOnMulti(const CurlLease& lease, const Options& o) {
  CURLM* multi = static_cast<CURLM*>(lease.multi());
  CURL* easy = static_cast<CURL*>(lease.easy());
  curl_multi_add_handle(multi, easy);
  CURLcode result = CURLE_OK;
  for (;;) {
    int running = 0;
    curl_multi_perform(multi, &running);
    int left = 0;
    bool done = false;
    while (CURLMsg* m = curl_multi_info_read(multi, &left)) {
      if (m->msg == CURLMSG_DONE) {
        result = m->data.result;
        done = true;
      }
    }
    if (done) break;
    if (IsCancelled(o)) {
      result = CURLE_ABORTED_BY_CALLBACK;
      break;
    }
    curl_multi_poll(multi, nullptr, 0, 200, nullptr);
  }
  CountTransfer(lease);
  curl_multi_remove_handle(multi, easy);
  return result;
}

void CountTransfer(const CurlLease& lease) {
  CURL* easy = static_cast<CURL*>(lease.easy());
  curl_off_t down = 0, up = 0;
  if (curl_easy_getinfo(easy, CURLINFO_SIZE_DOWNLOAD_T, &down) != CURLE_OK || down < 0) down = 0;
  if (curl_easy_getinfo(easy, CURLINFO_SIZE_UPLOAD_T, &up) != CURLE_OK || up < 0) up = 0;
  CountNetworkTransfer(static_cast<uint64_t>(down), static_cast<uint64_t>(up));
}

}  // namespace tb::storage
