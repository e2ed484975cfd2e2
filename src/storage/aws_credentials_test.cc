#include "storage/aws_credentials.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>

#include "util/fs.h"
#include "util/testing.h"

namespace tb::storage {
namespace {

// Clears every AWS_* variable and points HOME at a temp dir; restores all at scope exit.
class CleanAwsEnv {
 public:
  CleanAwsEnv() {
    for (const char* v : kVars) {
      const char* old = std::getenv(v);
      saved_.emplace_back(v, old ? std::optional<std::string>(old) : std::nullopt);
      unsetenv(v);
    }
    setenv("HOME", home_.path().c_str(), 1);
    EXPECT_TRUE(MakeDirs(home_ / ".aws").ok());
  }
  ~CleanAwsEnv() {
    for (const auto& [name, value] : saved_) {
      if (value) {
        setenv(name, value->c_str(), 1);
      } else {
        unsetenv(name);
      }
    }
  }
  std::string Home(const std::string& rel) const { return home_ / rel; }

 private:
  static constexpr const char* kVars[] = {
      "HOME", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
      "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", "AWS_REGION", "AWS_DEFAULT_REGION",
      "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"};
  testing::TempDir home_;
  std::vector<std::pair<const char*, std::optional<std::string>>> saved_;
};

constexpr char kSecret[] = "SECRETwJalrXUtnFEMIK7MDENGbPxRfiCY";

TEST(AwsCredentials, FromEnvironment) {
  CleanAwsEnv env;
  setenv("AWS_ACCESS_KEY_ID", "AKIAENVENVENV", 1);
  setenv("AWS_SECRET_ACCESS_KEY", kSecret, 1);
  setenv("AWS_SESSION_TOKEN", "tok", 1);
  setenv("AWS_DEFAULT_REGION", "eu-west-1", 1);
  setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9000/", 1);
  auto cfg = ResolveAwsConfig(Options{});
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->access_key_id, "AKIAENVENVENV");
  EXPECT_EQ(cfg->secret_access_key, kSecret);
  EXPECT_EQ(cfg->session_token, "tok");
  EXPECT_EQ(cfg->region, "eu-west-1");
  EXPECT_EQ(cfg->endpoint_url, "http://127.0.0.1:9000");
  EXPECT_EQ(cfg->Describe().find(kSecret), std::string::npos);
  EXPECT_EQ(cfg->Describe().find("AKIAENVENVENV"), std::string::npos);  // key id redacted too

  // AWS_REGION beats AWS_DEFAULT_REGION; AWS_ENDPOINT_URL_S3 beats AWS_ENDPOINT_URL; Options beat both.
  setenv("AWS_REGION", "ap-south-1", 1);
  setenv("AWS_ENDPOINT_URL_S3", "http://s3only:1", 1);
  cfg = ResolveAwsConfig(Options{});
  EXPECT_EQ(cfg->region, "ap-south-1");
  EXPECT_EQ(cfg->endpoint_url, "http://s3only:1");
  Options o;
  o.region = "us-west-2";
  o.endpoint_url = "https://opt:2";
  cfg = ResolveAwsConfig(o);
  EXPECT_EQ(cfg->region, "us-west-2");
  EXPECT_EQ(cfg->endpoint_url, "https://opt:2");
}

TEST(AwsCredentials, DefaultsToUsEast1AndAwsEndpoint) {
  CleanAwsEnv env;
  setenv("AWS_ACCESS_KEY_ID", "AKIAXXXXXXXX", 1);
  setenv("AWS_SECRET_ACCESS_KEY", kSecret, 1);
  auto cfg = ResolveAwsConfig(Options{});
  ASSERT_TRUE(cfg.ok());
  EXPECT_EQ(cfg->region, "us-east-1");
  EXPECT_EQ(cfg->endpoint_url, "https://s3.us-east-1.amazonaws.com");
}

TEST(AwsCredentials, ProfilesFromSharedFiles) {
  CleanAwsEnv env;
  ASSERT_TRUE(WriteFileAtomic(env.Home(".aws/credentials"),
                              "# comment\n[default]\naws_access_key_id = AKIADEFAULT1\n"
                              "aws_secret_access_key = defsecret\n\n"
                              "[dev]\n  AWS_Access_Key_ID=AKIADEV00001  \naws_secret_access_key=" +
                                  std::string(kSecret) + "\naws_session_token = devtoken\n")
                  .ok());
  ASSERT_TRUE(WriteFileAtomic(env.Home(".aws/config"),
                              "[default]\nregion = eu-central-1\n"
                              "[profile dev]\nregion = ca-central-1\ns3 =\n  endpoint_url = http://dev-s3:7480\n"
                              "[profile cfgonly]\naws_access_key_id = AKIACFGONLY1\n"
                              "aws_secret_access_key = cfgsecret\n")
                  .ok());
  auto def = ResolveAwsConfig(Options{});
  ASSERT_TRUE(def.ok()) << def.status().ToString();
  EXPECT_EQ(def->access_key_id, "AKIADEFAULT1");
  EXPECT_EQ(def->region, "eu-central-1");

  setenv("AWS_PROFILE", "dev", 1);
  auto dev = ResolveAwsConfig(Options{});
  ASSERT_TRUE(dev.ok()) << dev.status().ToString();
  EXPECT_EQ(dev->access_key_id, "AKIADEV00001");
  EXPECT_EQ(dev->secret_access_key, kSecret);
  EXPECT_EQ(dev->session_token, "devtoken");
  EXPECT_EQ(dev->region, "ca-central-1");
  EXPECT_EQ(dev->endpoint_url, "http://dev-s3:7480");
  EXPECT_EQ(dev->Describe().find(kSecret), std::string::npos);

  Options o;
  o.profile = "cfgonly";  // explicit profile wins over env keys
  setenv("AWS_ACCESS_KEY_ID", "AKIAENVENVENV", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
  auto cfgonly = ResolveAwsConfig(o);
  ASSERT_TRUE(cfgonly.ok()) << cfgonly.status().ToString();
  EXPECT_EQ(cfgonly->access_key_id, "AKIACFGONLY1");
  EXPECT_EQ(cfgonly->region, "us-east-1");

  // Alternate file locations.
  ASSERT_TRUE(WriteFileAtomic(env.Home("other-creds"), "[x]\naws_access_key_id=AKIAOTHER001\naws_secret_access_key=s\n").ok());
  setenv("AWS_SHARED_CREDENTIALS_FILE", env.Home("other-creds").c_str(), 1);
  o.profile = "x";
  auto other = ResolveAwsConfig(o);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->access_key_id, "AKIAOTHER001");
}

TEST(AwsCredentials, ErrorsNeverContainSecrets) {
  CleanAwsEnv env;
  // No credentials at all.
  auto none = ResolveAwsConfig(Options{});
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("no AWS credentials"), std::string::npos);
  // Unknown profile.
  Options o;
  o.profile = "nope";
  auto missing = ResolveAwsConfig(o);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("'nope' not found"), std::string::npos);
  // Malformed file: the error names file and line but not the secret on that line.
  ASSERT_TRUE(WriteFileAtomic(env.Home(".aws/credentials"),
                              "[default]\naws_access_key_id = AKIAAAAAAAAA\n" + std::string(kSecret) + "\n").ok());
  auto bad = ResolveAwsConfig(Options{});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("credentials:3"), std::string::npos) << bad.status().message();
  EXPECT_EQ(bad.status().message().find(kSecret), std::string::npos);
  // Key id without secret.
  ASSERT_TRUE(WriteFileAtomic(env.Home(".aws/credentials"), "[default]\naws_access_key_id = AKIAAAAAAAAA\n").ok());
  auto half = ResolveAwsConfig(Options{});
  ASSERT_FALSE(half.ok());
  EXPECT_NE(half.status().message().find("no aws_secret_access_key"), std::string::npos);
  // Bad endpoint scheme.
  setenv("AWS_ACCESS_KEY_ID", "AKIAXXXXXXXX", 1);
  setenv("AWS_SECRET_ACCESS_KEY", kSecret, 1);
  setenv("AWS_ENDPOINT_URL", "ftp://x", 1);
  auto ep = ResolveAwsConfig(Options{});
  ASSERT_FALSE(ep.ok());
  EXPECT_EQ(ep.status().message().find(kSecret), std::string::npos);
}

}  // namespace
}  // namespace tb::storage
