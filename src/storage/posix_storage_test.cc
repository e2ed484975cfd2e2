#include <grp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <functional>

#include "storage/storage.h"
#include "util/fs.h"
#include "util/testing.h"

namespace tb::storage {
namespace {

TEST(PosixStorage, ListSkipsTempFilesAndDirectories) {
  testing::TempDir tmp;
  ASSERT_TRUE(WriteFileAtomic(tmp / "a", "1").ok());
  ASSERT_TRUE(MakeDirs(tmp / "empty/dir").ok());
  ASSERT_TRUE(WriteFileAtomic(tmp / ".a.tb-tmp.1.2", "partial").ok());
  auto s = NewPosixStorage(tmp.path());
  auto w = s->OpenWrite("sub/b", 0);  // an open writer leaves a temp file behind
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Append("x").ok());
  auto list = s->List("");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].key, "a");
}

TEST(PosixStorage, AbortRemovesTempFile) {
  testing::TempDir tmp;
  auto s = NewPosixStorage(tmp.path());
  {
    auto w = s->OpenWrite("x/y", 0);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append("data").ok());
  }
  EXPECT_TRUE(std::filesystem::is_empty(tmp / "x"));
}

TEST(PosixStorage, RejectsKeysEscapingTheRoot) {
  testing::TempDir tmp;
  auto s = NewPosixStorage(tmp / "root");
  for (const char* key : {"../x", "a/../../x", "/etc/passwd", "", "a/./b"}) {
    EXPECT_TRUE(s->OpenWrite(key, 0).status().IsInvalidArgument()) << key;
    EXPECT_TRUE(s->OpenRead(key).status().IsInvalidArgument()) << key;
  }
}

TEST(PosixStorage, ErrorsNameThePathAndCause) {
  testing::TempDir tmp;
  auto s = NewPosixStorage(tmp.path());
  auto r = s->OpenRead("missing.bin");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(tmp / "missing.bin"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("No such file"), std::string::npos) << r.status().message();
  ASSERT_TRUE(MakeDirs(tmp / "adir").ok());
  EXPECT_TRUE(s->Stat("adir").status().IsInvalidArgument());
  // A file where a directory is needed.
  ASSERT_TRUE(WriteFileAtomic(tmp / "file", "x").ok());
  auto w = s->OpenWrite("file/child", 0);
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find(tmp / "file"), std::string::npos) << w.status().message();
}

TEST(PosixStorage, ListOfMissingRootIsNotFound) {
  testing::TempDir tmp;
  auto s = NewPosixStorage(tmp / "nope");
  auto list = s->List("");
  ASSERT_FALSE(list.ok());
  EXPECT_TRUE(list.status().IsNotFound());
  EXPECT_NE(list.status().message().find(tmp / "nope"), std::string::npos);
}

// Runs `check` in a child process that, when this one is root (who ignores permissions, as
// in CI), first drops to the unprivileged user 65534 ("nobody"); returns the child's exit
// status: 0 when `check` held, 1 when it did not, 2 when privileges could not be dropped.
int AsUnprivileged(const std::function<bool()>& check) {
  pid_t pid = fork();
  if (pid == 0) {
    if (geteuid() == 0) {
      const uid_t nobody = 65534;
      if (setgroups(0, nullptr) != 0 || setresgid(nobody, nobody, nobody) != 0 ||
          setresuid(nobody, nobody, nobody) != 0 || geteuid() == 0) {
        _exit(2);
      }
    }
    _exit(check() ? 0 : 1);
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

TEST(PosixStorage, PermissionDenied) {
  testing::TempDir tmp;
  chmod(tmp.path().c_str(), 0755);  // the unprivileged user may enter, and write only in rw/
  ASSERT_TRUE(MakeDirs(tmp / "ro").ok());
  ASSERT_TRUE(MakeDirs(tmp / "rw").ok());
  ASSERT_EQ(chmod((tmp / "ro").c_str(), 0555), 0);
  ASSERT_EQ(chmod((tmp / "rw").c_str(), 0777), 0);
  // The denial comes from the folder's mode: the same user may write where the mode allows.
  EXPECT_EQ(AsUnprivileged([&] { return NewPosixStorage(tmp / "rw")->OpenWrite("x", 0).ok(); }), 0)
      << "user 65534 cannot write into a 0777 folder (2: could not drop privileges)";
  EXPECT_EQ(AsUnprivileged([&] {
              return NewPosixStorage(tmp / "ro")->OpenWrite("x", 0).status().code() == Code::kPermissionDenied;
            }),
            0)
      << "writing into a 0555 folder is not PermissionDenied (2: could not drop privileges)";
}

}  // namespace
}  // namespace tb::storage
