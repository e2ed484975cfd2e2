#include "pipeline/cache_control.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "util/fs.h"
#include "util/progress.h"

namespace tb::pipeline {
namespace {

struct Magic {
  unsigned long magic;
  const char* name;
  bool block;      // block-device filesystem
  bool in_memory;  // the files live in memory
};
constexpr Magic kMagics[] = {
    {0xEF53, "ext4", true, false},        {0x58465342, "xfs", true, false},   {0x9123683E, "btrfs", true, false},
    {0x2FC12FC1, "zfs", false, false},    {0xF2F52010, "f2fs", true, false},  {0x4D44, "vfat", true, false},
    {0x794C7630, "overlay", true, false}, {0x01021994, "tmpfs", false, true}, {0x858458F6, "ramfs", false, true},
    {0x65735546, "fuse", false, false},   {0x6969, "nfs", false, false},      {0x00C36400, "ceph", false, false},
    {0xFF534D42, "cifs", false, false},   {0xFE534D42, "smb2", false, false}, {0x01021997, "9p", false, false},
    {0x0BD00BD0, "lustre", false, false}, {0x47504653, "gpfs", false, false},
};

constexpr uint64_t kMapChunk = 1ull << 30;  // mincore looks at a file 1 GiB at a time

// Bytes of the open file that are in the page cache (whole pages, capped at its size).
Result<uint64_t> ResidentBytes(int fd, uint64_t size, const std::string& path) {
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  uint64_t resident = 0;
  std::vector<unsigned char> vec;
  for (uint64_t off = 0; off < size; off += kMapChunk) {
    uint64_t len = std::min(kMapChunk, size - off);
    void* addr = ::mmap(nullptr, len, PROT_READ, MAP_SHARED, fd, static_cast<off_t>(off));
    if (addr == MAP_FAILED) return Status::FromErrno(errno, "mmap", path);
    vec.assign((len + page - 1) / page, 0);
    int rc = ::mincore(addr, len, vec.data());
    int err = errno;
    ::munmap(addr, len);
    if (rc != 0) return Status::FromErrno(err, "mincore", path);
    for (unsigned char v : vec) resident += (v & 1) ? page : 0;
  }
  return std::min(resident, size);
}

std::vector<std::string> DatasetFiles(const Context& ctx) {
  std::vector<std::string> files;
  if (ctx.dataset_dir.empty()) return files;
  if (const auto* listed = ctx.listed_files()) {
    for (const auto& name : *listed) files.push_back(ctx.dataset_dir + "/" + name);
    return files;
  }
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(ctx.dataset_dir, ec)) {
    if (entry.is_regular_file(ec) && !IsTempName(entry.path().filename().string()))
      files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

FilesystemKind ClassifyFilesystem(const std::string& path) {
  struct statfs fs {};
  if (::statfs(path.c_str(), &fs) != 0) return {"unknown (" + std::string(std::strerror(errno)) + ")", false, false};
  unsigned long magic = static_cast<unsigned long>(fs.f_type) & 0xFFFFFFFFul;
  for (const Magic& m : kMagics)
    if (m.magic == magic) return {m.name, m.block, m.in_memory};
  char hex[32];
  std::snprintf(hex, sizeof hex, "0x%lx", magic);
  return {hex, false, false};
}

EvictionResult EvictFromPageCache(const std::vector<std::string>& files, bool drop_system) {
  EvictionResult out;
  std::vector<std::pair<int, std::string>> open_files;
  for (const std::string& path : files) {
    struct stat st {};
    auto fd = OpenRegularFile(path, &st);
    if (!fd.ok()) {
      out.problems.push_back(fd.status().message());
      continue;
    }
    // Dirty pages stay in the cache whatever the advice: write them back first.
    if (::fdatasync(*fd) != 0 && errno != EINVAL)
      out.problems.push_back(Status::FromErrno(errno, "fdatasync", path).message());
    if (int rc = ::posix_fadvise(*fd, 0, 0, POSIX_FADV_DONTNEED); rc != 0)
      out.problems.push_back(Status::FromErrno(rc, "posix_fadvise", path).message());
    ++out.files;
    out.bytes += static_cast<uint64_t>(st.st_size);
    open_files.emplace_back(*fd, path);
  }
  if (drop_system) {
    ::sync();
    int fd = ::open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
    if (fd < 0 || ::write(fd, "1\n", 2) != 2) {
      out.problems.push_back("cache_drop = \"system\" not done: /proc/sys/vm/drop_caches: " +
                             std::string(std::strerror(errno)) + " (it needs root)");
    } else {
      out.system_dropped = true;
    }
    if (fd >= 0) ::close(fd);
  }
  for (auto& [fd, path] : open_files) {
    struct stat st {};
    if (::fstat(fd, &st) == 0 && st.st_size > 0) {
      auto resident = ResidentBytes(fd, static_cast<uint64_t>(st.st_size), path);
      if (resident.ok())
        out.resident_bytes_after += *resident;
      else
        out.problems.push_back("cannot check eviction: " + resident.status().message());
    }
    ::close(fd);
  }
  return out;
}

std::vector<std::string> StageInputFiles(const Context& ctx, const std::string& stage) {
  if (stage == "integrity" || stage == "extract")
    return ctx.tarball_path.empty() ? std::vector<std::string>{} : std::vector<std::string>{ctx.tarball_path};
  if (stage == "verify" || stage == "pickled" || stage == "upload") return DatasetFiles(ctx);
  if (stage == "meta")
    return ctx.dataset_dir.empty() ? std::vector<std::string>{}
                                   : std::vector<std::string>{ctx.dataset_dir + "/batches.meta"};
  if (stage == "train") {
    // Staged with an upload: train fetches its input from S3 (network) and reads that copy.
    bool fetches = ctx.cfg.scenario == "staged" && !ctx.cfg.upload_dest.empty() && ctx.cfg.StageEnabled(StageId::kUpload);
    return fetches ? std::vector<std::string>{} : DatasetFiles(ctx);
  }
  return {};  // download and streamed ingest read the network; preview reads a few images
}

StageMeter::StageMeter(const Context& ctx, const std::string& stage) {
  io_.present = true;
  io_.cache_mode = ctx.cfg.cache;
  std::vector<std::string> inputs = StageInputFiles(ctx, stage);
  for (const std::string& f : inputs) {
    std::error_code ec;
    uint64_t size = std::filesystem::file_size(f, ec);
    if (ec) continue;
    ++io_.input_files;
    io_.input_bytes += size;
  }
  io_.device_counted = true;  // no local inputs: the counters still tell what was read and written
  FilesystemKind fs;
  if (!inputs.empty()) {
    fs = ClassifyFilesystem(inputs.front());
    io_.filesystem = fs.name;
    io_.device_counted = fs.counts_device_reads;
    in_memory_ = fs.in_memory;
    if (fs.in_memory)
      io_.notes.push_back("the inputs are on " + fs.name + " (memory): every read is a memory read");
    else if (!fs.counts_device_reads)
      io_.notes.push_back("device reads are not counted on " + fs.name +
                          " (the kernel sees no block device): device_read_bytes stays 0 there");
  }
  if (ctx.cfg.cache == "cold" && !inputs.empty()) {
    bool system = ctx.cfg.cache_drop == "system";
    EvictionResult ev = EvictFromPageCache(inputs, system);
    io_.evict_method = ev.system_dropped ? "fadvise+drop_caches" : "fadvise";
    io_.evicted_files = ev.files;
    io_.evicted_bytes = ev.bytes;
    io_.resident_bytes_after = ev.resident_bytes_after;
    for (const auto& p : ev.problems) io_.notes.push_back(p);
    std::string why_not;
    if (fs.in_memory)
      why_not = "the inputs are on " + fs.name + ", which keeps files only in memory";
    else if (!fs.counts_device_reads)
      why_not = "the inputs are on " + fs.name +
                ": eviction cannot be verified (no device reads are counted, "
                "the filesystem or its client may keep its own cache)";
    else if (ev.resident_bytes_after > ev.bytes / 100)
      why_not = HumanBytes(static_cast<double>(ev.resident_bytes_after)) + " of the inputs still cached after eviction";
    else if (ev.files < inputs.size())
      why_not = "not every input could be evicted";
    io_.cold_honoured = why_not.empty();
    if (!why_not.empty()) io_.notes.push_back("cold cache not honoured: " + why_not);
    if (ctx.log)
      ctx.log("cache: " + stage + ": evicted " + std::to_string(ev.files) + " file(s), " +
              HumanBytes(static_cast<double>(ev.bytes)) + " (" + io_.evict_method + "), " +
              HumanBytes(static_cast<double>(ev.resident_bytes_after)) + " still cached");
    if (!why_not.empty() && ctx.warn) ctx.warn("stage " + stage + ": cold cache not honoured: " + why_not);
  }
  before_ = SampleIoCounters();
}

void StageMeter::Finish(report::StageResult& result, bool streamed) const {
  IoCounters d = IoDelta(before_, SampleIoCounters());
  report::StageIo io = io_;
  io.scope = streamed ? "streamed" : "stage";
  if (!d.proc_io) {
    io.device_counted = false;
    io.notes.push_back("/proc/self/io is not available: device and cache bytes are unknown");
  }
  io.read_bytes = d.rchar;
  io.device_read_bytes = d.read_bytes;
  uint64_t logical = std::max(d.rchar, io.input_bytes);
  if (io.device_counted) io.cache_read_bytes = logical > d.read_bytes ? logical - d.read_bytes : 0;
  io.write_bytes = d.wchar;
  io.device_write_bytes = d.write_bytes;
  io.net_rx_bytes = d.net_rx_bytes;
  io.net_tx_bytes = d.net_tx_bytes;
  io.net_requests = d.net_requests;
  io.user_cpu_seconds = d.user_cpu_s;
  io.system_cpu_seconds = d.system_cpu_s;
  // A read stage that got most of its input without touching a device read it from memory.
  io.potential_caching = io.input_bytes > 0 && result.status == report::StageStatus::kOk &&
                         (in_memory_ || (io.device_counted && d.read_bytes < io.input_bytes / 2));
  if (io.potential_caching && !in_memory_)
    io.notes.push_back(std::string("potential caching: ") + HumanBytes(static_cast<double>(d.read_bytes)) + " of " +
                       HumanBytes(static_cast<double>(io.input_bytes)) + " input came from a device" +
                       (io.cache_mode == "warm" ? " (warm cache; --cold evicts the inputs first)" : ""));
  result.io = std::move(io);
}

}  // namespace tb::pipeline
