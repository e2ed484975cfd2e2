#include "storage/s3_xml.h"

#include <gtest/gtest.h>

namespace tb::storage::s3xml {
namespace {

TEST(S3Xml, ListObjectsV2WithEntitiesAndToken) {
  const char* doc = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>b</Name><Prefix></Prefix><KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys>
  <IsTruncated>true</IsTruncated>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
  <Contents><Key>a &amp; b &lt;c&gt; &quot;q&quot; &apos;s&apos; &#233;&#x1F600; </Key>
    <LastModified>2026-01-01T00:00:00.000Z</LastModified>
    <ETag>&quot;9e107d9d372bb6826bd81d3542a419d6&quot;</ETag><Size>43</Size>
    <StorageClass>STANDARD</StorageClass></Contents>
  <Contents><Key>dir/x+y%z</Key><ETag>"abc-3"</ETag><Size>18446744073709551615</Size></Contents>
  <CommonPrefixes><Prefix>p/</Prefix></CommonPrefixes>
</ListBucketResult>)";
  auto r = ParseListObjectsV2(doc);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->contents.size(), 2u);
  EXPECT_EQ(r->contents[0].key, "a & b <c> \"q\" 's' \xC3\xA9\xF0\x9F\x98\x80 ");
  EXPECT_EQ(r->contents[0].size_bytes, 43u);
  EXPECT_EQ(r->contents[0].etag, "9e107d9d372bb6826bd81d3542a419d6");
  EXPECT_EQ(r->contents[1].key, "dir/x+y%z");
  EXPECT_EQ(r->contents[1].etag, "abc-3");
  EXPECT_EQ(r->contents[1].size_bytes, 18446744073709551615ull);
  EXPECT_TRUE(r->is_truncated);
  EXPECT_EQ(r->next_continuation_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
  ASSERT_EQ(r->common_prefixes.size(), 1u);
  EXPECT_EQ(r->common_prefixes[0], "p/");
}

TEST(S3Xml, EmptyListing) {
  auto r = ParseListObjectsV2("<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->contents.empty());
  EXPECT_FALSE(r->is_truncated);
}

TEST(S3Xml, ErrorDocument) {
  auto e = ParseError(
      "<?xml version=\"1.0\"?><Error><Code>NoSuchBucket</Code><Message/>"
      "<BucketName>x</BucketName><RequestId>tx0001</RequestId><HostId>h</HostId></Error>");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->code, "NoSuchBucket");
  EXPECT_EQ(e->message, "");
  EXPECT_EQ(e->request_id, "tx0001");
}

TEST(S3Xml, MultipartDocuments) {
  auto init = ParseInitiateMultipartUpload(
      "<InitiateMultipartUploadResult xmlns=\"x\"><Bucket>b</Bucket><Key>k</Key>"
      "<UploadId>2~abc</UploadId></InitiateMultipartUploadResult>");
  ASSERT_TRUE(init.ok());
  EXPECT_EQ(init->upload_id, "2~abc");
  auto done = ParseCompleteMultipartUpload(
      "<CompleteMultipartUploadResult><Location>l</Location><Bucket>b</Bucket><Key>k</Key>"
      "<ETag>&quot;d41d8cd98f00b204e9800998ecf8427e-2&quot;</ETag></CompleteMultipartUploadResult>");
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->etag, "d41d8cd98f00b204e9800998ecf8427e-2");
  auto err = ParseCompleteMultipartUpload("<Error><Code>InternalError</Code><Message>m</Message></Error>");
  ASSERT_FALSE(err.ok());
  EXPECT_TRUE(err.status().retryable());
  EXPECT_NE(err.status().message().find("InternalError"), std::string::npos);
  auto list = ParseListMultipartUploads(
      "<ListMultipartUploadsResult><IsTruncated>false</IsTruncated><Upload><Key>a</Key>"
      "<UploadId>u1</UploadId></Upload><Upload><Key>b</Key><UploadId>u2</UploadId></Upload>"
      "</ListMultipartUploadsResult>");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->uploads.size(), 2u);
  EXPECT_EQ(list->uploads[1].key, "b");
  EXPECT_EQ(list->uploads[1].upload_id, "u2");
  auto del = ParseDeleteObjects(
      "<DeleteResult><Deleted><Key>a</Key></Deleted><Error><Key>b</Key><Code>AccessDenied</Code>"
      "<Message>no</Message></Error></DeleteResult>");
  ASSERT_TRUE(del.ok());
  EXPECT_EQ(del->deleted.size(), 1u);
  ASSERT_EQ(del->errors.size(), 1u);
  EXPECT_EQ(del->errors[0].code, "AccessDenied");
}

TEST(S3Xml, MalformedInputIsCorruption) {
  const char* bad[] = {
      "",
      "   ",
      "<",
      "<a",
      "<a>",
      "<a></b>",
      "<a><b></a></b>",
      "<a>&unknown;</a>",
      "<a>&#0;</a>",
      "<a>&#xD800;</a>",
      "<a>&#x110000;</a>",
      "<a>&amp</a>",
      "<a b=c></a>",
      "<a b=\"1></a>",
      "<a></a><b></b>",
      "<a></a>trailing",
      "<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>",
      "<a><!-- unterminated </a>",
      "<a><![CDATA[x</a>",
      "<?xml version=\"1.0\"",
      "</a>",
      "<a/ >",
  };
  for (const char* b : bad) {
    auto r = Parse(b);
    EXPECT_FALSE(r.ok()) << "accepted: " << b;
    if (!r.ok()) {
      EXPECT_TRUE(r.status().IsCorruption());
    }
  }
  // Deep nesting is refused, not a stack overflow.
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += "<a>";
  EXPECT_FALSE(Parse(deep).ok());
  // Well-formed but the wrong document.
  EXPECT_FALSE(ParseListObjectsV2("<Error><Code>x</Code></Error>").ok());
  EXPECT_FALSE(ParseListObjectsV2("<ListBucketResult><IsTruncated>maybe</IsTruncated></ListBucketResult>").ok());
  EXPECT_FALSE(ParseListObjectsV2("<ListBucketResult><Contents><Key>k</Key><Size>-1</Size></Contents></ListBucketResult>").ok());
  EXPECT_FALSE(ParseListObjectsV2("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>").ok());
  EXPECT_FALSE(ParseError("<Error></Error>").ok());
}

TEST(S3Xml, WellFormedOddities) {
  auto r = Parse("\xEF\xBB\xBF<?xml version='1.0'?><!-- c --><s3:a xmlns:s3='u' x = \"1\"><b/><![CDATA[<raw>&]]><c>t</c ></s3:a><!-- end -->\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->name, "a");
  EXPECT_EQ(r->text, "<raw>&");
  ASSERT_EQ(r->children.size(), 2u);
  EXPECT_EQ(r->ChildText("c"), "t");
}

TEST(S3Xml, BuildersEscapeAndRoundTrip) {
  std::string body = BuildDeleteObjects({"a&b", "<k>", "plain"});
  auto doc = Parse(body);
  ASSERT_TRUE(doc.ok());
  ASSERT_EQ(doc->children.size(), 4u);
  EXPECT_EQ(doc->children[1].ChildText("Key"), "a&b");
  EXPECT_EQ(doc->children[2].ChildText("Key"), "<k>");
  std::string complete = BuildCompleteMultipartUpload({"e1", "e2"});
  EXPECT_NE(complete.find("<Part><PartNumber>2</PartNumber><ETag>\"e2\"</ETag></Part>"), std::string::npos);
}

}  // namespace
}  // namespace tb::storage::s3xml
