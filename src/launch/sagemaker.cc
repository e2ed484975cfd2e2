#include "launch/sagemaker.h"

#include <sys/stat.h>

#include <cstdlib>
#include <type_traits>
#include <nlohmann/json.hpp>

#include "train/limits.h"
#include "util/fs.h"
#include "util/json.h"

namespace tb::launch {
namespace {

bool IsDir(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string Plain(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  return JsonText(v);
}

Result<std::map<std::string, std::string>> DecodeObject(const std::string& text,
                                                        const std::string& source) {
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded()) return Status::InvalidArgument(source + ": not valid JSON");
  if (!doc.is_object()) return Status::InvalidArgument(source + ": expected a JSON object");
  std::map<std::string, std::string> out;
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    out[it.key()] = it.value().is_string() ? DecodeHyperparameter(it.value().get<std::string>())
                                           : Plain(it.value());
  }
  return out;
}

Result<int64_t> ParseInt(const std::string& name, const std::string& v) {
  try {
    size_t used = 0;
    long long x = std::stoll(v, &used);
    if (used == v.size()) return static_cast<int64_t>(x);
  } catch (...) {
  }
  return Status::InvalidArgument("hyperparameter " + name + "='" + v + "': not an integer");
}

Result<double> ParseDouble(const std::string& name, const std::string& v) {
  try {
    size_t used = 0;
    double x = std::stod(v, &used);
    if (used == v.size()) return x;
  } catch (...) {
  }
  return Status::InvalidArgument("hyperparameter " + name + "='" + v + "': not a number");
}

// A hyperparameter's number, checked against its option's range (see limits.h) before it is
// narrowed to the option's type.
template <typename T>
Result<T> ParseInRange(const std::string& name, const std::string& option, const std::string& v) {
  double x = 0;
  if constexpr (std::is_floating_point_v<T>) {
    TB_ASSIGN_OR_RETURN(x, ParseDouble(name, v));
  } else {
    TB_ASSIGN_OR_RETURN(int64_t i, ParseInt(name, v));
    x = static_cast<double>(i);
  }
  TB_RETURN_IF_ERROR(train::CheckOptionRange(option, x).Prefix("hyperparameter " + name));
  return static_cast<T>(x);
}

}  // namespace

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

std::string DecodeHyperparameter(const std::string& text) {
  nlohmann::json v = nlohmann::json::parse(text, nullptr, false);
  if (v.is_discarded() || v.is_object() || v.is_array() || v.is_null()) return text;
  return Plain(v);
}

Result<SageMakerContext> LoadSageMakerContext(const std::string& prefix_flag, const EnvLookup& env) {
  SageMakerContext c;
  std::optional<std::string> env_prefix = env("TB_SM_PREFIX");
  bool named = !prefix_flag.empty() || (env_prefix && !env_prefix->empty());
  c.prefix = !prefix_flag.empty() ? prefix_flag : named ? *env_prefix : "/opt/ml";
  std::optional<std::string> hps = env("SM_HPS"), channel = env("SM_CHANNEL_TRAINING"),
                             model = env("SM_MODEL_DIR");
  c.active = named || IsDir(c.prefix) || hps || channel || model;

  if (hps && !hps->empty()) {
    TB_ASSIGN_OR_RETURN(c.hyperparameters, DecodeObject(*hps, "SM_HPS"));
    c.hyperparameters_source = "SM_HPS";
  } else {
    std::string path = c.prefix + "/input/config/hyperparameters.json";
    Result<std::string> text = ReadFile(path);
    if (text.ok()) {
      TB_ASSIGN_OR_RETURN(c.hyperparameters, DecodeObject(*text, path));
      c.hyperparameters_source = path;
    } else if (!text.status().IsNotFound()) {
      return text.status();
    }
  }
  if (channel && !channel->empty()) {
    c.training_dir = *channel;
  } else if (IsDir(c.prefix + "/input/data/training")) {
    c.training_dir = c.prefix + "/input/data/training";
  }
  if (model && !model->empty()) {
    c.model_dir = *model;
  } else if (c.active) {
    c.model_dir = c.prefix + "/model";
  }
  if (c.active) c.failure_path = c.prefix + "/output/failure";
  return c;
}

Status ApplyHyperparameters(const std::map<std::string, std::string>& hps, train::TrainOptions* o,
                            std::vector<std::string>* ignored) {
  for (const auto& [raw, v] : hps) {
    std::string name = raw;
    for (char& ch : name) {
      if (ch == '_') ch = '-';
    }
    if (raw.rfind("sagemaker_", 0) == 0) continue;
    if (name == "epochs") {
      TB_ASSIGN_OR_RETURN(o->epochs, ParseInRange<int>(raw, name, v));
    } else if (name == "batch-size") {
      TB_ASSIGN_OR_RETURN(o->batch_size, ParseInRange<int>(raw, name, v));
    } else if (name == "lr" || name == "learning-rate") {
      TB_ASSIGN_OR_RETURN(o->lr, ParseInRange<double>(raw, "lr", v));
    } else if (name == "momentum") {
      TB_ASSIGN_OR_RETURN(o->momentum, ParseInRange<double>(raw, name, v));
    } else if (name == "workers") {
      TB_ASSIGN_OR_RETURN(o->workers, ParseInRange<int>(raw, name, v));
    } else if (name == "threads") {
      TB_ASSIGN_OR_RETURN(o->threads, ParseInRange<int>(raw, name, v));
    } else if (name == "seed") {
      TB_ASSIGN_OR_RETURN(int64_t seed, ParseInt(raw, v));
      o->seed = static_cast<uint64_t>(seed);
    } else if (name == "device") {
      o->device = v;
    } else if (name == "log-every") {
      TB_ASSIGN_OR_RETURN(o->log_every, ParseInRange<int>(raw, name, v));
    } else if (name == "max-steps") {
      TB_ASSIGN_OR_RETURN(o->max_steps, ParseInRange<int64_t>(raw, name, v));
    } else if (name == "engine") {
      o->engine = v;
    } else if (name == "eval-batch-size") {
      TB_ASSIGN_OR_RETURN(o->eval_batch_size, ParseInRange<int>(raw, name, v));
    } else if (name == "data") {
      o->data_dir = v;
    } else if (name == "resume") {
      o->resume = v;
    } else if (ignored) {
      ignored->push_back(raw);
    }
  }
  return Status::Ok();
}

Status WriteFailure(const SageMakerContext& c, const std::string& reason) {
  if (c.failure_path.empty()) return Status::Ok();
  TB_RETURN_IF_ERROR(MakeDirs(c.prefix + "/output"));
  return WriteFileAtomic(c.failure_path, reason + "\n");
}

}  // namespace tb::launch
