// The streamed scenario over mem://: verify keeps the batch files' bytes it hashed (md5
// matched, within verify.keep_bytes) and pickled decodes them instead of a second GET; files
// not kept (over the limit, verify skipped) are read again through the train source. meta
// takes batches.meta from verify's bytes the same way.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "pipeline/streamed_testing.h"

namespace tb::pipeline {
namespace {

using namespace streamed_testing;

TEST(PickledStreamed, DecodesVerifysBytesWithoutASecondRead) {
  auto files = PutDataset("pickled-one-read");
  JobConfig cfg = Streamed("pickled-one-read");
  Context ctx(cfg);
  Quiet(ctx);
  Ran verify = RunStage(NewVerifyStage(), ctx);
  ASSERT_TRUE(verify.status.ok()) << verify.status.ToString();
  EXPECT_EQ(verify.detail["gets"], 7) << verify.detail;        // one GET per manifest entry
  EXPECT_EQ(verify.detail["kept_files"], 7) << verify.detail;  // the batch files and batches.meta
  uint64_t kept_bytes = 0;
  for (const auto& [name, bytes] : files) kept_bytes += bytes.size();
  EXPECT_EQ(verify.detail["kept_bytes"], kept_bytes);
  ASSERT_EQ(ctx.verified_bytes.size(), 7u);
  EXPECT_EQ(ctx.verified_bytes.at("data_batch_3"), files["data_batch_3"]);

  // The tier's copy changes after verify: pickled decodes what verify hashed, never this.
  Put("pickled-one-read", "cifar-10-batches-py/data_batch_1", "not a pickle");
  Ran pickled = RunStage(NewPickledStage(), ctx);
  ASSERT_TRUE(pickled.status.ok()) << pickled.status.ToString();
  EXPECT_EQ(pickled.detail["read_from"], "verify's read") << pickled.detail;
  EXPECT_EQ(pickled.detail["files_read_again"], 0);
  EXPECT_EQ(pickled.detail["gets"], 0);
  EXPECT_EQ(pickled.bytes, 0u);  // nothing crossed the network in pickled
  EXPECT_EQ(pickled.files, 6u);
  EXPECT_EQ(pickled.detail["train_images"], kFiles * kPerFile);
  EXPECT_EQ(pickled.detail["test_images"], kTestImages);
  EXPECT_EQ(pickled.detail["pixel_bytes"], kTestImages * dataset::kImageBytes);
  ASSERT_EQ(ctx.verified_bytes.size(), 1u);  // pickled freed its files and left meta's
  EXPECT_EQ(ctx.verified_bytes.count("batches.meta"), 1u);

  // meta: the label names from verify's bytes, no GET (the tier's copy is gone by now).
  Put("pickled-one-read", "cifar-10-batches-py/batches.meta", "not a pickle either");
  Ran meta = RunStage(NewMetaStage(), ctx);
  ASSERT_TRUE(meta.status.ok()) << meta.status.ToString();
  EXPECT_EQ(meta.detail["read_from"], "verify's read") << meta.detail;
  EXPECT_EQ(meta.detail["label_names"].size(), 10u) << meta.detail;
  EXPECT_EQ(meta.bytes, 0u);
  EXPECT_TRUE(ctx.verified_bytes.empty());
}

TEST(PickledStreamed, FilesPastTheLimitAreReadAgain) {
  auto files = PutDataset("pickled-limit");
  JobConfig cfg = Streamed("pickled-limit");
  const uint64_t two = files["data_batch_1"].size() + files["data_batch_2"].size();
  // batches.meta, data_batch_1 and 2 fit (hashed in the manifest's order)
  cfg.verify_keep_bytes = files["batches.meta"].size() + two;
  Context ctx(cfg);
  Quiet(ctx);
  Ran verify = RunStage(NewVerifyStage(), ctx);
  ASSERT_TRUE(verify.status.ok()) << verify.status.ToString();
  EXPECT_EQ(verify.detail["kept_files"], 3) << verify.detail;
  EXPECT_EQ(verify.detail["kept_bytes"], files["batches.meta"].size() + two);
  EXPECT_EQ(verify.detail["not_kept_files"], 4);
  EXPECT_EQ(ctx.verified_bytes.count("data_batch_1") + ctx.verified_bytes.count("data_batch_2"), 2u);

  Ran pickled = RunStage(NewPickledStage(), ctx);
  ASSERT_TRUE(pickled.status.ok()) << pickled.status.ToString();
  EXPECT_EQ(pickled.detail["read_from"], "verify's read and tier") << pickled.detail;
  EXPECT_EQ(pickled.detail["files_read_again"], 4);
  EXPECT_EQ(pickled.detail["gets"], 4);
  EXPECT_EQ(pickled.bytes, files["data_batch_3"].size() + files["data_batch_4"].size() + files["data_batch_5"].size() +
                               files["test_batch"].size());
  EXPECT_EQ(pickled.detail["train_images"], kFiles * kPerFile);
  EXPECT_EQ(pickled.detail["test_images"], kTestImages);
  EXPECT_EQ(ctx.verified_bytes.size(), 1u);  // batches.meta, for meta

  // The same labels as a load that reads every file through the tier (keep_bytes = 0).
  cfg.verify_keep_bytes = 0;
  Context again(cfg);
  Quiet(again);
  Ran verify0 = RunStage(NewVerifyStage(), again);
  ASSERT_TRUE(verify0.status.ok());
  EXPECT_EQ(verify0.detail["kept_files"], 0);
  Ran all = RunStage(NewPickledStage(), again);
  ASSERT_TRUE(all.status.ok()) << all.status.ToString();
  EXPECT_EQ(all.detail["read_from"], "tier");
  EXPECT_EQ(all.detail["files_read_again"], 6);
  EXPECT_EQ(all.detail["train_label_histogram"], pickled.detail["train_label_histogram"]);
}

TEST(PickledStreamed, WithoutVerifyEveryFileIsReadThroughTheTier) {
  PutDataset("pickled-no-verify");
  JobConfig cfg = Streamed("pickled-no-verify");
  Context ctx(cfg);
  Quiet(ctx);
  Ran pickled = RunStage(NewPickledStage(), ctx);
  ASSERT_TRUE(pickled.status.ok()) << pickled.status.ToString();
  EXPECT_EQ(pickled.detail["read_from"], "tier") << pickled.detail;
  EXPECT_EQ(pickled.detail["files_read_again"], 6);
  EXPECT_EQ(pickled.detail["gets"], 6);
  EXPECT_EQ(pickled.detail["files_from"], "folder");
  EXPECT_EQ(pickled.detail["train_images"], kFiles * kPerFile);

  // Pickled switched off: verify keeps nothing for it (only batches.meta, for meta); meta
  // switched off too: nothing at all.
  cfg.enabled[static_cast<size_t>(StageId::kPickled)] = false;
  Context off(cfg);
  Quiet(off);
  Ran verify = RunStage(NewVerifyStage(), off);
  ASSERT_TRUE(verify.status.ok()) << verify.status.ToString();
  EXPECT_EQ(verify.detail["kept_files"], 1);
  EXPECT_EQ(off.verified_bytes.count("batches.meta"), 1u);
  cfg.enabled[static_cast<size_t>(StageId::kMeta)] = false;
  Context none(cfg);
  Quiet(none);
  Ran verify_none = RunStage(NewVerifyStage(), none);
  ASSERT_TRUE(verify_none.status.ok()) << verify_none.status.ToString();
  EXPECT_EQ(verify_none.detail["kept_files"], 0);
  EXPECT_TRUE(none.verified_bytes.empty());
}

TEST(PickledStreamed, AMismatchKeepsNothing) {
  PutDataset("pickled-mismatch");
  Put("pickled-mismatch", "cifar-10-batches-py/data_batch_2", "changed after the manifest");
  JobConfig cfg = Streamed("pickled-mismatch");
  Context ctx(cfg);
  Quiet(ctx);
  Ran verify = RunStage(NewVerifyStage(), ctx);
  ASSERT_FALSE(verify.status.ok());
  EXPECT_TRUE(verify.status.IsCorruption()) << verify.status.ToString();
  EXPECT_NE(verify.status.message().find("data_batch_2"), std::string::npos) << verify.status.message();
  EXPECT_TRUE(ctx.verified_bytes.empty());
  EXPECT_EQ(verify.detail["kept_files"], 0);
  EXPECT_EQ(verify.detail["kept_bytes"], 0);
}

TEST(PickledStreamed, NoTrainingFileAmongTheVerifiedOnesNamesTheDataset) {
  auto files = PutDataset("pickled-no-train");
  JobConfig cfg = Streamed("pickled-no-train");
  Context ctx(cfg);
  Quiet(ctx);
  ctx.verified_files = std::vector<std::string>{"test_batch", "batches.meta"};
  ctx.verified_bytes["test_batch"] = files["test_batch"];
  Ran pickled = RunStage(NewPickledStage(), ctx);
  ASSERT_FALSE(pickled.status.ok());
  EXPECT_TRUE(pickled.status.IsNotFound()) << pickled.status.ToString();
  EXPECT_NE(pickled.status.message().find("mem://pickled-no-train/cifar-10-batches-py: no data_batch_*"),
            std::string::npos)
      << pickled.status.message();
  EXPECT_TRUE(ctx.verified_bytes.empty());  // freed on failure too
}

}  // namespace
}  // namespace tb::pipeline
