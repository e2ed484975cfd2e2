#include "dataset/cifar_writer.h"

#include <gtest/gtest.h>

#include "dataset/cifar.h"
#include "util/md5.h"

namespace tb::dataset {
namespace {

template <size_t N>
std::string Bytes(const char (&s)[N]) {
  return std::string(s, N - 1);
}

std::string Join(const EncodedBatch& e) { return e.head + std::string(e.pixels) + e.tail; }

BatchContent MakeBatch(size_t n) {
  static std::string pixels;
  pixels.assign(n * kImageBytes, '\0');
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<char>((i * 7 + i / 3072) & 0xFF);
  BatchContent b;
  b.batch_label = "training batch 1 of 5";
  for (size_t i = 0; i < n; ++i) {
    b.labels.push_back(static_cast<uint8_t>(i % 10));
    b.filenames.push_back("img_" + std::to_string(i) + ".png");
  }
  b.pixels = pixels;
  return b;
}

TEST(CifarWriterTest, MetaMatchesTheRealFileByteForByte) {
  // torchvision's md5 of the real cifar-10-batches-py/batches.meta.
  std::string meta = EncodeMeta(Cifar10LabelNames(), 10000, 2);
  EXPECT_EQ(meta.size(), 158u);
  EXPECT_EQ(ToHex(Md5Of(meta)), "5ff9c542aee3614f3951f8cda6e48888");
}

TEST(CifarWriterTest, Protocol2LayoutIsCPickleStyle) {
  BatchContent b = MakeBatch(3);
  auto e = EncodeBatch(b, 2);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  const std::string expected_head = Bytes(
      "\x80\x02}q\x01(U\x0b" "batch_labelq\x02U\x15training batch 1 of 5q\x03"
      "U\x06labelsq\x04]q\x05(K\x00K\x01K\x02" "e"
      "U\x04" "dataq\x06" "cnumpy.core.multiarray\n_reconstruct\nq\x07" "cnumpy\nndarray\nq\x08"
      "K\x00\x85U\x01" "b\x87Rq\x09(K\x01K\x03M\x00\x0c\x86"
      "cnumpy\ndtype\nq\x0aU\x02u1K\x00K\x01\x87Rq\x0b"
      "(K\x03U\x01|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89T\x00\x24\x00\x00");
  EXPECT_EQ(e->head, expected_head);
  EXPECT_EQ(e->tail.substr(0, 2), "tb");
  EXPECT_EQ(e->tail.substr(e->tail.size() - 2), "u.");
}

TEST(CifarWriterTest, RoundTripsThroughTheDecoderBothProtocols) {
  for (int protocol : {2, 4}) {
    for (size_t n : {1u, 2u, 999u, 1000u, 1001u, 2500u}) {
      BatchContent b = MakeBatch(n);
      auto e = EncodeBatch(b, protocol);
      ASSERT_TRUE(e.ok());
      auto decoded = DecodeBatchBytes(Join(*e), "mem");
      ASSERT_TRUE(decoded.ok()) << "protocol " << protocol << " n " << n << ": " << decoded.status().ToString();
      EXPECT_EQ(decoded->protocol, protocol);
      EXPECT_EQ(decoded->labels, b.labels);
      EXPECT_EQ(decoded->filenames, b.filenames);
      EXPECT_EQ(decoded->batch_label, b.batch_label);
      EXPECT_EQ(std::string(decoded->pixels.begin(), decoded->pixels.end()), std::string(b.pixels));
    }
  }
}

TEST(CifarWriterTest, MemoIdsPast255UseLongBinput) {
  BatchContent b = MakeBatch(300);
  auto e = EncodeBatch(b, 2);
  ASSERT_TRUE(e.ok());
  EXPECT_NE(e->tail.find(std::string("r\x00\x01\x00\x00", 5)), std::string::npos);
}

TEST(CifarWriterTest, RejectsMismatchedSizes) {
  BatchContent b = MakeBatch(2);
  b.labels.push_back(1);
  EXPECT_FALSE(EncodeBatch(b, 2).ok());
  EXPECT_FALSE(EncodeBatch(MakeBatch(1), 3).ok());
}

}  // namespace
}  // namespace tb::dataset
