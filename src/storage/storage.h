// The storage interface: one small abstraction over every tier tierbench runs against.
//
// A Storage is rooted at a URI and addresses objects by keys relative to that root, with '/'
// as separator:
//   "/mnt/weka/data" or "file:///mnt/weka/data"  -> PosixStorage (directory root)
//   "http://host:port/some/dir"                  -> HttpStorage (read-only; key appended to URL)
//   "s3://bucket" or "s3://bucket/prefix"         -> S3Storage (key appended to prefix)
//   "mem://name"                                  -> in-memory (tests)
// Backends carry no timing or counting code; wrappers do (see wrappers.h).
//
// Error contract: every non-OK Status names the backend object (full URI/path) and the cause;
// transient network failures are marked retryable(). Writers never expose a partial object:
// until Commit() succeeds nothing is visible under the key, and destroying an uncommitted
// Writer aborts (removes temp file / aborts the multipart upload).
//
// Thread-safety: a Storage may be used from many threads at once; a Reader or Writer by one.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace tb::storage {

inline constexpr uint64_t kToEnd = ~uint64_t{0};

struct ObjectInfo {
  std::string key;          // relative to the storage root
  uint64_t size_bytes = 0;
  std::string etag;         // S3/HTTP ETag without quotes, when known
  bool ranged_reads = true; // false when the server said it cannot serve byte ranges
};

// An entry under a listed prefix that holds no object, left out of List: a FIFO, socket or
// device node, a symlink whose target is missing, a symlink loop, a symlink to a directory
// (not followed). Only local trees have such entries.
struct SkippedEntry {
  std::string key;   // relative to the storage root
  std::string kind;  // e.g. "FIFO", "dangling symlink"
};

// The md5 of an object's bytes when its ETag is one (S3 single-part uploads: 32 hex digits,
// no "-N" suffix); "" otherwise (multipart ETags, HTTP server ETags like nginx's "mtime-size").
std::string Md5FromEtag(std::string_view etag);

struct Capabilities {
  bool writable = false;
  bool listable = false;
  bool ranged_reads = false;
  bool parallel_writes = false;  // OpenParallelWrite is implemented
  bool etag_is_md5 = false;      // ETags of single-part objects are the md5 of the data (S3)
  // Appending in order is cheaper than writing parts in place (local files: scattered writes
  // into a preallocated file cost far more kernel time than sequential appends). Parallel
  // copies into such a destination fetch parts in parallel and write them in order.
  bool sequential_writes = false;
};

class Reader {
 public:
  virtual ~Reader() = default;
  // Reads up to n bytes; returns 0 only at end of object.
  virtual Result<size_t> Read(char* buf, size_t n) = 0;
  // Times the transport resumed the body after it broke off (a request for the rest, from
  // the byte reached), so far.
  virtual uint64_t resumed() const { return 0; }
};

class Writer {
 public:
  virtual ~Writer() = default;  // aborts if not committed
  virtual Status Append(std::string_view data) = 0;
  // Makes the object visible. After an error the object does not exist.
  virtual Status Commit() = 0;
  // After a successful Commit: the ETag the backend reported (S3), "" when none.
  virtual std::string etag() const { return ""; }
};

// Writes one object of known size as independent parts from many threads (parallel ranged
// copies). Part i covers [i * part_size, (i + 1) * part_size) (the last part shorter). The
// caller writes every byte exactly once; each part is written by one thread as one or more
// WriteAt(offset, data) calls in increasing offset order that never cross the part's end;
// different parts go in any order, concurrently. Commit() after all parts; nothing is visible
// before; destruction without Commit aborts. (S3 may map part i to UploadPart number i + 1,
// buffering a part until its last byte arrives.)
class ParallelWriter {
 public:
  virtual ~ParallelWriter() = default;
  virtual Status WriteAt(uint64_t offset, std::string_view data) = 0;
  virtual Status Commit() = 0;
};

// Per-process transfer options shared by all backends.
struct Options {
  std::string endpoint_url;   // S3: overrides AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL
  std::string region;         // S3: overrides AWS_REGION / AWS_DEFAULT_REGION / profile (default us-east-1)
  std::string profile;        // S3: overrides AWS_PROFILE
  bool virtual_hosted = false;// S3 addressing style (default path-style)
  int concurrency = 16;       // parallel connections for one transfer
  // Connections one transfer uses at once, at most `concurrency`: 0 = auto (start with one,
  // double them while the aggregate rate still grows by 10 %), N = N from the start.
  int streams = 0;
  uint64_t part_size_bytes = 8ull << 20;
  int max_retries = 5;
  double connect_timeout_s = 10;
  double low_speed_timeout_s = 30;  // abort a request making no progress this long
  // The largest object a copy or stream reads (0 = no limit): an announced size over it is
  // refused before any byte moves, a body of unknown or false length fails once it passes it.
  uint64_t max_object_bytes = 0;
  std::string max_object_source;  // what set the limit, for messages (e.g. a config key)
  bool verify_tls = true;
  const std::atomic<bool>* cancel = nullptr;  // set -> operations fail with Cancelled
};

class Storage {
 public:
  virtual ~Storage() = default;
  // Full URI of `key` for messages and results (never contains credentials).
  virtual std::string Describe(std::string_view key) const = 0;
  virtual Capabilities caps() const = 0;
  virtual Result<ObjectInfo> Stat(std::string_view key) = 0;
  // Reads [offset, offset+length) (length kToEnd = to the end).
  virtual Result<std::unique_ptr<Reader>> OpenRead(std::string_view key, uint64_t offset = 0,
                                                   uint64_t length = kToEnd) = 0;
  virtual Result<std::unique_ptr<Writer>> OpenWrite(std::string_view key, uint64_t size_hint = 0) = 0;
  // Every object whose key starts with `prefix`, recursively, sorted by key.
  virtual Result<std::vector<ObjectInfo>> List(std::string_view prefix) = 0;
  // List, also appending to *skipped (sorted by key) the entries under `prefix` that it left
  // out because they hold no object. Backends without such entries keep this default.
  virtual Result<std::vector<ObjectInfo>> ListWithSkipped(std::string_view prefix,
                                                          std::vector<SkippedEntry>* skipped) {
    (void)skipped;
    return List(prefix);
  }
  virtual Status Delete(std::string_view key) = 0;
  // Optional (caps().parallel_writes): see ParallelWriter.
  virtual Result<std::unique_ptr<ParallelWriter>> OpenParallelWrite(std::string_view key,
                                                                    uint64_t size_bytes,
                                                                    uint64_t part_size_bytes) {
    (void)size_bytes;
    (void)part_size_bytes;
    return Status::Unsupported("parallel writes not supported by " + Describe(key));
  }
};

// Opens the storage for a root URI (see top of file). Unknown scheme -> InvalidArgument.
Result<std::unique_ptr<Storage>> Open(std::string_view root_uri, const Options& options);

// Splits an object URI into (root URI, key): "s3://b/p/x.tar.gz" -> ("s3://b", "p/x.tar.gz"),
// "/a/b/c" -> ("/a/b", "c"), "http://h/p/x" -> ("http://h/p", "x").
struct ObjectRef {
  std::string root;
  std::string key;
};
Result<ObjectRef> SplitObjectUri(std::string_view uri);

// In-memory storage (tests). Storages created with the same name share their objects, and
// Open("mem://name[/prefix]") reaches them too; NewMemoryStorage empties that namespace first.
std::unique_ptr<Storage> NewMemoryStorage(std::string name = "mem");

// Backends, also reachable through Open(). `root` is a directory path; `base_url` an
// http(s):// URL (keys are URL-encoded per byte, '/' kept, and appended after a '/').
std::unique_ptr<Storage> NewPosixStorage(std::string root);
std::unique_ptr<Storage> NewHttpStorage(std::string base_url, const Options& options);

// Percent-encodes every byte outside RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~) as
// %XX (uppercase), the form AWS SigV4 signs; '/' is kept when keep_slash (object keys in URL
// paths). The one encoder for HTTP URLs and S3 canonical requests.
std::string UrlEncode(std::string_view s, bool keep_slash);

}  // namespace tb::storage
