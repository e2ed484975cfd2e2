// A small, strict XML reader for the S3 responses tierbench needs, and builders for the two
// request bodies it sends (CompleteMultipartUpload, DeleteObjects).
//
// The parser takes untrusted bytes: every access is bounds-checked, nesting depth and
// element count are limited, tags must match, entities (&amp; &lt; &gt; &quot; &apos; &#N;
// &#xN;) are decoded and anything else malformed is Corruption. Namespaces and attributes
// are parsed and ignored; DOCTYPE is rejected (no entity expansion).
//
// Thread-safety: free functions, reentrant.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/status.h"

namespace tb::storage::s3xml {

struct Element {
  std::string name;  // local name (prefix removed)
  std::string text;  // decoded character data directly inside this element
  std::vector<Element> children;

  // First child named `name`, or nullptr.
  const Element* Child(std::string_view name) const;
  // Text of the first child named `name`, or "" when absent.
  std::string ChildText(std::string_view name) const;
};

// Parses one document (optional prolog/comments, exactly one root element).
Result<Element> Parse(std::string_view bytes);

struct ObjectEntry {
  std::string key;
  uint64_t size_bytes = 0;
  std::string etag;  // quotes removed
};

struct ListObjectsV2Result {
  std::vector<ObjectEntry> contents;
  std::vector<std::string> common_prefixes;
  bool is_truncated = false;
  std::string next_continuation_token;
};

struct ErrorDocument {
  std::string code;
  std::string message;
  std::string request_id;
  std::string resource;
};

struct InitiateMultipartUploadResult {
  std::string bucket, key, upload_id;
};

struct CompleteMultipartUploadResult {
  std::string location, bucket, key, etag;  // etag quotes removed; may be empty (Ceph RGW 16)
};

struct MultipartUpload {
  std::string key, upload_id;
};

struct ListMultipartUploadsResult {
  std::vector<MultipartUpload> uploads;
  bool is_truncated = false;
  std::string next_key_marker, next_upload_id_marker;
};

struct DeleteError {
  std::string key, code, message;
};

struct DeleteObjectsResult {
  std::vector<std::string> deleted;
  std::vector<DeleteError> errors;
};

// Each returns Corruption naming the document type when the bytes are not that document.
Result<ListObjectsV2Result> ParseListObjectsV2(std::string_view bytes);
Result<ErrorDocument> ParseError(std::string_view bytes);
Result<InitiateMultipartUploadResult> ParseInitiateMultipartUpload(std::string_view bytes);
// A 200 response to CompleteMultipartUpload may carry an <Error> document: that is returned
// as a non-OK status (Network, retryable when the code is InternalError/SlowDown).
Result<CompleteMultipartUploadResult> ParseCompleteMultipartUpload(std::string_view bytes);
Result<ListMultipartUploadsResult> ParseListMultipartUploads(std::string_view bytes);
Result<DeleteObjectsResult> ParseDeleteObjects(std::string_view bytes);

// Escapes & < > " ' for element text.
std::string Escape(std::string_view text);
// <CompleteMultipartUpload> with parts 1..N (etags without quotes).
std::string BuildCompleteMultipartUpload(const std::vector<std::string>& part_etags);
// <Delete><Quiet>true</Quiet> with the given keys.
std::string BuildDeleteObjects(const std::vector<std::string>& keys);

}  // namespace tb::storage::s3xml
