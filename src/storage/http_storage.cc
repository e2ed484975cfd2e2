// Read-only HTTP(S) origin backend over libcurl: streaming GET readers that retry with
// exponential backoff + jitter and resume with Range requests, HEAD for Stat.
//
// A reader drives its own multi handle from Read() (no helper thread): the write callback
// copies straight into the caller's buffer and parks any excess in a small overflow buffer;
// when that is full the transfer is paused until the caller drains it.
#include <curl/curl.h>

#include <algorithm>
#include <cstring>

#include "storage/curl_pool.h"
#include "storage/retry.h"
#include "storage/storage.h"
#include "util/redact.h"

namespace tb::storage {

namespace {

constexpr size_t kOverflowCap = 1 << 20;
constexpr double kRetryAfterCapS = 60;

bool Cancelled(const Options& o) { return IsCancelled(o); }

// URLs in messages never carry credentials.
std::string RedactUserinfo(const std::string& url) { return RedactUrlUserinfo(url); }

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return std::string(s);
}

bool HeaderIs(std::string_view line, std::string_view name, std::string* value) {
  if (line.size() <= name.size() || line[name.size()] != ':') return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(line[i])) != name[i]) return false;
  }
  *value = Trim(line.substr(name.size() + 1));
  return true;
}

std::string Unquote(std::string etag) {
  if (etag.rfind("W/", 0) == 0) etag = etag.substr(2);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
  return etag;
}

// Headers of the final response of one attempt (reset at each status line).
struct ResponseHeaders {
  std::string etag, content_range, accept_ranges;
  void Reset() { *this = ResponseHeaders(); }
};

size_t HeaderCallback(char* data, size_t size, size_t n, void* user) {
  auto* h = static_cast<ResponseHeaders*>(user);
  std::string_view line(data, size * n);
  std::string v;
  if (line.rfind("HTTP/", 0) == 0) {
    h->Reset();
  } else if (HeaderIs(line, "etag", &v)) {
    h->etag = Unquote(v);
  } else if (HeaderIs(line, "content-range", &v)) {
    h->content_range = v;
  } else if (HeaderIs(line, "accept-ranges", &v)) {
    h->accept_ranges = v;
  }
  return size * n;
}

// "bytes 100-199/1000" -> start 100, total 1000 (total -1 when "*").
bool ParseContentRange(const std::string& v, uint64_t* start, int64_t* total) {
  unsigned long long s = 0, e = 0;
  char tot[32] = {0};
  if (std::sscanf(v.c_str(), "bytes %llu-%llu/%31s", &s, &e, tot) != 3) return false;
  *start = s;
  *total = tot[0] == '*' ? -1 : std::atoll(tot);
  return true;
}

std::string HttpReason(long code) {
  switch (code) {
    case 400: return " Bad Request";
    case 401: return " Unauthorized";
    case 403: return " Forbidden";
    case 404: return " Not Found";
    case 408: return " Request Timeout";
    case 410: return " Gone";
    case 416: return " Range Not Satisfiable";
    case 429: return " Too Many Requests";
    case 500: return " Internal Server Error";
    case 502: return " Bad Gateway";
    case 503: return " Service Unavailable";
    case 504: return " Gateway Timeout";
    default: return "";
  }
}

// Status for a non-2xx final response.
Status HttpError(const std::string& what, long code) {
  std::string msg = what + ": HTTP " + std::to_string(code) + HttpReason(code);
  if (code == 404 || code == 410) return Status::NotFound(msg);
  if (code == 401 || code == 403) return Status::PermissionDenied(msg);
  if (code == 416) return Status::InvalidArgument(msg);
  bool retryable = code == 408 || code == 429 || code >= 500;
  return Status::Network(msg, retryable);
}

Status CurlError(const std::string& what, CURLcode rc, const char* errbuf) {
  std::string msg = what + ": " + (rc == CURLE_OPERATION_TIMEDOUT ? "timed out" : curl_easy_strerror(rc));
  if (errbuf && errbuf[0]) msg += std::string(" (") + Trim(errbuf) + ")";
  bool retryable = false;
  switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
      retryable = true;
      break;
    default:
      break;
  }
  return Status::Network(msg, retryable);
}

// The same status with its message replaced (code kept; retries exhausted -> not retryable).
Status WithMessage(const Status& s, std::string msg) {
  switch (s.code()) {
    case Code::kNotFound: return Status::NotFound(std::move(msg));
    case Code::kPermissionDenied: return Status::PermissionDenied(std::move(msg));
    case Code::kInvalidArgument: return Status::InvalidArgument(std::move(msg));
    case Code::kCorruption: return Status::Corruption(std::move(msg));
    case Code::kCancelled: return Status::Cancelled(std::move(msg));
    default: return Status::Network(std::move(msg), /*retryable=*/false);
  }
}

// "... (attempt 3/6)": every final HTTP error says how often it was tried.
Status WithAttempts(const Status& err, int attempt, const Options& o) {
  return WithMessage(err, err.message() + " (attempt " + std::to_string(attempt) + "/" +
                              std::to_string(o.max_retries + 1) + ")");
}

// The shared setup plus what an HTTP origin adds: redirects are followed (at most 10).
void SetHttpOptions(const CurlLease& lease, const std::string& url, const Options& o, char* errbuf) {
  SetCommonOptions(lease, url, o, errbuf);
  CURL* easy = static_cast<CURL*>(lease.easy());
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(easy, CURLOPT_MAXREDIRS, 10L);
}

class HttpReader : public Reader {
 public:
  HttpReader(std::string url, const Options& options, uint64_t offset, uint64_t end)
      : url_(std::move(url)), options_(options), first_(offset), next_(offset), end_(end) {}
  ~HttpReader() override { StopAttempt(); }
  uint64_t resumed() const override { return resumed_; }

  // Starts the first request and waits for a good response (or a final error).
  Status Start() { return Pump(/*until_body=*/true); }

  Result<size_t> Read(char* buf, size_t n) override {
    if (n == 0) return size_t{0};  // (the write callback never passes end_)
    dest_ = buf;
    dest_cap_ = n;
    dest_len_ = 0;
    DrainOverflow();
    if (dest_len_ == 0) {
      Status s = Pump(/*until_body=*/false);
      if (!s.ok()) {
        dest_ = nullptr;
        return s;
      }
    }
    dest_ = nullptr;
    return dest_len_;
  }

 private:
  std::string What() const { return "GET " + RedactUserinfo(url_); }

  void DrainOverflow() {
    size_t avail = overflow_.size() - overflow_pos_;
    size_t k = std::min(avail, dest_cap_ - dest_len_);
    if (k == 0) return;
    std::memcpy(dest_ + dest_len_, overflow_.data() + overflow_pos_, k);
    dest_len_ += k;
    overflow_pos_ += k;
    if (overflow_pos_ == overflow_.size()) {
      overflow_.clear();
      overflow_pos_ = 0;
    }
  }

  bool AtEnd() const { return end_ != kToEnd && next_ >= end_; }

  void StartAttempt() {
    if (attempt_ > 0 && next_ > first_) ++resumed_;  // a request for the rest
    ++attempt_;
    progress_in_attempt_ = false;
    body_checked_ = false;
    stream_pos_ = 0;
    attempt_error_ = Status::Ok();
    headers_.Reset();
    lease_ = std::make_unique<CurlLease>();
    CURL* easy = static_cast<CURL*>(lease_->easy());
    SetHttpOptions(*lease_, url_, options_, errbuf_);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, HeaderCallback);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, &headers_);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, WriteCallback);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, this);
    range_requested_ = !force_full_ && (next_ > 0 || end_ != kToEnd);
    if (range_requested_) {
      range_ = std::to_string(next_) + "-" + (end_ == kToEnd ? "" : std::to_string(end_ - 1));
      curl_easy_setopt(easy, CURLOPT_RANGE, range_.c_str());
    }
    curl_multi_add_handle(static_cast<CURLM*>(lease_->multi()), easy);
    running_ = true;
    paused_ = false;
  }

  void StopAttempt() {
    if (!lease_) return;
    CountTransfer(*lease_);
    curl_multi_remove_handle(static_cast<CURLM*>(lease_->multi()), static_cast<CURL*>(lease_->easy()));
    lease_.reset();
    running_ = false;
  }

  // Checks the response once, before its first body byte (or at completion for empty
  // bodies). Sets attempt_error_ and returns false to abort the attempt.
  bool CheckResponse() {
    body_checked_ = true;
    long code = 0;
    curl_easy_getinfo(static_cast<CURL*>(lease_->easy()), CURLINFO_RESPONSE_CODE, &code);
    if (code != 200 && code != 206) {
      attempt_error_ = HttpError(What(), code);
      if (code == 429 || code == 503) {
        curl_off_t after = -1;
        curl_easy_getinfo(static_cast<CURL*>(lease_->easy()), CURLINFO_RETRY_AFTER, &after);
        retry_after_s_ = after > 0 ? std::min<double>(static_cast<double>(after), kRetryAfterCapS) : 0;
      }
      return false;
    }
    if (!etag_.empty() && !headers_.etag.empty() && headers_.etag != etag_) {
      attempt_error_ = Status::Corruption(What() + ": object changed while being read (ETag " + etag_ + " -> " +
                                          headers_.etag + ")");
      return false;
    }
    if (etag_.empty()) etag_ = headers_.etag;
    if (code == 200) {
      stream_pos_ = 0;  // whole object: skip what we already have
      return true;
    }
    uint64_t start = 0;
    int64_t total = -1;
    if (!range_requested_ || !ParseContentRange(headers_.content_range, &start, &total) || start != next_) {
      // The server answered a different range than asked: start over without Range.
      attempt_error_ = Status::Network(What() + ": server answered range '" + headers_.content_range +
                                       "' to a request for bytes=" + range_);
      force_full_ = true;
      return false;
    }
    stream_pos_ = start;
    return true;
  }

  static size_t WriteCallback(char* data, size_t size, size_t nmemb, void* user) {
    auto* r = static_cast<HttpReader*>(user);
    size_t n = size * nmemb;
    if (!r->body_checked_ && !r->CheckResponse()) return 0;  // abort this attempt
    if (!r->attempt_error_.ok()) return 0;
    // Absolute offsets: the chunk covers [stream_pos_, stream_pos_ + n).
    uint64_t chunk_start = r->stream_pos_;
    r->stream_pos_ += n;
    if (r->stream_pos_ <= r->next_) return n;  // before what we need (restarted without Range)
    size_t skip = static_cast<size_t>(r->next_ > chunk_start ? r->next_ - chunk_start : 0);
    size_t useful = n - skip;
    if (r->end_ != kToEnd) useful = static_cast<size_t>(std::min<uint64_t>(useful, r->end_ - r->next_));
    const char* p = data + skip;
    size_t room = r->dest_ ? r->dest_cap_ - r->dest_len_ : 0;
    if (room == 0 && r->overflow_.size() - r->overflow_pos_ >= kOverflowCap) {
      r->stream_pos_ = chunk_start;  // curl re-delivers this chunk after unpause
      r->paused_ = true;
      return CURL_WRITEFUNC_PAUSE;
    }
    size_t k = std::min(room, useful);
    if (k) {
      std::memcpy(r->dest_ + r->dest_len_, p, k);
      r->dest_len_ += k;
    }
    if (useful > k) r->overflow_.append(p + k, useful - k);
    r->next_ += useful;
    if (useful) r->progress_in_attempt_ = true;
    if (r->AtEnd()) {
      r->got_all_ = true;
      return n == skip + useful ? n : 0;  // stop reading once the wanted range is complete
    }
    return n;
  }

  // Drives the transfer until data is available to the caller (or, with until_body, until a
  // good response has started), retrying failed attempts. OK with nothing delivered = EOF.
  Status Pump(bool until_body) {
    for (;;) {
      if (until_body && body_checked_ && attempt_error_.ok() && running_) return Status::Ok();
      if (!until_body) {
        DrainOverflow();
        if (dest_len_ == dest_cap_) return Status::Ok();
      }
      if (finished_) return Status::Ok();
      if (Cancelled(options_)) return Status::Cancelled(What() + ": cancelled");
      if (!running_) {
        if (attempt_ > 0) {
          double delay = retry_after_s_ > 0 ? retry_after_s_ : BackoffSeconds(attempt_);
          retry_after_s_ = 0;
          if (!SleepUnlessCancelled(delay, options_)) return Status::Cancelled(What() + ": cancelled");
        }
        StartAttempt();
      }
      if (paused_ && dest_ && dest_len_ < dest_cap_) {
        paused_ = false;
        curl_easy_pause(static_cast<CURL*>(lease_->easy()), CURLPAUSE_CONT);  // may deliver now
        continue;
      }
      CURLM* multi = static_cast<CURLM*>(lease_->multi());
      size_t before = dest_len_;
      int still = 0;
      curl_multi_perform(multi, &still);
      int left = 0;
      bool done = false;
      CURLcode rc = CURLE_OK;
      while (CURLMsg* m = curl_multi_info_read(multi, &left)) {
        if (m->msg == CURLMSG_DONE) {
          done = true;
          rc = m->data.result;
        }
      }
      if (!done) {
        // Keep filling the caller's buffer while data keeps arriving (fewer, larger reads);
        // hand over what we have once the socket runs dry.
        if (!until_body && dest_len_ > before) continue;
        if (!until_body && dest_len_ > 0) return Status::Ok();
        if (!(until_body && body_checked_)) curl_multi_poll(multi, nullptr, 0, 200, nullptr);
        continue;
      }
      // The attempt is over.
      if (rc == CURLE_OK && !body_checked_) CheckResponse();  // empty body
      StopAttempt();
      Status err = attempt_error_;
      if (err.ok() && got_all_) rc = CURLE_OK;  // we stopped it ourselves
      if (err.ok() && rc != CURLE_OK) err = CurlError(What(), rc, errbuf_);
      if (err.ok() && end_ != kToEnd && next_ < end_) {
        err = Status::Network(What() + ": body ended at byte " + std::to_string(next_) + ", expected " +
                              std::to_string(end_));
      }
      if (err.ok()) {
        finished_ = true;
        if (!until_body) continue;
        return Status::Ok();
      }
      if (progress_in_attempt_) attempt_ = 1;  // progress resets the budget
      if (!err.retryable() || attempt_ > options_.max_retries) return WithAttempts(err, attempt_, options_);
    }
  }

  std::string url_;
  Options options_;
  uint64_t first_;        // absolute offset of the first byte wanted
  uint64_t next_;         // absolute offset of the next byte wanted from the server
  uint64_t end_;          // absolute end (exclusive) or kToEnd
  uint64_t stream_pos_ = 0;  // absolute offset of the next byte from the server
  std::string etag_;
  std::unique_ptr<CurlLease> lease_;
  ResponseHeaders headers_;
  char errbuf_[CURL_ERROR_SIZE] = {0};
  std::string range_;
  bool range_requested_ = false, force_full_ = false;
  bool running_ = false, paused_ = false, finished_ = false, got_all_ = false;
  bool body_checked_ = false, progress_in_attempt_ = false;
  int attempt_ = 0;
  uint64_t resumed_ = 0;
  double retry_after_s_ = 0;
  Status attempt_error_;
  char* dest_ = nullptr;
  size_t dest_cap_ = 0, dest_len_ = 0;
  std::string overflow_;
  size_t overflow_pos_ = 0;
};

class HttpStorage : public Storage {
 public:
  HttpStorage(std::string base_url, const Options& options) : base_(std::move(base_url)), options_(options) {}

  std::string Describe(std::string_view key) const override { return RedactUserinfo(Url(key)); }
  Capabilities caps() const override {
    Capabilities c;
    c.ranged_reads = true;
    return c;
  }

  Result<ObjectInfo> Stat(std::string_view key) override {
    std::string url = Url(key);
    std::string what = "HEAD " + RedactUserinfo(url);
    for (int attempt = 1;; ++attempt) {
      CurlLease lease;
      CURL* easy = static_cast<CURL*>(lease.easy());
      char errbuf[CURL_ERROR_SIZE];
      ResponseHeaders headers;
      SetHttpOptions(lease, url, options_, errbuf);
      curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
      curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, HeaderCallback);
      curl_easy_setopt(easy, CURLOPT_HEADERDATA, &headers);
      CURLcode rc = static_cast<CURLcode>(PerformOnMulti(lease, options_));
      Status err;
      long code = 0;
      if (rc == CURLE_ABORTED_BY_CALLBACK) return Status::Cancelled(what + ": cancelled");
      if (rc != CURLE_OK) {
        err = CurlError(what, rc, errbuf);
      } else {
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
        if (code != 200) err = HttpError(what, code);
      }
      if (err.ok()) {
        curl_off_t len = -1;
        curl_easy_getinfo(easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
        if (len < 0) return Status::Unsupported(what + ": no Content-Length in the response");
        ObjectInfo info{std::string(key), static_cast<uint64_t>(len), headers.etag};
        info.ranged_reads = headers.accept_ranges == "bytes";
        return info;
      }
      if (!err.retryable() || attempt > options_.max_retries) return WithAttempts(err, attempt, options_);
      double delay = BackoffSeconds(attempt);
      if (code == 429 || code == 503) {
        curl_off_t after = -1;
        curl_easy_getinfo(easy, CURLINFO_RETRY_AFTER, &after);
        if (after > 0) delay = std::min<double>(static_cast<double>(after), kRetryAfterCapS);
      }
      if (!SleepUnlessCancelled(delay, options_)) return Status::Cancelled(what + ": cancelled");
    }
  }

  Result<std::unique_ptr<Reader>> OpenRead(std::string_view key, uint64_t offset, uint64_t length) override {
    if (length == 0) return std::unique_ptr<Reader>(new EmptyReader());
    uint64_t end = length == kToEnd ? kToEnd : offset + length;
    auto reader = std::make_unique<HttpReader>(Url(key), options_, offset, end);
    TB_RETURN_IF_ERROR(reader->Start());
    return std::unique_ptr<Reader>(std::move(reader));
  }

  Result<std::unique_ptr<Writer>> OpenWrite(std::string_view key, uint64_t) override {
    return Status::Unsupported("HTTP origin is read-only: cannot write " + Describe(key));
  }
  Result<std::vector<ObjectInfo>> List(std::string_view prefix) override {
    return Status::Unsupported("HTTP origin cannot be listed: " + Describe(prefix) +
                               " (copy single objects, or use a path or s3:// tree)");
  }
  Status Delete(std::string_view key) override {
    return Status::Unsupported("HTTP origin is read-only: cannot delete " + Describe(key));
  }

 private:
  struct EmptyReader : Reader {
    Result<size_t> Read(char*, size_t) override { return size_t{0}; }
  };

  std::string Url(std::string_view key) const {
    if (key.empty()) return base_;
    return base_ + "/" + UrlEncode(key, /*keep_slash=*/true);
  }

  std::string base_;
  Options options_;
};

}  // namespace

std::unique_ptr<Storage> NewHttpStorage(std::string base_url, const Options& options) {
  return std::make_unique<HttpStorage>(std::move(base_url), options);
}

}  // namespace tb::storage
