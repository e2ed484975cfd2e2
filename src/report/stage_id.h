// The nine pipeline stages in order, and the outcome of a stage or a run. Names are fixed:
// they appear in results documents, tables and config keys (stages.<name>). Strings are used
// only at those boundaries; code compares the enums. Which scenario runs which stage, and the
// stage objects themselves, are in pipeline/stage.h.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tb::report {

enum class StageId { kDownload, kIntegrity, kExtract, kVerify, kPickled, kMeta, kUpload, kPreview, kTrain };
inline constexpr size_t kStageCount = 9;
inline constexpr std::array<StageId, kStageCount> kAllStages = {
    StageId::kDownload, StageId::kIntegrity, StageId::kExtract, StageId::kVerify, StageId::kPickled,
    StageId::kMeta,     StageId::kUpload,    StageId::kPreview, StageId::kTrain};
inline constexpr std::array<const char*, kStageCount> kStageNames = {
    "download", "integrity", "extract", "verify", "pickled", "meta", "upload", "preview", "train"};

inline const char* StageName(StageId id) { return kStageNames[static_cast<size_t>(id)]; }
inline std::optional<StageId> StageByName(std::string_view name) {
  for (StageId id : kAllStages)
    if (name == StageName(id)) return id;
  return std::nullopt;
}

// A stage's outcome; a run's is ok, failed or interrupted (never skipped).
enum class StageStatus { kOk, kSkipped, kFailed, kInterrupted };

inline const char* StatusName(StageStatus s) {
  switch (s) {
    case StageStatus::kOk: return "ok";
    case StageStatus::kSkipped: return "skipped";
    case StageStatus::kFailed: return "failed";
    case StageStatus::kInterrupted: return "interrupted";
  }
  return "failed";
}
inline std::optional<StageStatus> StatusByName(std::string_view name) {
  for (StageStatus s : {StageStatus::kOk, StageStatus::kSkipped, StageStatus::kFailed, StageStatus::kInterrupted})
    if (name == StatusName(s)) return s;
  return std::nullopt;
}
// failed or interrupted: the stages after it are skipped.
inline bool DidNotComplete(StageStatus s) { return s == StageStatus::kFailed || s == StageStatus::kInterrupted; }

}  // namespace tb::report
