// Where an S3 client's credentials, region and endpoint come from, resolved the way the AWS
// CLI/SDKs do:
//   credentials: explicit Options::profile -> that profile; else AWS_ACCESS_KEY_ID +
//                AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN); else the profile named by
//                AWS_PROFILE (or "default") in AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials)
//                and AWS_CONFIG_FILE (~/.aws/config, sections "[profile NAME]" / "[default]").
//   region:      Options::region, AWS_REGION, AWS_DEFAULT_REGION, the profile's region, us-east-1.
//   endpoint:    Options::endpoint_url, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the profile's
//                endpoint_url, else https://s3.<region>.amazonaws.com.
// Secrets never appear in any Status message or in Describe() output.
//
// Thread-safety: Resolve reads the environment and files; call it before starting threads
// that modify the environment (nothing in tierbench does).
#pragma once

#include <map>
#include <string>

#include "storage/storage.h"
#include "util/status.h"

namespace tb::storage {

struct AwsConfig {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  std::string region;
  std::string endpoint_url;   // scheme://host[:port], no trailing slash
  std::string profile;        // the profile used ("" when credentials came from env)
  std::string source;         // where the credentials came from, for messages ("env", "profile x in FILE")

  // "AwsConfig{key AKID…XYZ, region r, endpoint e, source s}" with the key id redacted.
  std::string Describe() const;
};

Result<AwsConfig> ResolveAwsConfig(const Options& options);

// One INI file: section -> key -> value. Keys lowercased and trimmed; "#"/";" comments;
// nested (indented) sub-keys such as "s3 =\n  addressing_style = path" are kept as
// "s3.addressing_style". Errors name the file and line (never a value).
using IniFile = std::map<std::string, std::map<std::string, std::string>>;
Result<IniFile> ParseIni(const std::string& text, const std::string& path_for_errors);

}  // namespace tb::storage
