#include "storage/curl_pool.h"

#include <curl/curl.h>

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

}  // namespace tb::storage
