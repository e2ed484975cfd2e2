#include "storage/wrappers.h"

#include <gtest/gtest.h>

namespace tb::storage {
namespace {

TEST(CountingStorage, CountsOpsBytesAndErrors) {
  CountingStorage s(NewMemoryStorage("counting"));
  auto w = s.OpenWrite("k", 0);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Append("hello ").ok());
  ASSERT_TRUE((*w)->Append("world").ok());
  ASSERT_TRUE((*w)->Commit().ok());
  auto r = s.OpenRead("k");
  ASSERT_TRUE(r.ok());
  char buf[4];
  while (*(*r)->Read(buf, sizeof buf) > 0) {
  }
  EXPECT_FALSE(s.Stat("missing").ok());
  EXPECT_EQ(s.bytes_written(), 11u);
  EXPECT_EQ(s.bytes_read(), 11u);
  EXPECT_EQ(s.stats(StorageOp::kWrite).ops, 2u);
  EXPECT_EQ(s.stats(StorageOp::kRead).ops, 4u);  // 4+4+3, then EOF
  EXPECT_EQ(s.stats(StorageOp::kCommit).ops, 1u);
  EXPECT_EQ(s.stats(StorageOp::kStat).errors, 1u);
  EXPECT_GE(s.stats(StorageOp::kRead).latency_us_total, s.stats(StorageOp::kRead).latency_us_max);
  EXPECT_STREQ(StorageOpName(StorageOp::kOpenRead), "open_read");
}

TEST(FaultInjectionStorage, FailsTheNthOpAndCorrupts) {
  FaultInjectionStorage s(NewMemoryStorage("faults"));
  s.FailOps(2, 1, Status::Network("boom"));
  auto w = s.OpenWrite("k", 0);  // op 1
  ASSERT_TRUE(w.ok());
  Status bad = (*w)->Append("x");  // op 2
  EXPECT_EQ(bad.code(), Code::kNetwork);
  EXPECT_NE(bad.message().find("write #2"), std::string::npos) << bad.message();
  ASSERT_TRUE((*w)->Append("abcdef").ok());  // op 3
  ASSERT_TRUE((*w)->Commit().ok());
  s.CorruptByteAt(3);
  auto r = s.OpenRead("k", 2);
  ASSERT_TRUE(r.ok());
  char buf[8];
  auto n = (*r)->Read(buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(buf, *n), std::string("c") + static_cast<char>('d' ^ 1) + "ef");
}

}  // namespace
}  // namespace tb::storage
