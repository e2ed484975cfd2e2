// S3 backend factory (implemented in s3_storage.cc). Credentials come from the standard AWS
// sources (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, AWS_PROFILE with
// ~/.aws/credentials and ~/.aws/config); the endpoint from Options::endpoint_url,
// AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL (default AWS: https://s3.<region>.amazonaws.com).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "storage/storage.h"

namespace tb::storage {

// Storage rooted at s3://bucket/prefix (prefix may be empty; keys are appended after a '/').
Result<std::unique_ptr<Storage>> NewS3Storage(const std::string& bucket, const std::string& prefix,
                                              const Options& options);

// The bucket named by an s3:// URI: "s3://b/p/x" -> "b". REQUIRES: `uri` starts with "s3://".
std::string S3BucketOf(std::string_view uri);

// Makes sure the bucket exists: true when it was created here (only with `create`), false when
// it was there already. A missing bucket without `create` is NotFound, naming the bucket and
// the endpoint.
Result<bool> EnsureBucket(const std::string& bucket, const Options& options, bool create);

}  // namespace tb::storage
