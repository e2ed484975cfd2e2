#include "pipeline/config.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

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
  EXPECT_FALSE(cfg->StageEnabled(StageId::kPreview));
  EXPECT_TRUE(cfg->StageEnabled(StageId::kTrain));
  EXPECT_EQ(cfg->manifest, "http://127.0.0.1:18080/data/cifar-10-batches-py.md5");
  EXPECT_EQ(cfg->model_dir, "/tmp/x/model");
  EXPECT_EQ(cfg->out.rfind("runs/S3_NVMe-", 0), 0u) << cfg->out;
  EXPECT_EQ(cfg->log.substr(cfg->log.size() - 4), ".log");
}

TEST(Config, OverridesWinAndAreTyped) {
  auto cfg = ParseConfigText(kStaged, "job.toml", {{"train.epochs", "3"}, {"stages.preview", "true"}});
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->epochs, 3);
  EXPECT_TRUE(cfg->StageEnabled(StageId::kPreview));
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

TEST(Config, VerifyKeepBytesDefaultsTo1GiBAndIsEchoed) {
  auto cfg = ParseConfigText(kStaged, "job.toml");
  ASSERT_TRUE(cfg.ok());
  EXPECT_EQ(cfg->verify_keep_bytes, uint64_t{1} << 30);
  auto none = ParseConfigText(std::string(kStaged) + "[verify]\nkeep_bytes = 0\n", "job.toml");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(none->verify_keep_bytes, 0u);
  auto small = ParseConfigText(kStaged, "job.toml", {{"verify.keep_bytes", "64MiB"}});
  ASSERT_TRUE(small.ok()) << small.status().ToString();
  EXPECT_EQ(nlohmann::json::parse(ConfigToJson(*small))["verify"]["keep_bytes"], uint64_t{64} << 20);
}

TEST(Config, DistributionIsReplicatedOrSharded) {
  auto cfg = ParseConfigText(kStaged, "job.toml");
  ASSERT_TRUE(cfg.ok());
  EXPECT_EQ(cfg->distribution, "replicated");
  auto sharded = ParseConfigText(std::string(kStaged) + "[pipeline]\ndistribution = \"sharded\"\n", "job.toml");
  ASSERT_TRUE(sharded.ok()) << sharded.status().ToString();
  EXPECT_EQ(sharded->distribution, "sharded");
  EXPECT_EQ(nlohmann::json::parse(ConfigToJson(*sharded))["pipeline"]["distribution"], "sharded");
  // SageMaker's own spelling is not a value here: the error names the key and the choices.
  auto bad = ParseConfigText(kStaged, "job.toml", {{"pipeline.distribution", "ShardedByS3Key"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.status().IsInvalidArgument());
  EXPECT_NE(bad.status().message().find("pipeline.distribution"), std::string::npos) << bad.status().message();
  EXPECT_NE(bad.status().message().find("ShardedByS3Key"), std::string::npos) << bad.status().message();
}

TEST(Config, InputModesAndTheStreamedScenario) {
  auto cfg = ParseConfigText(kStaged, "job.toml");
  ASSERT_TRUE(cfg.ok());
  EXPECT_EQ(cfg->input_mode, "file");
  EXPECT_EQ(cfg->shuffle, "");  // the mode's default: samples for file
  auto ff = ParseConfigText(kStaged, "job.toml", {{"train.input_mode", "fastfile"}, {"train.cache_bytes", "64MiB"}});
  ASSERT_TRUE(ff.ok()) << ff.status().ToString();
  EXPECT_EQ(ff->cache_bytes, uint64_t{64} << 20);
  EXPECT_EQ(nlohmann::json::parse(ConfigToJson(*ff))["train"]["input_mode"], "fastfile");
  // train.read_ahead: 4 by default, a TOML key or an override, echoed in the results' config.
  EXPECT_EQ(ff->read_ahead, 4);
  EXPECT_EQ(nlohmann::json::parse(ConfigToJson(*ff))["train"]["read_ahead"], 4);
  auto ahead = ParseConfigText(
      "scenario = \"streamed\"\n[streamed]\ndataset_uri = \"s3://b/p/cifar-10-batches-py\"\n[train]\nread_ahead = 16\n",
      "job.toml");
  ASSERT_TRUE(ahead.ok()) << ahead.status().ToString();
  EXPECT_EQ(ahead->read_ahead, 16);
  EXPECT_EQ(nlohmann::json::parse(ConfigToJson(*ahead))["train"]["read_ahead"], 16);
  auto far = ParseConfigText(kStaged, "job.toml", {{"train.read_ahead", "65"}});
  ASSERT_FALSE(far.ok());
  EXPECT_NE(far.status().message().find("'train.read_ahead' = 65 is out of range: allowed 1..64"), std::string::npos)
      << far.status().message();
  // Pipe cannot shuffle every image: it reads the files in turn.
  auto bad = ParseConfigText(kStaged, "job.toml", {{"train.input_mode", "pipe"}, {"train.shuffle", "samples"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("train.shuffle"), std::string::npos) << bad.status().message();
  bad = ParseConfigText(kStaged, "job.toml", {{"train.input_mode", "FastFile"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("train.input_mode"), std::string::npos) << bad.status().message();
  // streamed: the dataset URI is required; fastfile by default; the manifest beside it.
  bad = ParseConfigText("scenario = \"streamed\"\n", "job.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("streamed.dataset_uri"), std::string::npos) << bad.status().message();
  auto st = ParseConfigText("scenario = \"streamed\"\n[streamed]\ndataset_uri = \"s3://b/p/cifar-10-batches-py\"\n",
                            "job.toml");
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->input_mode, "fastfile");
  EXPECT_EQ(st->manifest, "s3://b/p/cifar-10-batches-py.md5");
  bad = ParseConfigText("scenario = \"streamed\"\n[streamed]\ndataset_uri = \"s3://b/p\"\n", "job.toml",
                        {{"train.input_mode", "file"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("train.input_mode"), std::string::npos) << bad.status().message();
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

// Each numeric key: the values just inside its range are accepted, the values just outside
// refused with an error naming the key, the value and the allowed range.
struct RangeCase {
  const char* key;
  std::vector<const char*> good, bad;
};

TEST(ConfigRanges, EveryNumericKeyBelowAtAndAboveItsRange) {
  const std::vector<RangeCase> cases = {
      {"s3.concurrency", {"1", "1024"}, {"0", "-1", "1025", "100000000"}},
      {"s3.part_size", {"5MiB", "5GiB"}, {"5242879", "4MiB", "5368709121", "6GiB", "0"}},
      {"train.epochs", {"1", "100000"}, {"0", "-1", "100001"}},
      {"train.batch_size", {"1", "65536"}, {"0", "65537", "4294967297"}},
      {"train.lr", {"1e-9", "0.001", "1000"}, {"0", "-0.1", "1000.5", "nan", "inf", "-inf"}},
      {"train.momentum", {"0", "0.9", "0.999"}, {"-0.01", "1", "nan"}},
      {"train.workers", {"0", "1024"}, {"-1", "1025", "100000000", "4294967297"}},
      {"train.threads", {"0", "1024"}, {"-1", "1025", "100000000"}},
      {"train.seed", {"0", "9223372036854775807"}, {"-1"}},
      {"train.max_steps", {"0", "1000000"}, {"-1", "-9223372036854775807"}},
      {"train.cache_bytes", {"0", "1GiB", "1TiB"}, {"2TiB"}},
      {"train.read_ahead", {"1", "4", "64"}, {"0", "-1", "65", "1024", "4294967297"}},
      {"preview.count", {"1", "4096"}, {"0", "4097"}},
      {"preview.scale", {"1", "64"}, {"0", "65"}},
      {"pipeline.verify_threads", {"0", "1024"}, {"-1", "1025"}},
      {"verify.keep_bytes", {"0", "1GiB", "1TiB"}, {"2TiB"}},
      {"pipeline.repeat", {"1", "1000"}, {"0", "-1", "1001"}},
      {"pipeline.warmup", {"0", "100"}, {"-1", "101"}},
      {"net.connect_timeout", {"0.001", "3600"}, {"0", "-1", "3601", "nan", "inf"}},
      {"net.read_timeout", {"1", "3600"}, {"0", "0.5", "3600.5", "inf"}},
      {"net.retries", {"0", "100"}, {"-1", "101"}},
      {"limits.max_download_bytes", {"1MiB", "16GiB"}, {"0", "1048575", "2048TiB"}},
      {"limits.max_expansion_ratio", {"1.5", "200", "1000000"}, {"1", "0", "-5", "1000001", "nan"}},
      {"limits.min_free_bytes", {"0", "1GiB"}, {"2048TiB"}},
      {"cluster.timeout", {"1", "86400"}, {"0", "-1", "86401", "nan", "inf"}},
      {"cluster.heartbeat_timeout", {"2", "3600"}, {"1.9", "0", "3601", "nan"}},
  };
  for (const auto& c : cases) {
    for (const char* v : c.good) {
      auto cfg = ParseConfigText(kStaged, "job.toml", {{c.key, v}});
      EXPECT_TRUE(cfg.ok()) << c.key << "=" << v << ": " << cfg.status().ToString();
    }
    for (const char* v : c.bad) {
      auto cfg = ParseConfigText(kStaged, "job.toml", {{c.key, v}});
      ASSERT_FALSE(cfg.ok()) << c.key << "=" << v << " was accepted";
      EXPECT_TRUE(cfg.status().IsInvalidArgument()) << cfg.status().ToString();
      const std::string& m = cfg.status().message();
      EXPECT_NE(m.find(std::string("'") + c.key + "'"), std::string::npos) << m;
      EXPECT_NE(m.find("allowed"), std::string::npos) << m;
      if (std::string(v).find_first_of("KMGPi") == std::string::npos) {
        EXPECT_NE(m.find(v), std::string::npos) << "the value is not named: " << m;
      }
    }
  }
  // Every numeric key has a range (and the test above one case for it), so a key added later
  // cannot accept any value.
  size_t numeric = 0;
  for (const auto& k : ConfigKeys()) {
    std::string type = k.type;
    if (type != "int" && type != "float" && type != "size") continue;
    ++numeric;
    EXPECT_STRNE(k.range, "") << k.key << " has no range";
    bool covered = false;
    for (const auto& c : cases) covered |= std::string(c.key) == k.key;
    EXPECT_TRUE(covered) << k.key << " has no range test";
  }
  EXPECT_EQ(numeric, cases.size());
}

TEST(ConfigRanges, TomlValuesAreCheckedBeforeNarrowing) {
  // 2^32 + 1 would become 1 worker once narrowed to int.
  const std::string rest = "[origin]\nurl = \"/a/b.tgz\"\n[stages]\nupload = false\n";
  auto wide = ParseConfigText("[train]\nworkers = 4294967297\n" + rest, "job.toml");
  ASSERT_FALSE(wide.ok());
  EXPECT_NE(wide.status().message().find("'train.workers' = 4294967297 is out of range: allowed 0..1024"),
            std::string::npos)
      << wide.status().message();
  auto nan = ParseConfigText("[train]\nlr = nan\n" + rest, "job.toml");
  ASSERT_FALSE(nan.ok());
  EXPECT_NE(nan.status().message().find("'train.lr'"), std::string::npos) << nan.status().message();
  auto neg = ParseConfigText("[train]\nmax_steps = -1\n" + rest, "job.toml");
  ASSERT_FALSE(neg.ok());
  EXPECT_NE(neg.status().message().find("'train.max_steps' = -1"), std::string::npos) << neg.status().message();
  auto part = ParseConfigText("[s3]\npart_size = \"6GiB\"\n" + rest, "j");
  ASSERT_FALSE(part.ok());
  EXPECT_NE(part.status().message().find("5MiB..5GiB"), std::string::npos) << part.status().message();
}

TEST(ConfigRanges, NetAndLimitKeysReachTheConfig) {
  auto cfg = ParseConfigText(std::string(kStaged) +
                                 "[net]\nconnect_timeout = 2.5\nread_timeout = 4\nretries = 1\n"
                                 "[limits]\nmax_download_bytes = \"1GiB\"\nmax_expansion_ratio = 50\n"
                                 "min_free_bytes = \"1MiB\"\n",
                             "job.toml");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_DOUBLE_EQ(cfg->connect_timeout_s, 2.5);
  EXPECT_DOUBLE_EQ(cfg->read_timeout_s, 4);
  EXPECT_EQ(cfg->retries, 1);
  EXPECT_EQ(cfg->max_download_bytes, 1ull << 30);
  EXPECT_DOUBLE_EQ(cfg->max_expansion_ratio, 50);
  EXPECT_EQ(cfg->min_free_bytes, 1ull << 20);
}

TEST(ConfigRanges, NetStreamsIsAutoOrACount) {
  auto def = ParseConfigText(kStaged, "job.toml");
  ASSERT_TRUE(def.ok()) << def.status().ToString();
  EXPECT_EQ(def->streams, "auto");
  for (const char* good : {"auto", "1", "1024"}) {
    auto cfg = ParseConfigText(kStaged, "job.toml", {{"net.streams", good}});
    ASSERT_TRUE(cfg.ok()) << good << ": " << cfg.status().ToString();
    EXPECT_EQ(cfg->streams, good);
  }
  for (const char* bad : {"0", "1025", "-1", "4x", "", "Auto"}) {
    auto cfg = ParseConfigText(kStaged, "job.toml", {{"net.streams", bad}});
    ASSERT_FALSE(cfg.ok()) << bad;
    EXPECT_TRUE(cfg.status().IsInvalidArgument());
    EXPECT_NE(cfg.status().message().find("'net.streams'"), std::string::npos) << cfg.status().message();
    EXPECT_NE(cfg.status().message().find("\"auto\" or a number 1..1024"), std::string::npos)
        << cfg.status().message();
  }
}

}  // namespace
}  // namespace tb::pipeline

namespace tb::pipeline {
namespace {

TEST(ConfigCluster, KeysReachTheConfigAndTheLauncherIsChecked) {
  auto cfg = ParseConfigText(
      "scenario = \"inplace\"\n[inplace]\ndir = \"/d\"\n[cluster]\nlauncher = \"mpi\"\n"
      "rendezvous = \"head:29400\"\ninterface = \"eth1\"\ntimeout = 30\nheartbeat_timeout = 5\n",
      "job.toml");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->cluster_launcher, "mpi");
  EXPECT_EQ(cfg->cluster_rendezvous, "head:29400");
  EXPECT_EQ(cfg->cluster_interface, "eth1");
  EXPECT_EQ(cfg->cluster_timeout_s, 30);
  EXPECT_EQ(cfg->cluster_heartbeat_timeout_s, 5);
  auto bad =
      ParseConfigText("scenario = \"inplace\"\n[inplace]\ndir = \"/d\"\n[cluster]\nlauncher = \"pbs\"\n", "job.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("cluster.launcher"), std::string::npos) << bad.status().message();
}

}  // namespace
}  // namespace tb::pipeline
