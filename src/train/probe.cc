// ProbeDevice: is the training plugin loadable, and which device would `device` select?
#include "train/plugin_abi.h"
#include "train/train.h"

namespace tb::train {

Result<std::string> ProbeDevice(const std::string& device) {
  TB_ASSIGN_OR_RETURN(void* train_fn, TorchPluginSymbol("tb_torch_train"));
  (void)train_fn;
  // Optional entry point: void tb_torch_probe_device(const std::string*, std::string*, tb::Status*)
  auto probe = TorchPluginSymbol("tb_torch_probe_device");
  if (!probe.ok()) return "libtorch plugin loaded; device " + device;
  using ProbeFn = void (*)(const std::string*, std::string*, Status*);
  std::string resolved;
  Status status;
  reinterpret_cast<ProbeFn>(*probe)(&device, &resolved, &status);
  if (!status.ok()) return status;
  return resolved;
}

}  // namespace tb::train
