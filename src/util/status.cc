#include "util/status.h"

#include <cstring>

namespace tb {

const char* CodeName(Code code) {
  switch (code) {
    case Code::kOk: return "OK";
    case Code::kInvalidArgument: return "InvalidArgument";
    case Code::kNotFound: return "NotFound";
    case Code::kAlreadyExists: return "AlreadyExists";
    case Code::kPermissionDenied: return "PermissionDenied";
    case Code::kCorruption: return "Corruption";
    case Code::kIOError: return "IOError";
    case Code::kNoSpace: return "NoSpace";
    case Code::kNetwork: return "Network";
    case Code::kUnsupported: return "Unsupported";
    case Code::kCancelled: return "Cancelled";
    case Code::kInternal: return "Internal";
  }
  return "Unknown";
}

Status Status::FromErrno(int err, const std::string& what, const std::string& path) {
  std::string msg = what + " " + path + ": " + std::strerror(err);
  switch (err) {
    case ENOENT: return NotFound(msg);
    case EEXIST: return AlreadyExists(msg);
    case EACCES:
    case EPERM:
    case EROFS: return PermissionDenied(msg);
    case ENOSPC:
    case EDQUOT:
    case EFBIG: return NoSpace(msg);
    case EINVAL: return InvalidArgument(msg);
    default: return IOError(msg);
  }
}

Status Status::Prefix(const std::string& prefix) const {
  if (ok()) return *this;
  Status s = *this;
  s.message_ = prefix + ": " + message_;
  return s;
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(CodeName(code_)) + ": " + message_;
}

}  // namespace tb
