#include "util/redact.h"

#include <gtest/gtest.h>

namespace tb {
namespace {

TEST(RedactUrlUserinfo, StripsUserAndPassword) {
  EXPECT_EQ(RedactUrlUserinfo("http://u:secret@host:80/a/b.tgz"), "http://***@host:80/a/b.tgz");
  EXPECT_EQ(RedactUrlUserinfo("https://user@host/x"), "https://***@host/x");
  EXPECT_EQ(RedactUrlUserinfo("http://u:p@ss:w@host"), "http://***@host");
  EXPECT_EQ(RedactUrlUserinfo("http://u:pw@host?q=1"), "http://***@host?q=1");
}

TEST(RedactUrlUserinfo, LeavesOtherTextAlone) {
  EXPECT_EQ(RedactUrlUserinfo("http://host/path@x"), "http://host/path@x");
  EXPECT_EQ(RedactUrlUserinfo("/local/a@b.tgz"), "/local/a@b.tgz");
  EXPECT_EQ(RedactUrlUserinfo("s3://bucket/key@1"), "s3://bucket/key@1");
  EXPECT_EQ(RedactUrlUserinfo(""), "");
}

}  // namespace
}  // namespace tb
