// Outputs never overwrite inputs. A command registers the local files and folders it reads,
// then every path it will write, before any work starts; a collision is refused with
// InvalidArgument (exit 2) naming the output's flag or key, its path and the input it hits.
//
// Two paths collide when they are the same file (device and inode, following symlinks), or,
// for a path that does not exist yet, when it resolves (symlinks in its existing part and a
// dangling final link followed) into an input folder. Outputs are also checked against each
// other, and a folder the command empties and refills (`replaced`) may hold no input and no
// other output.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "util/status.h"

namespace tb {

class PathGuard {
 public:
  // A file the command reads; `what` names it in messages ("the job file", "key
  // 'origin.manifest'"). Paths that do not exist locally (URLs, missing files) are ignored.
  void AddInputFile(const std::string& what, const std::string& path);
  // A folder whose files the command reads (the dataset being measured): each file under it
  // is an input, and no output may be written anywhere inside it. Ignored when missing.
  void AddInputDir(const std::string& what, const std::string& path);

  // A file the command writes; `name` is the flag or key that set it ("--out", "key 'log'").
  // Refused when it is an existing folder, an input or an earlier output, or lies inside an
  // input folder or a replaced folder. Recorded on success.
  Status AddOutputFile(const std::string& name, const std::string& path);
  // A folder the command writes into; with `replaced`, one it removes and fills again. Refused
  // when it is or lies inside an input folder or a replaced folder, or (replaced) when an input
  // or an earlier output lies inside it. Recorded on success.
  Status AddOutputDir(const std::string& name, const std::string& path, bool replaced = false);

 private:
  enum class Kind { kInputFile, kInputDir, kOutputFile, kOutputDir, kReplacedDir };
  struct Entry {
    Kind kind;
    std::string what;      // how messages name it
    std::string path;      // as given
    std::string resolved;  // absolute, symlinks resolved as far as the path exists
    bool exists = false;   // stat() succeeded (dev/ino/is_dir valid)
    bool is_dir = false;
    dev_t dev = 0;
    ino_t ino = 0;
  };
  static Entry Make(Kind kind, const std::string& what, const std::string& path);
  Status Refuse(const Entry& out, const std::string& relation, const Entry& other) const;
  std::vector<Entry> entries_;
};

// `path` made absolute, with symlinks resolved as far as it exists (and a dangling final
// symlink followed), as PathGuard compares paths.
std::string ResolvePath(const std::string& path);
// `path` is `dir` or lies under it, component by component (both as ResolvePath gives them).
bool PathIsWithin(const std::string& path, const std::string& dir);

// The local path of a URI that names one ("/x", "rel/x", "file:///x"); "" for http(s)://,
// s3:// and other remote URIs.
std::string LocalPathOf(const std::string& uri);

}  // namespace tb
