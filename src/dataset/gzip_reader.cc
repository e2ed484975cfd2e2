#include "dataset/gzip_reader.h"

#include <isa-l/igzip_lib.h>

#include <algorithm>
#include <cstring>

namespace tb::dataset {

namespace {
constexpr size_t kInBytes = 1 << 20;

const char* InflateError(int rc) {
  switch (rc) {
    case ISAL_INVALID_BLOCK: return "invalid deflate block";
    case ISAL_INVALID_SYMBOL: return "invalid deflate symbol";
    case ISAL_INVALID_LOOKBACK: return "invalid back-reference distance";
    case ISAL_INVALID_WRAPPER: return "invalid gzip header";
    case ISAL_UNSUPPORTED_METHOD: return "unsupported compression method";
    case ISAL_INCORRECT_CHECKSUM: return "CRC-32 or length mismatch (corrupt data)";
    case ISAL_NEED_DICT: return "preset dictionary required";
    default: return "inflate error";
  }
}
}  // namespace

struct GzipReader::State {
  inflate_state s;
};

bool LooksLikeGzip(const char* p, size_t n) {
  return n >= 3 && static_cast<unsigned char>(p[0]) == 0x1f && static_cast<unsigned char>(p[1]) == 0x8b &&
         p[2] == 8;
}

GzipReader::GzipReader(ByteSource source, std::string name, std::string prefix)
    : st_(std::make_unique<State>()), source_(std::move(source)), name_(std::move(name)), in_(std::move(prefix)) {
  in_.reserve(std::max(kInBytes, in_.size()));
}

GzipReader::~GzipReader() = default;

Status GzipReader::Corrupt(const std::string& what) const {
  return Status::Corruption(name_ + ": gzip: " + what + " (member " + std::to_string(members_) +
                            ", compressed offset " + std::to_string(consumed_) + ")");
}

// Keeps the unconsumed bytes and appends more from the source; sets source_done_ at its end.
Status GzipReader::Refill() {
  if (source_done_) return Status::Ok();
  if (in_off_ > 0) {
    in_.erase(0, in_off_);
    in_off_ = 0;
  }
  size_t have = in_.size();
  in_.resize(std::max(kInBytes, have + 64));
  auto n = source_(in_.data() + have, in_.size() - have);
  if (!n.ok()) {
    in_.resize(have);
    return n.status();
  }
  in_.resize(have + *n);
  if (*n == 0) source_done_ = true;
  return Status::Ok();
}

Result<size_t> GzipReader::Read(char* buf, size_t n) {
  if (done_ || n == 0) return size_t{0};
  n = std::min<size_t>(n, UINT32_MAX);
  inflate_state& s = st_->s;
  for (;;) {
    if (!in_member_) {
      // Between members: another member, the end, or trailing zeros (tape padding).
      while (in_.size() - in_off_ < 3 && !source_done_) TB_RETURN_IF_ERROR(Refill());
      size_t avail = in_.size() - in_off_;
      if (avail == 0 && source_done_) {
        if (members_ == 0) return Status::Corruption(name_ + ": gzip: empty input");
        done_ = true;
        return size_t{0};
      }
      if (!LooksLikeGzip(in_.data() + in_off_, avail)) {
        if (members_ == 0) return Corrupt("not gzip data");
        // Only zero padding may follow the last member.
        for (;;) {
          const char* p = in_.data() + in_off_;
          size_t left = in_.size() - in_off_;
          if (std::any_of(p, p + left, [](char c) { return c != 0; })) return Corrupt("trailing garbage after the last member");
          consumed_ += left;
          in_off_ = in_.size();
          if (source_done_) break;
          TB_RETURN_IF_ERROR(Refill());
        }
        done_ = true;
        return size_t{0};
      }
      isal_inflate_init(&s);
      s.crc_flag = ISAL_GZIP;
      in_member_ = true;
      ++members_;
    }
    if (in_off_ == in_.size() && !source_done_) TB_RETURN_IF_ERROR(Refill());
    s.next_in = reinterpret_cast<uint8_t*>(in_.data() + in_off_);
    s.avail_in = static_cast<uint32_t>(in_.size() - in_off_);
    s.next_out = reinterpret_cast<uint8_t*>(buf);
    s.avail_out = static_cast<uint32_t>(n);
    uint32_t in_before = s.avail_in;
    int rc = isal_inflate(&s);
    size_t used = in_before - s.avail_in;
    in_off_ += used;
    consumed_ += used;
    if (rc < 0) return Corrupt(InflateError(rc));
    size_t produced = n - s.avail_out;
    if (s.block_state == ISAL_BLOCK_FINISH) in_member_ = false;
    if (produced > 0) return produced;
    if (in_member_ && used == 0) {
      if (s.avail_in == 0 && source_done_) return Corrupt("truncated stream (the source ended inside a member)");
      if (s.avail_in > 0) return Corrupt("inflate made no progress");
    }
  }
}

}  // namespace tb::dataset
