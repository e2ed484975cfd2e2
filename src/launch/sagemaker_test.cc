#include "launch/sagemaker.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "util/fs.h"
#include "util/testing.h"

namespace tb::launch {
namespace {

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(SageMaker, DecodesJsonEncodedHyperparameters) {
  EXPECT_EQ(DecodeHyperparameter("2"), "2");
  EXPECT_EQ(DecodeHyperparameter("\"cpu\""), "cpu");
  EXPECT_EQ(DecodeHyperparameter("0.001"), "0.001");
  EXPECT_EQ(DecodeHyperparameter("cpu"), "cpu");  // not JSON: taken as is
  EXPECT_EQ(DecodeHyperparameter("true"), "true");
}

TEST(SageMaker, ReadsTheContainerTree) {
  tb::testing::TempDir ml;
  ASSERT_TRUE(MakeDirs(ml / "input/config").ok());
  ASSERT_TRUE(MakeDirs(ml / "input/data/training").ok());
  ASSERT_TRUE(WriteFileAtomic(ml / "input/config/hyperparameters.json",
                              R"({"epochs": "3", "batch-size": "8", "lr": "0.01", "device": "\"cpu\"",
                                  "sagemaker_program": "\"train.py\"", "colour": "\"blue\""})")
                  .ok());
  Result<SageMakerContext> c = LoadSageMakerContext(ml.path(), FakeEnv({}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->active);
  EXPECT_EQ(c->hyperparameters_source, ml / "input/config/hyperparameters.json");
  EXPECT_EQ(c->training_dir, ml / "input/data/training");
  EXPECT_EQ(c->model_dir, ml / "model");
  EXPECT_EQ(c->failure_path, ml / "output/failure");

  train::TrainOptions o;
  std::vector<std::string> ignored;
  ASSERT_TRUE(ApplyHyperparameters(c->hyperparameters, &o, &ignored).ok());
  EXPECT_EQ(o.epochs, 3);
  EXPECT_EQ(o.batch_size, 8);
  EXPECT_DOUBLE_EQ(o.lr, 0.01);
  EXPECT_EQ(o.device, "cpu");
  EXPECT_DOUBLE_EQ(o.momentum, 0.9);  // untouched default
  EXPECT_EQ(ignored, std::vector<std::string>{"colour"});
}

TEST(SageMaker, EnvironmentVariablesWin) {
  tb::testing::TempDir ml;
  ASSERT_TRUE(MakeDirs(ml / "input/config").ok());
  ASSERT_TRUE(WriteFileAtomic(ml / "input/config/hyperparameters.json", R"({"epochs": "3"})").ok());
  Result<SageMakerContext> c = LoadSageMakerContext(
      "", FakeEnv({{"TB_SM_PREFIX", ml.path()},
                   {"SM_HPS", R"({"epochs": 5, "batch_size": 16, "device": "cpu"})"},
                   {"SM_CHANNEL_TRAINING", "/data/train"},
                   {"SM_MODEL_DIR", "/somewhere/model"}}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->prefix, ml.path());
  EXPECT_EQ(c->hyperparameters_source, "SM_HPS");
  EXPECT_EQ(c->training_dir, "/data/train");
  EXPECT_EQ(c->model_dir, "/somewhere/model");
  train::TrainOptions o;
  ASSERT_TRUE(ApplyHyperparameters(c->hyperparameters, &o, nullptr).ok());
  EXPECT_EQ(o.epochs, 5);
  EXPECT_EQ(o.batch_size, 16);
}

TEST(SageMaker, InactiveOutsideAContainer) {
  Result<SageMakerContext> c = LoadSageMakerContext("", FakeEnv({{"TB_SM_PREFIX", ""}}));
  ASSERT_TRUE(c.ok());
  if (c->active) GTEST_SKIP() << "/opt/ml exists on this machine";
  EXPECT_TRUE(c->model_dir.empty());
  EXPECT_TRUE(c->failure_path.empty());
  EXPECT_TRUE(WriteFailure(*c, "nothing happens").ok());
}

TEST(SageMaker, BadInputIsNamed) {
  tb::testing::TempDir ml;
  ASSERT_TRUE(MakeDirs(ml / "input/config").ok());
  ASSERT_TRUE(WriteFileAtomic(ml / "input/config/hyperparameters.json", "{not json").ok());
  Result<SageMakerContext> c = LoadSageMakerContext(ml.path(), FakeEnv({}));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("hyperparameters.json: not valid JSON"), std::string::npos);

  train::TrainOptions o;
  Status st = ApplyHyperparameters({{"epochs", "two"}}, &o, nullptr);
  EXPECT_TRUE(st.IsInvalidArgument());
  EXPECT_NE(st.message().find("epochs='two'"), std::string::npos);
}

// Values are range-checked before they are narrowed to the option's type: 2^32 + 2 workers
// must not become 2, a negative step count or a NaN learning rate must not pass.
TEST(SageMaker, HyperparametersOutOfRangeAreRefused) {
  for (auto [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"workers", "4294967298"}, {"threads", "100000000"}, {"max_steps", "-1"}, {"lr", "nan"},
           {"batch_size", "0"}, {"momentum", "1"}, {"epochs", "-3"}, {"eval_batch_size", "100000000"}}) {
    train::TrainOptions o;
    Status st = ApplyHyperparameters({{name, value}}, &o, nullptr);
    ASSERT_FALSE(st.ok()) << name << "=" << value << " was accepted";
    EXPECT_TRUE(st.IsInvalidArgument()) << st.ToString();
    EXPECT_NE(st.message().find("hyperparameter " + name), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("out of range"), std::string::npos) << st.message();
  }
  train::TrainOptions o;
  ASSERT_TRUE(ApplyHyperparameters({{"workers", "1024"}, {"max_steps", "0"}}, &o, nullptr).ok());
  EXPECT_EQ(o.workers, 1024);
}

TEST(SageMaker, WritesTheFailureFile) {
  tb::testing::TempDir ml;
  Result<SageMakerContext> c = LoadSageMakerContext(ml.path(), FakeEnv({}));
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(WriteFailure(*c, "train: no dataset").ok());
  EXPECT_EQ(*ReadFile(ml / "output/failure"), "train: no dataset\n");
}

}  // namespace
}  // namespace tb::launch
