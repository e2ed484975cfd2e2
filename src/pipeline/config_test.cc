#include "pipeline/config.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace tb::pipeline {
namespace {

constexpr const char* kStaged = R"(
label = "S3+NVMe"
scenario = "staged"
scratch = "/tmp/x"
[origin]
url = "http://127.0.0.1:18080/data/cifar-10-python.tar.gz"
md5 = "C58F30108F718F92721AF3B95E74349A"
[upload]
dest = "s3://bucket/prefix"
[s3]
part_size = "16MiB"
[train]
epochs = 1
lr = 0.01
[stages]
preview = false
)";

TEST(Config, ParsesEveryTypeAndDerivesDefaults) {
  auto cfg = ParseConfigText(kStaged, "job.toml");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->label, "S3+NVMe");
  EXPECT_EQ(cfg->part_size_bytes, 16ull << 20);
  EXPECT_EQ(cfg->epochs, 1);
  EXPECT_DOUBLE_EQ(cfg->lr, 0.01);
  EXPECT_FALSE(cfg->StageEnabled("preview"));
  EXPECT_TRUE(cfg->StageEnabled("train"));
  EXPECT_EQ(cfg->manifest, "http://127.0.0.1:18080/data/cifar-10-batches-py.md5");
  EXPECT_EQ(cfg->model_dir, "/tmp/x/model");
  EXPECT_EQ(cfg->out.rfind("runs/S3_NVMe-", 0), 0u) << cfg->out;
  EXPECT_EQ(cfg->log.substr(cfg->log.size() - 4), ".log");
}

TEST(Config, OverridesWinAndAreTyped) {
  auto cfg = ParseConfigText(kStaged, "job.toml", {{"train.epochs", "3"}, {"stages.preview", "true"}});
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->epochs, 3);
  EXPECT_TRUE(cfg->StageEnabled("preview"));
  auto bad = ParseConfigText(kStaged, "job.toml", {{"train.epochs", "three"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.status().IsInvalidArgument());
  EXPECT_NE(bad.status().message().find("train.epochs"), std::string::npos);
}

TEST(Config, UnknownKeyIsNamed) {
  auto cfg = ParseConfigText("[train]\nepoch = 2\n", "job.toml");
  ASSERT_FALSE(cfg.ok());
  EXPECT_TRUE(cfg.status().IsInvalidArgument());
  EXPECT_NE(cfg.status().message().find("train.epoch"), std::string::npos);
  EXPECT_NE(cfg.status().message().find("job.toml"), std::string::npos);
}

TEST(Config, WrongTypeAndSyntaxErrorsNameKeyAndLine) {
  auto typed = ParseConfigText("scenario = 3\n", "job.toml");
  ASSERT_FALSE(typed.ok());
  EXPECT_NE(typed.status().message().find("'scenario'"), std::string::npos);
  auto syntax = ParseConfigText("label = \n", "job.toml");
  ASSERT_FALSE(syntax.ok());
  EXPECT_NE(syntax.status().message().find("job.toml:1"), std::string::npos);
}

TEST(Config, ScenarioRequirements) {
  auto inplace = ParseConfigText("scenario = \"inplace\"\n", "j");
  ASSERT_FALSE(inplace.ok());
  EXPECT_NE(inplace.status().message().find("inplace.dir"), std::string::npos);
  auto staged = ParseConfigText("scenario = \"staged\"\n", "j");
  ASSERT_FALSE(staged.ok());
  EXPECT_NE(staged.status().message().find("origin.url"), std::string::npos);
  auto upload = ParseConfigText("[upload]\ndest = \"http://x\"\n[origin]\nurl=\"/a/b.tgz\"\n", "j");
  ASSERT_FALSE(upload.ok());
  EXPECT_NE(upload.status().message().find("upload.dest"), std::string::npos);
  auto ok = ParseConfigText("scenario = \"inplace\"\n[inplace]\ndir = \"/mnt/weka/cifar-10-batches-py\"\n", "j");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->manifest, "/mnt/weka/cifar-10-batches-py.md5");
}

TEST(Config, JsonHasEffectiveValues) {
  auto cfg = ParseConfigText(kStaged, "job.toml");
  ASSERT_TRUE(cfg.ok());
  auto j = nlohmann::json::parse(ConfigToJson(*cfg));
  EXPECT_EQ(j["train"]["epochs"], 1);
  EXPECT_EQ(j["stages"]["preview"], false);
  EXPECT_EQ(j["upload"]["dest"], "s3://bucket/prefix");
}

TEST(Config, VerifyUnlistedIsWarnOrFail) {
  auto cfg = ParseConfigText(kStaged, "job.toml");
  ASSERT_TRUE(cfg.ok());
  EXPECT_EQ(cfg->verify_unlisted, "warn");
  auto fail = ParseConfigText(std::string(kStaged) + "[verify]\nunlisted = \"fail\"\n", "job.toml");
  ASSERT_TRUE(fail.ok()) << fail.status().ToString();
  EXPECT_EQ(fail->verify_unlisted, "fail");
  auto bad = ParseConfigText(kStaged, "job.toml", {{"verify.unlisted", "ignore"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.status().IsInvalidArgument());
  EXPECT_NE(bad.status().message().find("verify.unlisted"), std::string::npos) << bad.status().message();
}

TEST(Config, UploadCreatesABucketOnlyWhenTold) {
  auto cfg = ParseConfigText(kStaged, "job.toml");
  ASSERT_TRUE(cfg.ok());
  EXPECT_FALSE(cfg->upload_create_bucket);
  EXPECT_EQ(nlohmann::json::parse(ConfigToJson(*cfg))["upload"]["create_bucket"], false);
  auto keyed = ParseConfigText(
      "[origin]\nurl = \"/a/b.tgz\"\n[upload]\ndest = \"s3://b/p\"\ncreate_bucket = true\n", "job.toml");
  ASSERT_TRUE(keyed.ok()) << keyed.status().ToString();
  EXPECT_TRUE(keyed->upload_create_bucket);
  EXPECT_EQ(nlohmann::json::parse(ConfigToJson(*keyed))["upload"]["create_bucket"], true);
  auto flag = ParseConfigText(kStaged, "job.toml", {{"upload.create_bucket", "true"}});
  ASSERT_TRUE(flag.ok()) << flag.status().ToString();
  EXPECT_TRUE(flag->upload_create_bucket);
  auto bad = ParseConfigText(kStaged, "job.toml", {{"upload.create_bucket", "maybe"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("upload.create_bucket"), std::string::npos);
}

}  // namespace
}  // namespace tb::pipeline
