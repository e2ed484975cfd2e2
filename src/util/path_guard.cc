#include "util/path_guard.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

namespace tb {
namespace {

namespace fs = std::filesystem;

// Files looked at under one input folder for their inodes (a dataset has a few thousand);
// beyond this the folder is still protected by its path.
constexpr int kMaxFilesPerInputDir = 100000;

}  // namespace

// Absolute, with symlinks resolved in the part of the path that exists, and a dangling
// symlink at the end followed (writing through it would create its target).
std::string ResolvePath(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::absolute(path, ec);
  if (ec) return fs::path(path).lexically_normal().string();
  for (int hops = 0; hops < 40; ++hops) {
    fs::path w = fs::weakly_canonical(p, ec);
    if (ec) return p.lexically_normal().string();
    if (!fs::is_symlink(fs::symlink_status(w, ec))) return w.string();
    fs::path target = fs::read_symlink(w, ec);
    if (ec) return w.string();
    p = target.is_absolute() ? target : w.parent_path() / target;
  }
  return p.lexically_normal().string();
}

bool PathIsWithin(const std::string& path, const std::string& dir) {
  auto parts = [](const std::string& text) {
    std::vector<std::string> out;
    for (const auto& part : fs::path(text).lexically_normal()) {
      if (!part.empty()) out.push_back(part.string());
    }
    return out;
  };
  std::vector<std::string> p = parts(path), d = parts(dir);
  return d.size() <= p.size() && std::equal(d.begin(), d.end(), p.begin());
}

namespace {

std::string Quote(const std::string& path) { return "'" + path + "'"; }

}  // namespace

std::string LocalPathOf(const std::string& uri) {
  if (uri.rfind("file://", 0) == 0) return uri.substr(7);
  if (uri.find("://") != std::string::npos) return "";
  return uri;
}

PathGuard::Entry PathGuard::Make(Kind kind, const std::string& what, const std::string& path) {
  Entry e{kind, what, path, ResolvePath(path)};
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    e.exists = true;
    e.dev = st.st_dev;
    e.ino = st.st_ino;
    e.is_dir = S_ISDIR(st.st_mode);
  }
  return e;
}

void PathGuard::AddInputFile(const std::string& what, const std::string& path) {
  if (path.empty()) return;
  Entry e = Make(Kind::kInputFile, what, path);
  if (e.exists) entries_.push_back(std::move(e));
}

void PathGuard::AddInputDir(const std::string& what, const std::string& path) {
  if (path.empty()) return;
  Entry dir = Make(Kind::kInputDir, what, path);
  if (!dir.exists) return;
  std::error_code ec;
  int seen = 0;
  for (fs::recursive_directory_iterator it(dir.resolved, fs::directory_options::skip_permission_denied, ec), end;
       !ec && it != end && seen < kMaxFilesPerInputDir; it.increment(ec), ++seen) {
    struct stat st {};
    if (::stat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    // Under the resolved folder; a symlinked file is matched by the inode stat() followed to.
    Entry f{Kind::kInputFile, "a file of " + what, it->path().string(), it->path().string(), true, false,
            st.st_dev, st.st_ino};
    entries_.push_back(std::move(f));
  }
  entries_.push_back(std::move(dir));
}

Status PathGuard::Refuse(const Entry& out, const std::string& relation, const Entry& other) const {
  std::string why;
  if (relation == "contains") {
    why = "the command empties that folder, which would remove it";
  } else if (other.kind == Kind::kInputFile) {
    why = "an output must never overwrite an input";
  } else if (other.kind == Kind::kInputDir) {
    why = "outputs must not be written into the data being read";
  } else if (other.kind == Kind::kReplacedDir) {
    why = "the command empties that folder";
  } else {
    why = "two outputs must not share a path";
  }
  return Status::InvalidArgument(out.what + " " + Quote(out.path) + " " + relation + " " + other.what + " " +
                                 Quote(other.path) + ": " + why);
}

Status PathGuard::AddOutputFile(const std::string& name, const std::string& path) {
  Entry out = Make(Kind::kOutputFile, name, path);
  if (out.is_dir) return Status::InvalidArgument(out.what + " " + Quote(path) + " is a folder, not a file");
  for (const Entry& e : entries_) {
    bool same = (out.exists && e.exists && out.dev == e.dev && out.ino == e.ino) || out.resolved == e.resolved;
    switch (e.kind) {
      case Kind::kInputFile:
        if (same) return Refuse(out, "is", e);
        break;
      case Kind::kOutputFile:
        if (same) return Refuse(out, "is also", e);
        break;
      case Kind::kInputDir:
      case Kind::kReplacedDir:
        if (PathIsWithin(out.resolved, e.resolved)) return Refuse(out, "lies inside", e);
        break;
      case Kind::kOutputDir:
        break;
    }
  }
  entries_.push_back(std::move(out));
  return Status::Ok();
}

Status PathGuard::AddOutputDir(const std::string& name, const std::string& path, bool replaced) {
  Entry out = Make(replaced ? Kind::kReplacedDir : Kind::kOutputDir, name, path);
  for (const Entry& e : entries_) {
    switch (e.kind) {
      case Kind::kInputDir:
        if (out.exists && out.dev == e.dev && out.ino == e.ino) return Refuse(out, "is", e);
        if (PathIsWithin(out.resolved, e.resolved)) return Refuse(out, "lies inside", e);
        if (replaced && PathIsWithin(e.resolved, out.resolved)) return Refuse(out, "contains", e);
        break;
      case Kind::kReplacedDir:
        if (PathIsWithin(out.resolved, e.resolved)) return Refuse(out, "lies inside", e);
        if (replaced && PathIsWithin(e.resolved, out.resolved)) return Refuse(out, "contains", e);
        break;
      case Kind::kInputFile:
      case Kind::kOutputFile:
      case Kind::kOutputDir:
        if (replaced && PathIsWithin(e.resolved, out.resolved)) return Refuse(out, "contains", e);
        break;
    }
  }
  entries_.push_back(std::move(out));
  return Status::Ok();
}

}  // namespace tb
