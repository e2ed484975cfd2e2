// A small S3 client over libcurl: SigV4-signed requests with retries, the object and
// multipart operations tierbench needs, and nothing else.
//
// Addressing: path-style by default (http://endpoint/bucket/key); virtual-hosted
// (http://bucket.endpoint/key) with Options::virtual_hosted. Keys are URI-encoded once and
// sent as-is (no dot-segment removal), as S3 expects.
//
// Every request carries x-amz-content-sha256: the sha256 of small XML/empty bodies, and
// UNSIGNED-PAYLOAD for object data, whose integrity is covered by Content-MD5 (checked by the
// server) and by comparing the returned ETag with our md5.
//
// Errors: every non-OK Status names the operation, s3://bucket/key, the endpoint, the HTTP
// status, the S3 error code and message, and the request id, e.g.
//   "S3 PutObject s3://b/k (endpoint http://127.0.0.1:7480): HTTP 403 SignatureDoesNotMatch: ...
//    (request id tx00..)"
// 404 -> NotFound, 401/403 -> PermissionDenied, other failures -> Network; retryable (and
// retried here up to Options::max_retries with backoff+jitter): connection errors, timeouts,
// 500/502/503/504, 429 and SlowDown/RequestTimeout. Never retried: other 4xx (auth errors
// included) and checksum mismatches (Corruption). Options::cancel aborts requests in flight.
//
// Thread-safety: an S3Client is thread-safe (each call leases its own curl connection).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage/aws_credentials.h"
#include "storage/s3_xml.h"
#include "storage/sigv4.h"
#include "storage/storage.h"
#include "util/md5.h"
#include "util/status.h"

namespace tb::storage {

struct S3Request {
  std::string method = "GET";
  std::string bucket;             // "" = service-level request
  std::string key;                // "" = bucket-level request
  sigv4::KeyValues query;         // decoded
  sigv4::KeyValues headers;       // extra headers (Content-MD5, Range, Content-Type, ...)
  std::string_view body;          // request payload (not owned; must outlive the call)
  bool unsigned_payload = false;  // true: x-amz-content-sha256 UNSIGNED-PAYLOAD
  // When set, a 2xx response body is written here (at most sink_cap bytes; more is an error).
  char* sink = nullptr;
  size_t sink_cap = 0;
};

struct S3Response {
  long http_status = 0;
  std::string body;   // the body when no sink was given (or the error body)
  size_t sink_bytes = 0;
  std::map<std::string, std::string> headers;  // names lowercased
  std::string Header(const std::string& lower_name) const;
};

struct HeadResult {
  uint64_t size_bytes = 0;
  std::string etag;  // quotes removed
};

class S3Client {
 public:
  // Resolves credentials/region/endpoint (see aws_credentials.h).
  static Result<std::shared_ptr<S3Client>> Create(const Options& options);
  S3Client(AwsConfig config, const Options& options);

  const AwsConfig& config() const { return config_; }
  const Options& options() const { return options_; }
  // "s3://bucket/key" (no credentials).
  static std::string Uri(std::string_view bucket, std::string_view key);
  // The URL a request is sent to (path- or virtual-hosted style).
  std::string Url(const S3Request& req) const;

  // One signed request with retries; non-2xx and transport errors become a Status.
  Result<S3Response> Call(std::string_view op, const S3Request& req) const {
    return CallWith(op, req, options_);
  }

  Status CreateBucket(const std::string& bucket) const;  // "already owned by you" is OK
  // True when the bucket exists and these credentials may list it, false when it does not
  // exist (404 NoSuchBucket); other failures (403, network) are errors.
  Result<bool> BucketExists(const std::string& bucket) const;
  Status DeleteBucket(const std::string& bucket) const;  // must be empty
  Result<HeadResult> HeadObject(const std::string& bucket, const std::string& key) const;
  // Returns the ETag (verified to equal the md5 of `data`).
  Result<std::string> PutObject(const std::string& bucket, const std::string& key,
                                std::string_view data) const;
  // Reads [offset, offset+n) into dst; returns the bytes read (n unless the object is shorter).
  // A body that breaks off is resumed from the byte it reached (Range of the rest, If-Match
  // the ETag of the first answer); an object that changed meanwhile is a Corruption.
  // `resumed`, when given, is incremented for each request for the rest.
  Result<size_t> GetRange(const std::string& bucket, const std::string& key, uint64_t offset, size_t n, char* dst,
                          std::atomic<uint64_t>* resumed = nullptr) const;
  Result<s3xml::ListObjectsV2Result> ListObjectsV2Page(const std::string& bucket,
                                                       const std::string& prefix,
                                                       const std::string& continuation_token,
                                                       int max_keys = 1000) const;
  // Every page, concatenated.
  Result<std::vector<s3xml::ObjectEntry>> ListObjectsV2(const std::string& bucket,
                                                        const std::string& prefix) const;
  Status DeleteObject(const std::string& bucket, const std::string& key) const;
  // Batches of 1000; any per-key error fails the call (naming the key and code).
  Status DeleteObjects(const std::string& bucket, const std::vector<std::string>& keys) const;

  Result<std::string> CreateMultipartUpload(const std::string& bucket, const std::string& key) const;
  // Returns the part's ETag (verified to equal `md5`).
  Result<std::string> UploadPart(const std::string& bucket, const std::string& key,
                                 const std::string& upload_id, int part_number,
                                 std::string_view data, const Md5Digest& md5) const;
  // Returns the final ETag; verifies it is md5(part md5s)-N when the server reports one.
  Result<std::string> CompleteMultipartUpload(const std::string& bucket, const std::string& key,
                                              const std::string& upload_id,
                                              const std::vector<std::string>& part_etags,
                                              const std::vector<Md5Digest>& part_md5s) const;
  // Runs even when Options::cancel is set (cleanup after a cancelled upload).
  Status AbortMultipartUpload(const std::string& bucket, const std::string& key,
                              const std::string& upload_id) const;
  Result<s3xml::ListMultipartUploadsResult> ListMultipartUploads(const std::string& bucket,
                                                                 const std::string& prefix) const;

 private:
  struct Endpoint {
    std::string scheme, host, base_path;  // host includes ":port" when given
  };
  Result<S3Response> CallWith(std::string_view op, const S3Request& req, const Options& o) const;
  // `partial`, when given, receives the answer so far also when the attempt fails (the body
  // bytes that reached the sink, the headers).
  Result<S3Response> Attempt(std::string_view op, const S3Request& req, const Options& o,
                             S3Response* partial = nullptr) const;
  Status ErrorFor(std::string_view op, const S3Request& req, const S3Response& resp) const;
  std::string Context(std::string_view op, const S3Request& req) const;
  std::string PathFor(const S3Request& req) const;  // decoded path as signed
  std::string HostFor(const S3Request& req) const;

  AwsConfig config_;
  Options options_;
  Options cleanup_options_;  // options_ without cancel
  Endpoint endpoint_;
};

// Multipart ETag as S3 computes it: hex(md5(md5_1 || ... || md5_n)) + "-n".
std::string MultipartEtag(const std::vector<Md5Digest>& part_md5s);

}  // namespace tb::storage
