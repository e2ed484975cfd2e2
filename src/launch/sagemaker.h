// The SageMaker training-container contract, as `tierbench train` honours it:
//   <prefix>/input/config/hyperparameters.json  hyperparameters; each value a JSON-encoded
//                                               string ("2", "\"cpu\"") as the SDK writes them
//   SM_HPS                                      the same as one JSON object (takes precedence)
//   SM_CHANNEL_TRAINING or <prefix>/input/data/training   the training channel (dataset)
//   SM_MODEL_DIR or <prefix>/model              where model.pth goes
//   <prefix>/output/failure                     the reason, when training fails
// prefix defaults to /opt/ml; --sm-prefix or TB_SM_PREFIX override it.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "train/train.h"
#include "util/status.h"

namespace tb::launch {

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup ProcessEnv();  // getenv

struct SageMakerContext {
  std::string prefix;
  // A SageMaker-style environment: the prefix exists (or was named explicitly), or an SM_*
  // variable is set. Only then are the default model and failure paths used.
  bool active = false;
  std::map<std::string, std::string> hyperparameters;  // decoded to plain strings
  std::string hyperparameters_source;                  // the file, "SM_HPS", or ""
  std::string training_dir;  // "" when no channel is configured or present
  std::string model_dir;     // "" when not active
  std::string failure_path;  // "" when not active
};

// `prefix_flag` is --sm-prefix ("" when absent). Errors name the file and the JSON problem.
Result<SageMakerContext> LoadSageMakerContext(const std::string& prefix_flag, const EnvLookup& env);

// Decodes one hyperparameter value: a JSON string holding JSON ("\"cpu\"" -> cpu, "2" -> 2),
// a plain string, or a JSON number/bool.
std::string DecodeHyperparameter(const std::string& json_value_text);

// Sets the train::TrainOptions fields named by hyperparameters (epochs, batch-size / batch_size,
// lr / learning-rate, momentum, workers, threads, seed, device, log-every, max-steps,
// engine, eval-batch-size, data, resume). Names starting with "sagemaker_" are the SDK's and
// are skipped; other unknown names are returned in `ignored`. Bad values are InvalidArgument.
Status ApplyHyperparameters(const std::map<std::string, std::string>& hps, train::TrainOptions* options,
                            std::vector<std::string>* ignored);

// Writes `reason` to the failure file (creating <prefix>/output); no-op when not active.
Status WriteFailure(const SageMakerContext& context, const std::string& reason);

}  // namespace tb::launch
