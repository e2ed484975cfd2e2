#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

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

TEST(PosixStorage, PermissionDenied) {
  if (geteuid() == 0) GTEST_SKIP() << "root ignores permissions";
  testing::TempDir tmp;
  ASSERT_TRUE(MakeDirs(tmp / "ro").ok());
  chmod((tmp / "ro").c_str(), 0555);
  auto s = NewPosixStorage(tmp / "ro");
  EXPECT_EQ(s->OpenWrite("x", 0).status().code(), Code::kPermissionDenied);
}

}  // namespace
}  // namespace tb::storage
