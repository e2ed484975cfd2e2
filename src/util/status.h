// Status and Result<T>: the one error type of tierbench.
//
// A Status carries a code, a human message that already names the object
// (path, URL, bucket/key) and the cause, and a retryable flag that retry loops
// branch on (never on message text). Build the context once, at the lowest
// layer that knows it; upper layers may Prefix() the stage name.
//
// Thread-safety: value types, no shared state.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace tb {

enum class Code {
  kOk = 0,
  kInvalidArgument,   // bad usage or config (exit 2)
  kNotFound,
  kAlreadyExists,
  kPermissionDenied,
  kCorruption,        // checksum mismatch, malformed file
  kIOError,           // local disk
  kNoSpace,
  kNetwork,           // connection, timeout, HTTP/S3 error
  kUnsupported,
  kCancelled,         // SIGINT/SIGTERM
  kInternal,
};

const char* CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg) { return Status(Code::kInvalidArgument, std::move(msg)); }
  static Status NotFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }
  static Status AlreadyExists(std::string msg) { return Status(Code::kAlreadyExists, std::move(msg)); }
  static Status PermissionDenied(std::string msg) { return Status(Code::kPermissionDenied, std::move(msg)); }
  static Status Corruption(std::string msg) { return Status(Code::kCorruption, std::move(msg)); }
  static Status IOError(std::string msg) { return Status(Code::kIOError, std::move(msg)); }
  static Status NoSpace(std::string msg) { return Status(Code::kNoSpace, std::move(msg)); }
  static Status Network(std::string msg, bool retryable = true) {
    Status s(Code::kNetwork, std::move(msg));
    s.retryable_ = retryable;
    return s;
  }
  static Status Unsupported(std::string msg) { return Status(Code::kUnsupported, std::move(msg)); }
  static Status Cancelled(std::string msg) { return Status(Code::kCancelled, std::move(msg)); }
  static Status Internal(std::string msg) { return Status(Code::kInternal, std::move(msg)); }
  // errno-based error for a local path: "open /x/y: No such file or directory".
  static Status FromErrno(int err, const std::string& what, const std::string& path);

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  bool retryable() const { return retryable_; }
  Status& SetRetryable(bool r) {
    retryable_ = r;
    return *this;
  }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }
  bool IsCancelled() const { return code_ == Code::kCancelled; }
  bool IsInvalidArgument() const { return code_ == Code::kInvalidArgument; }

  // Returns a copy whose message is "prefix: message".
  Status Prefix(const std::string& prefix) const;
  // "NotFound: message" (or "OK").
  std::string ToString() const;

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}
  Code code_ = Code::kOk;
  std::string message_;
  bool retryable_ = false;
};

// Result<T>: a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).ok());
  }
  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &std::get<T>(v_); }
  const T* operator->() const { return &std::get<T>(v_); }
  T& operator*() & { return std::get<T>(v_); }
  const T& operator*() const& { return std::get<T>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace tb

#define TB_CONCAT_INNER(a, b) a##b
#define TB_CONCAT(a, b) TB_CONCAT_INNER(a, b)

// Returns from the enclosing function if `expr` (a Status) is not OK.
#define TB_RETURN_IF_ERROR(expr)            \
  do {                                      \
    ::tb::Status tb_status_ = (expr);       \
    if (!tb_status_.ok()) return tb_status_; \
  } while (0)

// Declares `lhs` from a Result expression, or returns its Status.
#define TB_ASSIGN_OR_RETURN(lhs, expr) TB_ASSIGN_OR_RETURN_IMPL(TB_CONCAT(tb_result_, __LINE__), lhs, expr)
#define TB_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()
