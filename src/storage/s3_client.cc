#include "storage/s3_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "storage/curl_pool.h"
#include "storage/retry.h"

namespace tb::storage {
namespace {

constexpr size_t kMaxErrorBody = 1 << 20;
constexpr size_t kMaxDeleteBatch = 1000;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Unquote(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}

// Per-request state shared with the curl callbacks.
struct Transfer {
  CURL* easy = nullptr;
  const S3Request* req = nullptr;
  S3Response* resp = nullptr;
  size_t body_pos = 0;
  bool sink_overflow = false;
};

size_t ReadBody(char* dst, size_t size, size_t nitems, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = std::min(size * nitems, t->req->body.size() - t->body_pos);
  std::memcpy(dst, t->req->body.data() + t->body_pos, n);
  t->body_pos += n;
  return n;
}

int SeekBody(void* user, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset < 0 || static_cast<size_t>(offset) > t->req->body.size()) {
    return CURL_SEEKFUNC_FAIL;
  }
  t->body_pos = static_cast<size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

size_t WriteBody(char* src, size_t size, size_t nmemb, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * nmemb;
  long code = 0;
  curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
  if (t->req->sink && code >= 200 && code < 300) {
    if (t->resp->sink_bytes + n > t->req->sink_cap) {
      t->sink_overflow = true;
      return 0;  // aborts the transfer
    }
    std::memcpy(t->req->sink + t->resp->sink_bytes, src, n);
    t->resp->sink_bytes += n;
    return n;
  }
  if (t->req->sink || code < 200 || code >= 300) {  // error body: keep a bounded prefix
    size_t keep = std::min(n, kMaxErrorBody - std::min(kMaxErrorBody, t->resp->body.size()));
    t->resp->body.append(src, keep);
    return n;
  }
  t->resp->body.append(src, n);
  return n;
}

size_t OnHeader(char* buf, size_t size, size_t nitems, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * nitems;
  std::string_view line(buf, n);
  if (line.starts_with("HTTP/")) {
    t->resp->headers.clear();  // a new response (after 100 Continue or a retry)
    return n;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front()))) value.remove_prefix(1);
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) value.remove_suffix(1);
  t->resp->headers[Lower(line.substr(0, colon))] = std::string(value);
  return n;
}


bool RetryableHttp(long status, const std::string& code) {
  return status == 500 || status == 502 || status == 503 || status == 504 || status == 429 ||
         code == "SlowDown" || code == "RequestTimeout" || code == "InternalError";
}

bool RetryableCurl(CURLcode c) {
  switch (c) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_WEIRD_SERVER_REPLY:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::string S3Response::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

std::string MultipartEtag(const std::vector<Md5Digest>& part_md5s) {
  Md5 m;
  for (const auto& d : part_md5s) m.Update(d.data(), d.size());
  return ToHex(m.Finish()) + "-" + std::to_string(part_md5s.size());
}

Result<std::shared_ptr<S3Client>> S3Client::Create(const Options& options) {
  TB_ASSIGN_OR_RETURN(AwsConfig cfg, ResolveAwsConfig(options));
  return std::make_shared<S3Client>(std::move(cfg), options);
}

S3Client::S3Client(AwsConfig config, const Options& options)
    : config_(std::move(config)), options_(options), cleanup_options_(options) {
  cleanup_options_.cancel = nullptr;
  // Cleanup (aborting a multipart upload) has its own retry budget: an upload that failed
  // because the endpoint went away must still be aborted once it is back (~0.2+0.4+...+10 s).
  cleanup_options_.max_retries = std::max(options.max_retries, 7);
  std::string_view url = config_.endpoint_url;
  size_t sep = url.find("://");
  endpoint_.scheme = std::string(url.substr(0, sep));
  std::string_view rest = url.substr(sep + 3);
  size_t slash = rest.find('/');
  endpoint_.host = std::string(rest.substr(0, slash));
  if (slash != std::string_view::npos) endpoint_.base_path = std::string(rest.substr(slash));
  while (!endpoint_.base_path.empty() && endpoint_.base_path.back() == '/') endpoint_.base_path.pop_back();
}

std::string S3Client::Uri(std::string_view bucket, std::string_view key) {
  std::string out = "s3://" + std::string(bucket);
  if (!key.empty()) out += "/" + std::string(key);
  return out;
}

std::string S3Client::PathFor(const S3Request& req) const {
  std::string path = endpoint_.base_path;
  if (!req.bucket.empty() && !options_.virtual_hosted) path += "/" + req.bucket;
  if (!req.key.empty()) path += "/" + req.key;
  if (path.empty()) path = "/";
  return path;
}

std::string S3Client::HostFor(const S3Request& req) const {
  if (options_.virtual_hosted && !req.bucket.empty()) return req.bucket + "." + endpoint_.host;
  return endpoint_.host;
}

std::string S3Client::Url(const S3Request& req) const {
  std::string url = endpoint_.scheme + "://" + HostFor(req) +
                    sigv4::CanonicalUri(PathFor(req), /*normalize_path=*/false);
  std::string q = sigv4::CanonicalQueryString(req.query);
  if (!q.empty()) url += "?" + q;
  return url;
}

std::string S3Client::Context(std::string_view op, const S3Request& req) const {
  return "S3 " + std::string(op) + " " + Uri(req.bucket, req.key) + " (endpoint " +
         config_.endpoint_url + ")";
}

Status S3Client::ErrorFor(std::string_view op, const S3Request& req, const S3Response& resp) const {
  std::string code, message, request_id = resp.Header("x-amz-request-id");
  if (!resp.body.empty()) {
    auto doc = s3xml::ParseError(resp.body);
    if (doc.ok()) {
      code = doc->code;
      message = doc->message;
      if (!doc->request_id.empty()) request_id = doc->request_id;
    }
  }
  if (code.empty()) {  // HEAD responses have no body
    switch (resp.http_status) {
      case 404: code = req.key.empty() ? "NoSuchBucket" : "NotFound"; break;
      case 403: code = "Forbidden"; break;
      case 301: code = "PermanentRedirect"; break;
      default: code = "HTTP" + std::to_string(resp.http_status);
    }
  }
  std::string msg = Context(op, req) + ": HTTP " + std::to_string(resp.http_status) + " " + code;
  if (!message.empty()) msg += ": " + message;
  if (!request_id.empty()) msg += " (request id " + request_id + ")";
  if (resp.http_status == 404) return Status::NotFound(msg);
  if (resp.http_status == 401 || resp.http_status == 403) return Status::PermissionDenied(msg);
  return Status::Network(msg, RetryableHttp(resp.http_status, code));
}

Result<S3Response> S3Client::Attempt(std::string_view op, const S3Request& req, const Options& o,
                                     S3Response* partial) const {
  std::string path = PathFor(req);
  std::string host = HostFor(req);
  sigv4::Request sreq;
  sreq.method = req.method;
  sreq.path = path;
  sreq.query = req.query;
  sreq.headers = req.headers;
  sreq.headers.emplace_back("Host", host);
  sreq.payload_hash = req.unsigned_payload ? sigv4::kUnsignedPayload : sigv4::Sha256Hex(req.body);
  sigv4::SignOptions so;
  so.region = config_.region;
  so.service = "s3";
  so.normalize_path = false;
  so.add_content_sha256 = true;
  sigv4::Credentials creds{config_.access_key_id, config_.secret_access_key, config_.session_token};
  sigv4::Signed sig = sigv4::SignHeaders(sreq, creds, so);

  curl_slist* hdrs = nullptr;
  auto add = [&hdrs](const std::string& name, const std::string& value) {
    hdrs = curl_slist_append(hdrs, (name + ": " + value).c_str());
  };
  for (const auto& [n, v] : sreq.headers) add(n, v);
  for (const auto& [n, v] : sig.added_headers) add(n, v);
  hdrs = curl_slist_append(hdrs, "Expect:");  // no 100-continue round trip
  if (req.method == "POST" || req.method == "PUT") {
    bool has_type = false;
    for (const auto& [n, v] : req.headers) has_type |= Lower(n) == "content-type";
    if (!has_type) add("Content-Type", req.method == "POST" ? "application/xml" : "application/octet-stream");
  }

  CurlLease lease;
  CURL* easy = static_cast<CURL*>(lease.easy());
  S3Response resp;
  Transfer t{easy, &req, &resp};
  std::string url = Url(req);
  char errbuf[CURL_ERROR_SIZE] = {0};
  SetCommonOptions(lease, url, options_, errbuf);
  curl_easy_setopt(easy, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(easy, CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024);
  curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &t);
  if (req.method == "HEAD") {
    curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
  } else if (req.method == "PUT") {
    curl_easy_setopt(easy, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(easy, CURLOPT_READFUNCTION, ReadBody);
    curl_easy_setopt(easy, CURLOPT_READDATA, &t);
    curl_easy_setopt(easy, CURLOPT_SEEKFUNCTION, SeekBody);
    curl_easy_setopt(easy, CURLOPT_SEEKDATA, &t);
    curl_easy_setopt(easy, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  } else if (req.method == "POST") {
    curl_easy_setopt(easy, CURLOPT_POST, 1L);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, req.body.data());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  } else if (req.method != "GET") {
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  }
  CURLcode rc = static_cast<CURLcode>(PerformOnMulti(lease, o));
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &resp.http_status);
  // Drop pointers into this frame before the handle goes back to the pool.
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, nullptr);
  curl_slist_free_all(hdrs);
  if (partial) *partial = resp;

  if (rc == CURLE_ABORTED_BY_CALLBACK && IsCancelled(o)) {
    return Status::Cancelled(Context(op, req) + ": cancelled");
  }
  if (t.sink_overflow) {
    return Status::Corruption(Context(op, req) + ": response body larger than the " +
                              std::to_string(req.sink_cap) + " bytes requested");
  }
  if (rc != CURLE_OK) {
    std::string detail = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    if (rc == CURLE_OPERATION_TIMEDOUT) detail = "timed out (" + detail + ")";
    return Status::Network(Context(op, req) + ": " + detail, RetryableCurl(rc));
  }
  if (resp.http_status < 200 || resp.http_status >= 300) return ErrorFor(op, req, resp);
  return resp;
}

Result<S3Response> S3Client::CallWith(std::string_view op, const S3Request& req, const Options& o) const {
  for (int attempt = 1;; ++attempt) {
    if (IsCancelled(o)) return Status::Cancelled(Context(op, req) + ": cancelled");
    auto r = Attempt(op, req, o);
    if (r.ok() || !r.status().retryable() || attempt > o.max_retries) {
      if (!r.ok() && attempt > 1) {
        return Status(r.status()).Prefix("after " + std::to_string(attempt) + " attempts");
      }
      return r;
    }
    if (!SleepUnlessCancelled(BackoffSeconds(attempt), o)) {
      return Status::Cancelled(Context(op, req) + ": cancelled");
    }
  }
}

Status S3Client::CreateBucket(const std::string& bucket) const {
  S3Request req;
  req.method = "PUT";
  req.bucket = bucket;
  std::string body;
  if (config_.region != "us-east-1") {
    body = "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
           "<LocationConstraint>" + s3xml::Escape(config_.region) +
           "</LocationConstraint></CreateBucketConfiguration>";
    req.body = body;
  }
  auto r = Call("CreateBucket", req);
  if (r.ok()) return Status::Ok();
  const std::string& m = r.status().message();
  if (m.find("BucketAlreadyOwnedByYou") != std::string::npos) return Status::Ok();
  if (m.find("BucketAlreadyExists") != std::string::npos) {
    // Exists: fine when we can use it.
    S3Request head;
    head.method = "HEAD";
    head.bucket = bucket;
    if (Call("HeadBucket", head).ok()) return Status::Ok();
  }
  return r.status();
}

Result<bool> S3Client::BucketExists(const std::string& bucket) const {
  // An empty listing rather than HEAD (same permission, s3:ListBucket), so that a refusal
  // carries S3's error code (SignatureDoesNotMatch, AccessDenied) in its body.
  S3Request req;
  req.bucket = bucket;
  req.query = {{"list-type", "2"}, {"max-keys", "0"}};
  auto r = Call("ListObjectsV2", req);
  if (r.ok()) return true;
  if (r.status().IsNotFound()) return false;
  return r.status();
}

Status S3Client::DeleteBucket(const std::string& bucket) const {
  S3Request req;
  req.method = "DELETE";
  req.bucket = bucket;
  return Call("DeleteBucket", req).status();
}

Result<HeadResult> S3Client::HeadObject(const std::string& bucket, const std::string& key) const {
  S3Request req;
  req.method = "HEAD";
  req.bucket = bucket;
  req.key = key;
  auto r = Call("HeadObject", req);
  if (!r.ok() && r.status().IsNotFound()) {
    // A HEAD response has no body to say which is missing: ask about the bucket.
    S3Request bucket_req;
    bucket_req.method = "HEAD";
    bucket_req.bucket = bucket;
    auto b = Call("HeadBucket", bucket_req);
    std::string code = !b.ok() && b.status().IsNotFound() ? "NoSuchBucket" : "NoSuchKey";
    std::string msg = r.status().message();
    size_t at = msg.find("HTTP 404 NotFound");
    if (at != std::string::npos) msg.replace(at, 17, "HTTP 404 " + code);
    return Status::NotFound(msg);
  }
  if (!r.ok()) return r.status();
  const S3Response& resp = *r;
  HeadResult h;
  std::string len = resp.Header("content-length");
  h.size_bytes = len.empty() ? 0 : std::stoull(len);
  h.etag = Unquote(resp.Header("etag"));
  return h;
}

Result<std::string> S3Client::PutObject(const std::string& bucket, const std::string& key,
                                        std::string_view data) const {
  Md5Digest md5 = Md5Of(data);
  S3Request req;
  req.method = "PUT";
  req.bucket = bucket;
  req.key = key;
  req.body = data;
  req.unsigned_payload = true;
  req.headers.emplace_back("Content-MD5", Base64(md5.data(), md5.size()));
  TB_ASSIGN_OR_RETURN(S3Response resp, Call("PutObject", req));
  std::string etag = Unquote(resp.Header("etag"));
  if (!etag.empty() && etag != ToHex(md5)) {
    return Status::Corruption(Context("PutObject", req) + ": ETag " + etag + " != md5 " + ToHex(md5));
  }
  return etag;
}

// A body that breaks off is resumed from the byte it reached (a Range of the rest, If-Match
// the first answer's ETag, so the rest comes from the same object); progress restores the
// retry budget, as in HttpStorage.
Result<size_t> S3Client::GetRange(const std::string& bucket, const std::string& key, uint64_t offset, size_t n,
                                  char* dst, std::atomic<uint64_t>* resumed) const {
  if (n == 0) return size_t{0};
  size_t got = 0;
  std::string etag;
  for (int attempt = 1;; ++attempt) {
    S3Request req;
    req.bucket = bucket;
    req.key = key;
    const uint64_t from = offset + got;
    req.headers.emplace_back("Range", "bytes=" + std::to_string(from) + "-" + std::to_string(offset + n - 1));
    if (!etag.empty()) req.headers.emplace_back("If-Match", etag);
    req.sink = dst + got;
    req.sink_cap = n - got;
    if (IsCancelled(options_)) return Status::Cancelled(Context("GetObject", req) + ": cancelled");
    S3Response partial;
    Result<S3Response> r = Attempt("GetObject", req, options_, &partial);
    if (r.ok()) {
      if (r->http_status != 206 && !(r->http_status == 200 && from == 0)) {
        return Status::Corruption(Context("GetObject", req) + ": expected 206 for a ranged read, got " +
                                  std::to_string(r->http_status));
      }
      return got + r->sink_bytes;
    }
    if (partial.http_status == 412 && !etag.empty()) {
      return Status::Corruption(Context("GetObject", req) +
                                ": the object changed while it was read (resuming at byte " + std::to_string(from) +
                                ", its ETag is no longer " + etag + ")");
    }
    if (partial.sink_bytes > 0) {  // part of the body arrived: the next attempt asks for the rest
      got += partial.sink_bytes;
      if (etag.empty()) etag = partial.Header("etag");
      if (resumed && r.status().retryable()) ++*resumed;
      attempt = 0;
    }
    if (!r.status().retryable() || attempt > options_.max_retries) {
      if (attempt > 1) return Status(r.status()).Prefix("after " + std::to_string(attempt) + " attempts");
      return r.status();
    }
    if (attempt > 0 && !SleepUnlessCancelled(BackoffSeconds(attempt), options_)) {
      return Status::Cancelled(Context("GetObject", req) + ": cancelled");
    }
  }
}

Result<s3xml::ListObjectsV2Result> S3Client::ListObjectsV2Page(const std::string& bucket,
                                                               const std::string& prefix,
                                                               const std::string& token,
                                                               int max_keys) const {
  S3Request req;
  req.bucket = bucket;
  req.query = {{"list-type", "2"}, {"max-keys", std::to_string(max_keys)}};
  if (!prefix.empty()) req.query.emplace_back("prefix", prefix);
  if (!token.empty()) req.query.emplace_back("continuation-token", token);
  TB_ASSIGN_OR_RETURN(S3Response resp, Call("ListObjectsV2", req));
  auto page = s3xml::ParseListObjectsV2(resp.body);
  if (!page.ok()) return page.status().Prefix(Context("ListObjectsV2", req));
  return page;
}

Result<std::vector<s3xml::ObjectEntry>> S3Client::ListObjectsV2(const std::string& bucket,
                                                                const std::string& prefix) const {
  std::vector<s3xml::ObjectEntry> all;
  std::string token;
  for (;;) {
    TB_ASSIGN_OR_RETURN(auto page, ListObjectsV2Page(bucket, prefix, token));
    for (auto& e : page.contents) all.push_back(std::move(e));
    if (!page.is_truncated) break;
    if (page.next_continuation_token == token) {
      return Status::Corruption("S3 ListObjectsV2 " + Uri(bucket, prefix) +
                                ": continuation token did not advance");
    }
    token = page.next_continuation_token;
  }
  return all;
}

Status S3Client::DeleteObject(const std::string& bucket, const std::string& key) const {
  S3Request req;
  req.method = "DELETE";
  req.bucket = bucket;
  req.key = key;
  return Call("DeleteObject", req).status();
}

Status S3Client::DeleteObjects(const std::string& bucket, const std::vector<std::string>& keys) const {
  for (size_t start = 0; start < keys.size(); start += kMaxDeleteBatch) {
    std::vector<std::string> batch(keys.begin() + start,
                                   keys.begin() + std::min(keys.size(), start + kMaxDeleteBatch));
    std::string body = s3xml::BuildDeleteObjects(batch);
    Md5Digest md5 = Md5Of(body);
    S3Request req;
    req.method = "POST";
    req.bucket = bucket;
    req.query = {{"delete", ""}};
    req.body = body;
    req.headers.emplace_back("Content-MD5", Base64(md5.data(), md5.size()));
    TB_ASSIGN_OR_RETURN(S3Response resp, Call("DeleteObjects", req));
    auto result = s3xml::ParseDeleteObjects(resp.body);
    if (!result.ok()) return result.status().Prefix(Context("DeleteObjects", req));
    if (!result->errors.empty()) {
      const auto& e = result->errors.front();
      return Status::Network(Context("DeleteObjects", req) + ": " + std::to_string(result->errors.size()) +
                                 " keys not deleted, first " + Uri(bucket, e.key) + ": " + e.code + " " + e.message,
                             false);
    }
  }
  return Status::Ok();
}

Result<std::string> S3Client::CreateMultipartUpload(const std::string& bucket,
                                                    const std::string& key) const {
  S3Request req;
  req.method = "POST";
  req.bucket = bucket;
  req.key = key;
  req.query = {{"uploads", ""}};
  req.headers.emplace_back("Content-Type", "application/octet-stream");
  TB_ASSIGN_OR_RETURN(S3Response resp, Call("CreateMultipartUpload", req));
  auto r = s3xml::ParseInitiateMultipartUpload(resp.body);
  if (!r.ok()) return r.status().Prefix(Context("CreateMultipartUpload", req));
  return r->upload_id;
}

Result<std::string> S3Client::UploadPart(const std::string& bucket, const std::string& key,
                                         const std::string& upload_id, int part_number,
                                         std::string_view data, const Md5Digest& md5) const {
  S3Request req;
  req.method = "PUT";
  req.bucket = bucket;
  req.key = key;
  req.query = {{"partNumber", std::to_string(part_number)}, {"uploadId", upload_id}};
  req.body = data;
  req.unsigned_payload = true;
  req.headers.emplace_back("Content-MD5", Base64(md5.data(), md5.size()));
  std::string op = "UploadPart " + std::to_string(part_number);
  TB_ASSIGN_OR_RETURN(S3Response resp, Call(op, req));
  std::string etag = Unquote(resp.Header("etag"));
  if (etag.empty()) return Status::Corruption(Context(op, req) + ": no ETag in response");
  if (etag != ToHex(md5)) {
    return Status::Corruption(Context(op, req) + ": ETag " + etag + " != md5 " + ToHex(md5));
  }
  return etag;
}

Result<std::string> S3Client::CompleteMultipartUpload(const std::string& bucket, const std::string& key,
                                                      const std::string& upload_id,
                                                      const std::vector<std::string>& part_etags,
                                                      const std::vector<Md5Digest>& part_md5s) const {
  std::string body = s3xml::BuildCompleteMultipartUpload(part_etags);
  S3Request req;
  req.method = "POST";
  req.bucket = bucket;
  req.key = key;
  req.query = {{"uploadId", upload_id}};
  req.body = body;
  TB_ASSIGN_OR_RETURN(S3Response resp, Call("CompleteMultipartUpload", req));
  auto r = s3xml::ParseCompleteMultipartUpload(resp.body);
  if (!r.ok()) {
    return r.status().Prefix(Context("CompleteMultipartUpload", req) + " [" + resp.body.substr(0, 200) + "]");
  }
  if (r->etag.empty()) {  // Ceph RGW 16 answers <ETag></ETag>: ask for it
    TB_ASSIGN_OR_RETURN(HeadResult head, HeadObject(bucket, key));
    r->etag = head.etag;
  }
  std::string want = MultipartEtag(part_md5s);
  if (r->etag != want) {
    return Status::Corruption(Context("CompleteMultipartUpload", req) + ": ETag " + r->etag +
                              " != expected " + want);
  }
  return r->etag;
}

Status S3Client::AbortMultipartUpload(const std::string& bucket, const std::string& key,
                                      const std::string& upload_id) const {
  S3Request req;
  req.method = "DELETE";
  req.bucket = bucket;
  req.key = key;
  req.query = {{"uploadId", upload_id}};
  auto r = CallWith("AbortMultipartUpload", req, cleanup_options_);
  if (!r.ok() && r.status().IsNotFound()) return Status::Ok();  // already gone
  return r.status();
}

Result<s3xml::ListMultipartUploadsResult> S3Client::ListMultipartUploads(const std::string& bucket,
                                                                         const std::string& prefix) const {
  S3Request req;
  req.bucket = bucket;
  req.query = {{"uploads", ""}};
  if (!prefix.empty()) req.query.emplace_back("prefix", prefix);
  TB_ASSIGN_OR_RETURN(S3Response resp, Call("ListMultipartUploads", req));
  auto r = s3xml::ParseListMultipartUploads(resp.body);
  if (!r.ok()) return r.status().Prefix(Context("ListMultipartUploads", req));
  return r;
}

}  // namespace tb::storage
