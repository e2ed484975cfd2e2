// The device time of a training step on CUDA, from two CUDA events on the default stream (the
// stream libtorch's kernels and copies run on unless told otherwise). The CUDA runtime is found
// in the process at run time - libtorch's CUDA build has loaded it - so this file needs no CUDA
// headers and a CPU-only libtorch builds it unchanged; Create() then returns nullptr.
#pragma once

#include <memory>

#include "util/status.h"

namespace tb::train {

class CudaStepTimer {
 public:
  // nullptr when no CUDA runtime is loaded in this process or its event calls fail.
  static std::unique_ptr<CudaStepTimer> Create(int device_index);
  ~CudaStepTimer();
  CudaStepTimer(const CudaStepTimer&) = delete;
  CudaStepTimer& operator=(const CudaStepTimer&) = delete;

  Status Start();  // records the start event
  Status Stop();   // records the stop event
  // Waits for the stop event (the step's last kernel), then the seconds between the events.
  Result<double> Seconds();

  struct Api;

 private:
  CudaStepTimer(const Api* api, void* start, void* stop) : api_(api), start_(start), stop_(stop) {}
  const Api* api_;
  void* start_;
  void* stop_;
};

}  // namespace tb::train
