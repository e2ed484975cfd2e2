// libFuzzer entry point for the S3 XML reader:
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address -Isrc src/storage/s3_xml_fuzz.cc \
//     src/storage/s3_xml.cc src/util/status.cc -o s3_xml_fuzz && ./s3_xml_fuzz tests/fuzz/corpus/s3_xml
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "storage/s3_xml.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  using namespace tb::storage::s3xml;
  (void)Parse(in);
  (void)ParseListObjectsV2(in);
  (void)ParseError(in);
  (void)ParseInitiateMultipartUpload(in);
  (void)ParseCompleteMultipartUpload(in);
  (void)ParseListMultipartUploads(in);
  (void)ParseDeleteObjects(in);
  return 0;
}
