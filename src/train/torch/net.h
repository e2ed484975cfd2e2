// The PyTorch CIFAR-10 tutorial network (conv 3->6 k5, maxpool 2, conv 6->16 k5, maxpool 2,
// fc 400->120->84->10, ReLU) as plain ATen tensors, with two ways to take an SGD step:
//  - FastStep: a hand-written backward pass and a fused momentum-SGD update, no autograd
//    graph at all (runs under c10::InferenceMode: the fewest operators and dispatches);
//  - AutogradStep: the plain libtorch loop (autograd + per-parameter SGD), the reference.
// Private to the libtorch plugin.
#pragma once

#include <ATen/ATen.h>

#include <array>
#include <string>
#include <vector>

namespace tb::train::torchplugin {

inline constexpr int kNumParams = 10;
inline constexpr std::array<const char*, kNumParams> kParamNames = {
    "conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc1.weight",
    "fc1.bias",     "fc2.weight", "fc2.bias",     "fc3.weight", "fc3.bias"};

using Params = std::array<at::Tensor, kNumParams>;

// PyTorch's default initialisation (kaiming_uniform_(a=sqrt(5)) weights, uniform biases),
// drawn in the order nn.Module construction draws them from `generator` (default: the global
// one): after at::manual_seed(s), or from a CPU generator made with seed s, the weights equal
// Python's `torch.manual_seed(s); Net()`. A generator of its own keeps the draw apart from
// other threads' (ranks trained as threads of one process).
Params InitParams(const at::TensorOptions& options, c10::optional<at::Generator> generator = c10::nullopt);

// Logits for a batch (N x 3 x 32 x 32) without keeping anything for a backward pass.
at::Tensor Forward(const Params& p, const at::Tensor& x);

struct Sgd {
  double lr = 0.001;
  double momentum = 0.9;
};

class FastStep {
 public:
  FastStep(Params* params, Sgd sgd);
  // Forward + backward: fills grads() and adds the batch's mean cross-entropy loss to the
  // running sum (kept on the device; read without a sync per step).
  void ForwardBackward(const at::Tensor& x, const at::Tensor& labels);
  // Momentum SGD exactly like torch.optim.SGD (dampening 0, no weight decay, no nesterov).
  void Update();
  const Params& grads() const { return grads_; }
  // The sum of the losses since the last call (synchronises with the device).
  double TakeLossSum();

 private:
  Params* p_;
  Sgd sgd_;
  Params grads_, momentum_;
  bool cpu_;
  void ForwardBackwardCpu(const at::Tensor& x, const at::Tensor& labels);
  at::Tensor dz_, dp2_;
  std::vector<float> fc_buffer_;  // CPU: fc activations and their gradients
  int64_t buffer_batch_ = -1;
  at::Tensor loss_sum_;
  double loss_sum_cpu_ = 0;
};

class AutogradStep {
 public:
  AutogradStep(Params* params, Sgd sgd);  // makes the params require grad
  void ForwardBackward(const at::Tensor& x, const at::Tensor& labels);
  void Update();
  Params grads() const;
  double TakeLossSum();

 private:
  Params* p_;
  Sgd sgd_;
  Params momentum_;
  bool first_ = true;
  double loss_sum_ = 0;
};

}  // namespace tb::train::torchplugin
