// MemberVerifier: checks extracted members against a manifest as they arrive during streaming
// ingest. Members come written under temporary names (dataset::PendingMember); a worker thread
// hashes them in batches with multi-buffer MD5 (one file per SIMD lane, util/md5_multi.h) and
// renames each into place only when its md5 matches. A mismatching member never appears under
// its final name. Members the manifest does not list are committed unverified.
//
// Thread-safety: Add() and Finish() are called by one thread (the extractor); the accessors
// are valid after Finish().
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "dataset/archive.h"
#include "util/status.h"

namespace tb::pipeline {

class MemberVerifier {
 public:
  // want: relative path -> expected md5 (lowercase hex). `manifest` names it in errors.
  // batch: members hashed together (0 = the MD5 lanes of this CPU).
  MemberVerifier(std::map<std::string, std::string> want, std::string manifest, size_t batch = 0);
  ~MemberVerifier();  // waits for the worker; members not yet committed are removed
  MemberVerifier(const MemberVerifier&) = delete;
  MemberVerifier& operator=(const MemberVerifier&) = delete;

  // Queues a written member (blocks while too many wait). Returns the first error seen so
  // far, so that the extractor stops early.
  Status Add(dataset::PendingMember member);
  // Verifies and commits everything queued; returns the first error (mismatch, I/O).
  Status Finish();

  bool seen(const std::string& path) const { return seen_.count(path) > 0; }
  uint64_t verified_files() const { return verified_; }
  bool mismatched() const { return !mismatched_.empty(); }
  const std::vector<std::string>& mismatched_paths() const { return mismatched_; }
  double hash_seconds() const { return hash_seconds_; }

 private:
  void Work();
  void Process(std::vector<dataset::PendingMember>& batch);

  const std::map<std::string, std::string> want_;
  const std::string manifest_;
  size_t batch_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<dataset::PendingMember> queue_;
  uint64_t queued_bytes_ = 0;  // member bytes held in memory by queue_
  bool finishing_ = false;
  Status error_;  // first error (guarded by mu_)
  // Worker-owned until Finish() joins it.
  std::set<std::string> seen_;
  std::vector<std::string> mismatched_;
  uint64_t verified_ = 0;
  double hash_seconds_ = 0;
  std::thread worker_;
};

}  // namespace tb::pipeline
