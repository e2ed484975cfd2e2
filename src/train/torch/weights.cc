#include "train/torch/weights.h"

#include <torch/csrc/jit/serialization/pickle.h>

#include <set>
#include <string>
#include <vector>

#include "train/state_dict.h"
#include "util/fs.h"

namespace tb::train::torchplugin {
namespace {

std::string ShapeString(at::IntArrayRef sizes) {
  std::string s = "[";
  for (size_t i = 0; i < sizes.size(); ++i) s += (i ? ", " : "") + std::to_string(sizes[i]);
  return s + "]";
}

}  // namespace

Status SaveWeights(const Params& params, const std::string& path) {
  c10::Dict<std::string, at::Tensor> dict;
  for (int i = 0; i < kNumParams; ++i) {
    dict.insert(kParamNames[i], params[i].detach().to(at::kCPU).contiguous());
  }
  std::vector<char> bytes = torch::jit::pickle_save(c10::IValue(dict));
  Status st = WriteFileAtomic(path, std::string_view(bytes.data(), bytes.size()));
  return st.ok() ? st : st.Prefix("saving the model");
}

Status LoadWeights(const std::string& path, Params* params) {
  TB_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  Result<StateDict> dict = ParseStateDict(bytes, path);
  if (!dict.ok()) return dict.status().Prefix("loading the model");
  std::set<std::string> seen;
  for (const StoredTensor& t : dict->tensors) {
    int index = -1;
    for (int i = 0; i < kNumParams; ++i) {
      if (t.name == kParamNames[i]) index = i;
    }
    if (index < 0) {
      return Status::InvalidArgument("loading the model " + path + ": unexpected key '" + t.name +
                                     "' (not a parameter of the tutorial Net)");
    }
    at::Tensor& p = (*params)[index];
    if (at::IntArrayRef(t.sizes) != p.sizes()) {
      return Status::InvalidArgument("loading the model " + path + ": " + t.name + " has shape " +
                                     ShapeString(t.sizes) + ", the Net needs " +
                                     ShapeString(p.sizes()));
    }
    Result<std::vector<float>> values = TensorFloats(*dict, t);
    if (!values.ok()) return values.status().Prefix("loading the model " + path);
    c10::NoGradGuard no_grad;
    p.copy_(at::from_blob(values->data(), p.sizes(), at::kFloat));
    seen.insert(t.name);
  }
  for (const char* name : kParamNames) {
    if (!seen.count(name)) {
      return Status::InvalidArgument("loading the model " + path + ": missing key '" +
                                     std::string(name) + "'");
    }
  }
  return Status::Ok();
}

}  // namespace tb::train::torchplugin
