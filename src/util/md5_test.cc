#include "util/md5.h"

#include <gtest/gtest.h>

#include "util/fs.h"
#include "util/testing.h"

namespace tb {
namespace {

TEST(Md5, Rfc1321Vectors) {
  EXPECT_EQ(ToHex(Md5Of("")), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(ToHex(Md5Of("abc")), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(ToHex(Md5Of("12345678901234567890123456789012345678901234567890123456789012345678901234567890")),
            "57edf4a22be3c955ac49da2e2107b67a");
}

TEST(Md5, FileMatchesInMemoryAndNamesMissingPath) {
  testing::TempDir dir;
  std::string data(3 << 20, 'x');
  ASSERT_TRUE(WriteFileAtomic(dir / "f", data).ok());
  auto d = Md5File(dir / "f");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(ToHex(*d), ToHex(Md5Of(data)));
  auto missing = Md5File(dir / "nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.status().IsNotFound());
  EXPECT_NE(missing.status().message().find(dir / "nope"), std::string::npos);
}

TEST(Base64, Rfc4648) {
  auto b = [](std::string s) { return Base64(reinterpret_cast<const uint8_t*>(s.data()), s.size()); };
  EXPECT_EQ(b(""), "");
  EXPECT_EQ(b("f"), "Zg==");
  EXPECT_EQ(b("foob"), "Zm9vYg==");
  EXPECT_EQ(b("foobar"), "Zm9vYmFy");
}

}  // namespace
}  // namespace tb
