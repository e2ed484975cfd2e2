#include "train/torch/cuda_timer.h"

#include <dlfcn.h>

#include <string>

namespace tb::train {

// The CUDA runtime's event calls (cudaError_t is an int enum, 0 = cudaSuccess; events and
// streams are opaque pointers; stream nullptr = the default stream).
struct CudaStepTimer::Api {
  int (*set_device)(int) = nullptr;
  int (*event_create)(void**) = nullptr;
  int (*event_record)(void*, void*) = nullptr;
  int (*event_synchronize)(void*) = nullptr;
  int (*event_elapsed_time)(float*, void*, void*) = nullptr;
  int (*event_destroy)(void*) = nullptr;
  bool ok = false;
};

namespace {

template <typename Fn>
bool Bind(void* lib, const char* name, Fn* fn) {
  *fn = reinterpret_cast<Fn>(dlsym(lib, name));
  return *fn != nullptr;
}

// The runtime libtorch loaded (RTLD_NOLOAD: never loads one of its own).
const CudaStepTimer::Api& FindApi() {
  static const CudaStepTimer::Api api = [] {
    CudaStepTimer::Api a;
    for (const char* soname : {"libcudart.so.13", "libcudart.so.12", "libcudart.so.11.0", "libcudart.so"}) {
      void* lib = dlopen(soname, RTLD_LAZY | RTLD_NOLOAD);
      if (!lib) continue;
      a.ok = Bind(lib, "cudaSetDevice", &a.set_device) && Bind(lib, "cudaEventCreate", &a.event_create) &&
             Bind(lib, "cudaEventRecord", &a.event_record) && Bind(lib, "cudaEventSynchronize", &a.event_synchronize) &&
             Bind(lib, "cudaEventElapsedTime", &a.event_elapsed_time) &&
             Bind(lib, "cudaEventDestroy", &a.event_destroy);
      if (a.ok) break;
    }
    return a;
  }();
  return api;
}

Status Check(int err, const char* call) {
  if (err == 0) return Status::Ok();
  return Status::Internal(std::string("train: ") + call + " failed (CUDA error " + std::to_string(err) + ")");
}

}  // namespace

std::unique_ptr<CudaStepTimer> CudaStepTimer::Create(int device_index) {
  const Api& api = FindApi();
  if (!api.ok || api.set_device(device_index) != 0) return nullptr;
  void *start = nullptr, *stop = nullptr;
  if (api.event_create(&start) != 0) return nullptr;
  if (api.event_create(&stop) != 0) {
    api.event_destroy(start);
    return nullptr;
  }
  return std::unique_ptr<CudaStepTimer>(new CudaStepTimer(&api, start, stop));
}

CudaStepTimer::~CudaStepTimer() {
  api_->event_destroy(start_);
  api_->event_destroy(stop_);
}

Status CudaStepTimer::Start() { return Check(api_->event_record(start_, nullptr), "cudaEventRecord"); }
Status CudaStepTimer::Stop() { return Check(api_->event_record(stop_, nullptr), "cudaEventRecord"); }

Result<double> CudaStepTimer::Seconds() {
  TB_RETURN_IF_ERROR(Check(api_->event_synchronize(stop_), "cudaEventSynchronize"));
  float ms = 0;
  TB_RETURN_IF_ERROR(Check(api_->event_elapsed_time(&ms, start_, stop_), "cudaEventElapsedTime"));
  return static_cast<double>(ms) / 1000.0;
}

}  // namespace tb::train
