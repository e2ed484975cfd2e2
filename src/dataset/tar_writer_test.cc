#include "dataset/tar_writer.h"

#include <gtest/gtest.h>

#include "dataset/archive.h"
#include "util/fs.h"
#include "util/md5.h"
#include "util/testing.h"

namespace tb::dataset {
namespace {

TEST(TarWriterTest, UstarHeaderFields) {
  auto h = UstarHeader({"cifar-10-batches-py/data_batch_1", "", 30730000, false}, 1262304000);
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 512u);
  EXPECT_EQ(h->substr(0, 32), "cifar-10-batches-py/data_batch_1");
  EXPECT_EQ(h->substr(100, 8), std::string("0000644\0", 8));
  EXPECT_EQ(h->substr(124, 12), std::string("00165163420\0", 12));  // 30730000 octal
  EXPECT_EQ(h->substr(257, 8), std::string("ustar\0" "00", 8));
  EXPECT_EQ(h->substr(265, 5), std::string("root\0", 5));
  unsigned sum = 0;
  for (size_t i = 0; i < 512; ++i) sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>((*h)[i]);
  EXPECT_EQ(std::stoul(h->substr(148, 6), nullptr, 8), sum);
  auto d = UstarHeader({"dir", "", 0, true}, 0);
  EXPECT_EQ(d->substr(0, 4), "dir/");
  EXPECT_EQ((*d)[156], '5');
  std::string longname(120, 'a');
  longname[60] = '/';
  auto l = UstarHeader({longname, "", 1, false}, 0);
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->substr(345, 60), longname.substr(0, 60));
  EXPECT_FALSE(UstarHeader({std::string(300, 'a'), "", 1, false}, 0).ok());
}

TEST(TarWriterTest, GzipAndTarAreDeterministicAndExtract) {
  testing::TempDir dir;
  ASSERT_TRUE(MakeDirs(dir / "src").ok());
  std::string big(9 << 20, '\0');  // > 2 deflate blocks
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 2654435761u) >> 13);
  ASSERT_TRUE(WriteFileAtomic(dir / "src/big", big).ok());
  ASSERT_TRUE(WriteFileAtomic(dir / "src/small", "hello").ok());
  ASSERT_TRUE(WriteFileAtomic(dir / "src/empty", "").ok());
  std::vector<TarMember> members = {{"p/", "", 0, true},
                                    {"p/big", dir / "src/big", big.size(), false},
                                    {"p/empty", dir / "src/empty", 0, false},
                                    {"p/small", dir / "src/small", 5, false}};
  for (bool gzip : {true, false}) {
    TarOptions o;
    o.gzip = gzip;
    o.threads = 1;
    auto m1 = WriteTarball(dir / "one", members, o);
    o.threads = 4;
    auto m4 = WriteTarball(dir / "four", members, o);
    ASSERT_TRUE(m1.ok()) << m1.status().ToString();
    ASSERT_TRUE(m4.ok());
    EXPECT_EQ(*m1, *m4);
    auto bytes = ReadFile(dir / "one");
    EXPECT_EQ(ToHex(Md5Of(*bytes)), *m1);
    if (!gzip) EXPECT_EQ(bytes->size() % 10240, 0u);
    std::string out = dir / (gzip ? "xg" : "xt");
    auto st = ExtractArchive(dir / "one", out);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    EXPECT_EQ(*ReadFile(out + "/p/big"), big);
    EXPECT_EQ(*ReadFile(out + "/p/small"), "hello");
    EXPECT_EQ(ReadFile(out + "/p/empty")->size(), 0u);
  }
  // A source that shrank is an error, and no archive appears.
  members[3].size = 50;
  EXPECT_FALSE(WriteTarball(dir / "bad", members, {}).ok());
  EXPECT_FALSE(ReadFile(dir / "bad").ok());
}

}  // namespace
}  // namespace tb::dataset
