// Open()/SplitObjectUri() dispatch and helpers, plus one conformance suite that every
// writable backend (memory, POSIX) must pass.
#include "storage/storage.h"

#include <gtest/gtest.h>

#include <functional>

#include "util/md5.h"
#include "util/testing.h"

namespace tb::storage {
namespace {

std::string ReadAll(Reader& r, size_t chunk = 7) {
  std::string out, buf(chunk, '\0');
  for (;;) {
    auto n = r.Read(buf.data(), buf.size());
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    if (!n.ok() || *n == 0) return out;
    out.append(buf.data(), *n);
  }
}

TEST(SplitObjectUri, Examples) {
  auto check = [](const char* uri, const char* root, const char* key) {
    auto r = SplitObjectUri(uri);
    ASSERT_TRUE(r.ok()) << uri << ": " << r.status().ToString();
    EXPECT_EQ(r->root, root) << uri;
    EXPECT_EQ(r->key, key) << uri;
  };
  check("s3://b/p/x.tar.gz", "s3://b", "p/x.tar.gz");
  check("s3://b/x", "s3://b", "x");
  check("/a/b/c", "/a/b", "c");
  check("/c", "/", "c");
  check("c", ".", "c");
  check("rel/dir/c", "rel/dir", "c");
  check("file:///a/b", "file:///a", "b");
  check("file:///b", "file:///", "b");
  check("http://h/p/x", "http://h/p", "x");
  check("http://h:8080/x", "http://h:8080", "x");
  check("https://h/a%20b/c+d", "https://h/a%20b", "c+d");
  check("mem://t/a/b", "mem://t", "a/b");
}

TEST(SplitObjectUri, RejectsUrisWithoutObject) {
  for (const char* uri : {"s3://b", "s3://b/", "http://h", "http://h/", "/a/b/", "", "mem://x"}) {
    auto r = SplitObjectUri(uri);
    EXPECT_FALSE(r.ok()) << uri;
    if (!r.ok()) EXPECT_TRUE(r.status().IsInvalidArgument()) << uri;
  }
}

TEST(Open, DispatchesByScheme) {
  Options o;
  auto posix = Open("/tmp/x/", o);
  ASSERT_TRUE(posix.ok());
  EXPECT_EQ((*posix)->Describe("k"), "/tmp/x/k");
  auto file = Open("file:///tmp/y", o);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ((*file)->Describe("a/b"), "/tmp/y/a/b");
  auto http = Open("http://127.0.0.1:1/base/", o);
  ASSERT_TRUE(http.ok());
  EXPECT_EQ((*http)->Describe("a b/c"), "http://127.0.0.1:1/base/a%20b/c");
  EXPECT_FALSE((*http)->caps().writable);
  auto mem = Open("mem://t/pre", o);
  ASSERT_TRUE(mem.ok());
  EXPECT_EQ((*mem)->Describe("k"), "mem://t/pre/k");
}

TEST(Open, UnknownSchemeNamesTheUri) {
  auto r = Open("gopher://host/x", Options());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument());
  EXPECT_NE(r.status().message().find("gopher://host/x"), std::string::npos) << r.status().message();
  EXPECT_FALSE(Open("", Options()).ok());
  EXPECT_FALSE(Open("file://relative", Options()).ok());
}

TEST(UrlEncode, EncodesEverythingButUnreserved) {
  EXPECT_EQ(UrlEncode("a b+c%d/e", true), "a%20b%2Bc%25d/e");
  EXPECT_EQ(UrlEncode("a/b", false), "a%2Fb");
  EXPECT_EQ(UrlEncode("\xc3\xa9t\xc3\xa9", true), "%C3%A9t%C3%A9");
  EXPECT_EQ(UrlEncode("AZaz09-._~", true), "AZaz09-._~");
  EXPECT_EQ(UrlEncode("a b+c/%d~e", true), "a%20b%2Bc/%25d~e");
  EXPECT_EQ(UrlEncode("\xc3\xbc", true), "%C3%BC");
  EXPECT_EQ(UrlEncode(std::string_view("\x00\x7f\xff=&?", 6), false), "%00%7F%FF%3D%26%3F");
}

TEST(Md5FromEtag, OnlyPlainMd5) {
  EXPECT_EQ(Md5FromEtag("9E107D9D372BB6826BD81D3542A419D6"), "9e107d9d372bb6826bd81d3542a419d6");
  EXPECT_EQ(Md5FromEtag("9e107d9d372bb6826bd81d3542a419d6-2"), "");
  EXPECT_EQ(Md5FromEtag("5f1e2a3b-4000"), "");
  EXPECT_EQ(Md5FromEtag(""), "");
}

// ---------------------------------------------------------------------------------------------
// Conformance: the same behaviour from every writable backend.

struct Backend {
  std::string name;
  std::function<std::unique_ptr<Storage>(const std::string& tmp)> make;
};

class Conformance : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override { storage_ = GetParam().make(tmp_.path()); }
  Status Put(const std::string& key, const std::string& data) {
    TB_ASSIGN_OR_RETURN(auto w, storage_->OpenWrite(key, data.size()));
    TB_RETURN_IF_ERROR(w->Append(data));
    return w->Commit();
  }
  testing::TempDir tmp_;
  std::unique_ptr<Storage> storage_;
};

TEST_P(Conformance, WriteStatReadRoundTrip) {
  std::string data(100000, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7 + i / 256);
  ASSERT_TRUE(Put("dir/sub/obj.bin", data).ok());
  auto info = storage_->Stat("dir/sub/obj.bin");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->size_bytes, data.size());
  auto r = storage_->OpenRead("dir/sub/obj.bin");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(ReadAll(**r, 4096), data);
}

TEST_P(Conformance, RangedReads) {
  ASSERT_TRUE(Put("r", "0123456789").ok());
  auto r = storage_->OpenRead("r", 3, 4);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(ReadAll(**r, 3), "3456");
  auto tail = storage_->OpenRead("r", 8);
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(ReadAll(**tail), "89");
  auto empty = storage_->OpenRead("r", 10);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(ReadAll(**empty), "");
}

TEST_P(Conformance, EmptyObject) {
  ASSERT_TRUE(Put("empty", "").ok());
  auto info = storage_->Stat("empty");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->size_bytes, 0u);
  auto r = storage_->OpenRead("empty");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(ReadAll(**r), "");
}

TEST_P(Conformance, NothingVisibleBeforeCommit) {
  {
    auto w = storage_->OpenWrite("pending", 0);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append("partial").ok());
    EXPECT_TRUE(storage_->Stat("pending").status().IsNotFound());
    auto list = storage_->List("");
    ASSERT_TRUE(list.ok());
    EXPECT_TRUE(list->empty()) << (*list)[0].key;
  }  // destroyed without Commit: aborted
  EXPECT_TRUE(storage_->Stat("pending").status().IsNotFound());
  auto list = storage_->List("");
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty());
}

TEST_P(Conformance, ListIsRecursiveSortedAndPrefixed) {
  for (const char* k : {"b/2", "a", "b/1", "b/c/3", "bb", "c"}) ASSERT_TRUE(Put(k, k).ok());
  auto all = storage_->List("");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  std::vector<std::string> keys;
  for (auto& o : *all) keys.push_back(o.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"a", "b/1", "b/2", "b/c/3", "bb", "c"}));
  auto pre = storage_->List("b/");
  ASSERT_TRUE(pre.ok());
  keys.clear();
  for (auto& o : *pre) keys.push_back(o.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"b/1", "b/2", "b/c/3"}));
  EXPECT_EQ((*pre)[2].size_bytes, 5u);
  auto pre2 = storage_->List("b");
  ASSERT_TRUE(pre2.ok());
  EXPECT_EQ(pre2->size(), 4u);
}

TEST_P(Conformance, MissingObjectsAreNotFoundAndNamed) {
  auto st = storage_->Stat("nope/x");
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(st.status().IsNotFound());
  EXPECT_NE(st.status().message().find(storage_->Describe("nope/x")), std::string::npos) << st.status().message();
  EXPECT_TRUE(storage_->OpenRead("nope/x").status().IsNotFound());
  EXPECT_TRUE(storage_->Delete("nope/x").IsNotFound());
}

TEST_P(Conformance, DeleteAndOverwrite) {
  ASSERT_TRUE(Put("k", "one").ok());
  ASSERT_TRUE(Put("k", "second").ok());
  auto r = storage_->OpenRead("k");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(ReadAll(**r), "second");
  ASSERT_TRUE(storage_->Delete("k").ok());
  EXPECT_TRUE(storage_->Stat("k").status().IsNotFound());
}

TEST_P(Conformance, ParallelWriteCommitsAllParts) {
  ASSERT_TRUE(storage_->caps().parallel_writes);
  const uint64_t part = 1000, size = 3500;
  std::string data(size, '\0');
  for (size_t i = 0; i < size; ++i) data[i] = static_cast<char>('a' + i % 26);
  auto w = storage_->OpenParallelWrite("p/big", size, part);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  for (uint64_t off : {3000u, 1000u, 0u, 2000u}) {  // any order
    ASSERT_TRUE((*w)->WriteAt(off, std::string_view(data).substr(off, std::min(part, size - off))).ok());
  }
  EXPECT_TRUE(storage_->Stat("p/big").status().IsNotFound());
  EXPECT_FALSE((*w)->WriteAt(3400, std::string(200, 'x')).ok());  // past the declared size
  ASSERT_TRUE((*w)->Commit().ok());
  auto r = storage_->OpenRead("p/big");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(ReadAll(**r, 999), data);
}

TEST_P(Conformance, ConcurrentWritersDoNotInterfere) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        std::string key = "t" + std::to_string(t) + "/" + std::to_string(i);
        EXPECT_TRUE(Put(key, key + std::string(1000, 'x')).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  auto all = storage_->List("");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 160u);
}

INSTANTIATE_TEST_SUITE_P(
    Backends, Conformance,
    ::testing::Values(Backend{"memory", [](const std::string&) { return NewMemoryStorage("conformance"); }},
                      Backend{"posix", [](const std::string& tmp) { return NewPosixStorage(tmp + "/root"); }}),
    [](const ::testing::TestParamInfo<Backend>& info) { return info.param.name; });

}  // namespace
}  // namespace tb::storage
