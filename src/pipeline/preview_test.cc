// Preview in the streamed scenario over mem://: no local folder, so the grid comes from the
// test split pickled decoded (kept in memory), or from the test split read through the tier.
#include <gtest/gtest.h>

#include <filesystem>

#include "pipeline/streamed_testing.h"

namespace tb::pipeline {
namespace {

using namespace streamed_testing;

TEST(PreviewStreamed, RendersTheTestSplitPickledDecoded) {
  PutDataset("preview-pickled");
  tb::testing::TempDir tmp;
  JobConfig cfg = Streamed("preview-pickled");
  cfg.preview_out = tmp / "grid.png";
  Context ctx(cfg);
  Quiet(ctx);
  ASSERT_TRUE(RunStage(NewVerifyStage(), ctx).status.ok());
  ASSERT_TRUE(RunStage(NewPickledStage(), ctx).status.ok());
  ASSERT_TRUE(ctx.test_split.has_value());
  EXPECT_EQ(ctx.test_split->count, static_cast<size_t>(kTestImages));
  // The tier's copy is gone: preview reads nothing (it has the label names from meta too).
  storage::NewMemoryStorage("preview-pickled");
  ctx.label_names = dataset::Cifar10LabelNames();
  Ran preview = RunStage(NewPreviewStage(), ctx);
  ASSERT_TRUE(preview.status.ok()) << preview.status.ToString();
  EXPECT_EQ(preview.detail["images_from"], "test split decoded by pickled") << preview.detail;
  EXPECT_EQ(preview.detail["split"], "test");
  EXPECT_EQ(preview.detail["gets"], 0);
  EXPECT_EQ(preview.detail["classes"].size(), 4u);
  EXPECT_TRUE(std::filesystem::exists(cfg.preview_out));
  EXPECT_EQ(preview.bytes, std::filesystem::file_size(cfg.preview_out));
  EXPECT_FALSE(ctx.test_split.has_value());  // freed once rendered
}

TEST(PreviewStreamed, ReadsTheTestSplitThroughTheTierWithoutPickled) {
  PutDataset("preview-tier");
  tb::testing::TempDir tmp;
  JobConfig cfg = Streamed("preview-tier");
  cfg.preview_out = tmp / "out/grid.png";
  cfg.preview_count = 3;
  Context ctx(cfg);
  Quiet(ctx);
  Ran preview = RunStage(NewPreviewStage(), ctx);
  ASSERT_TRUE(preview.status.ok()) << preview.status.ToString();
  EXPECT_EQ(preview.detail["images_from"], "test split read through the tier") << preview.detail;
  EXPECT_EQ(preview.detail["gets"], 2);  // test_batch and batches.meta
  EXPECT_EQ(preview.detail["classes"].size(), 3u);
  EXPECT_TRUE(std::filesystem::exists(cfg.preview_out));

  // Pickled keeps its test split only when preview is to run.
  cfg.enabled[static_cast<size_t>(StageId::kPreview)] = false;
  Context off(cfg);
  Quiet(off);
  ASSERT_TRUE(RunStage(NewPickledStage(), off).status.ok());
  EXPECT_FALSE(off.test_split.has_value());

  // More images asked for than the test split holds: an error naming the split.
  cfg.preview_count = kTestImages + 1;
  Context many(cfg);
  Quiet(many);
  Ran too_many = RunStage(NewPreviewStage(), many);
  ASSERT_FALSE(too_many.status.ok());
  EXPECT_NE(too_many.status.message().find("preview-tier/cifar-10-batches-py (test split) has 4 images"),
            std::string::npos)
      << too_many.status.message();
}

}  // namespace
}  // namespace tb::pipeline
