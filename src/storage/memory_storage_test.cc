#include <gtest/gtest.h>

#include "storage/storage.h"
#include "util/md5.h"

namespace tb::storage {
namespace {

Status Put(Storage& s, const std::string& key, const std::string& data) {
  TB_ASSIGN_OR_RETURN(auto w, s.OpenWrite(key, data.size()));
  TB_RETURN_IF_ERROR(w->Append(data));
  return w->Commit();
}

TEST(MemoryStorage, SharedByNameAndReachableThroughOpen) {
  auto a = NewMemoryStorage("shared");
  ASSERT_TRUE(Put(*a, "p/x", "hello").ok());
  auto b = Open("mem://shared", Options());
  ASSERT_TRUE(b.ok());
  auto info = (*b)->Stat("p/x");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->size_bytes, 5u);
  auto prefixed = Open("mem://shared/p", Options());
  ASSERT_TRUE(prefixed.ok());
  EXPECT_TRUE((*prefixed)->Stat("x").ok());
  auto list = (*prefixed)->List("");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].key, "x");
  // A fresh namespace with the same name starts empty.
  auto c = NewMemoryStorage("shared");
  EXPECT_TRUE(c->Stat("p/x").status().IsNotFound());
}

TEST(MemoryStorage, EtagIsMd5LikeS3) {
  auto s = NewMemoryStorage("etag");
  ASSERT_TRUE(s->caps().etag_is_md5);
  ASSERT_TRUE(Put(*s, "k", "The quick brown fox jumps over the lazy dog").ok());
  auto info = s->Stat("k");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->etag, "9e107d9d372bb6826bd81d3542a419d6");
  EXPECT_EQ(Md5FromEtag(info->etag), info->etag);
}

}  // namespace
}  // namespace tb::storage
