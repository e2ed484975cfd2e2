#include "train/torch/net.h"

#include <c10/core/GradMode.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace tb::train::torchplugin {
namespace {

const std::array<std::vector<int64_t>, kNumParams> kShapes = {{{6, 3, 5, 5},
                                                               {6},
                                                               {16, 6, 5, 5},
                                                               {16},
                                                               {120, 400},
                                                               {120},
                                                               {84, 120},
                                                               {84},
                                                               {10, 84},
                                                               {10}}};

at::Tensor ReluInPlace(at::Tensor t) {
  t.relu_();
  return t;
}

// Small dense kernels for the fully connected layers on CPU. At batch 4 the system BLAS
// (Debian's reference libblas3 unless an optimised one is installed) takes ~0.3-1 ms per
// 4x400x120 product; these loops over 8-float vectors (GCC vector extensions, baseline
// x86-64 code) take tens of microseconds and replace ~15 operator dispatches per step.
typedef float V8 __attribute__((vector_size(32)));

inline V8 Load8(const float* p) {
  V8 v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
inline void Store8(float* p, V8 v) { std::memcpy(p, &v, sizeof(v)); }

float Dot(const float* a, const float* b, int64_t n) {
  V8 acc0 = {}, acc1 = {};
  int64_t k = 0;
  for (; k + 16 <= n; k += 16) {
    acc0 += Load8(a + k) * Load8(b + k);
    acc1 += Load8(a + k + 8) * Load8(b + k + 8);
  }
  for (; k + 8 <= n; k += 8) acc0 += Load8(a + k) * Load8(b + k);
  acc0 += acc1;
  float sum = 0;
  for (int l = 0; l < 8; ++l) sum += acc0[l];
  for (; k < n; ++k) sum += a[k] * b[k];
  return sum;
}

// y += a * x
void Axpy(float* y, float a, const float* x, int64_t n) {
  int64_t k = 0;
  V8 va = {a, a, a, a, a, a, a, a};
  for (; k + 8 <= n; k += 8) Store8(y + k, Load8(y + k) + va * Load8(x + k));
  for (; k < n; ++k) y[k] += a * x[k];
}

// y[n, out] = x[n, in] . W[out, in]^T + b, optionally ReLU'd.
void LinearForwardCpu(const float* x, const float* w, const float* b, float* y, int64_t n,
                      int64_t in, int64_t out, bool relu) {
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < out; ++j) {
      float v = b[j] + Dot(x + i * in, w + j * in, in);
      y[i * out + j] = relu && v < 0 ? 0 : v;
    }
  }
}

// Given dy[n, out]: dW = dy^T . x, db = sum_i dy, and (when dx) dx = dy . W.
void LinearBackwardCpu(const float* dy, const float* x, const float* w, float* dw, float* db,
                       float* dx, int64_t n, int64_t in, int64_t out) {
  for (int64_t j = 0; j < out; ++j) {
    float* row = dw + j * in;
    std::fill(row, row + in, 0.0f);
    float bias = 0;
    for (int64_t i = 0; i < n; ++i) {
      float g = dy[i * out + j];
      bias += g;
      if (g != 0) Axpy(row, g, x + i * in, in);
    }
    db[j] = bias;
  }
  if (!dx) return;
  for (int64_t i = 0; i < n; ++i) {
    float* row = dx + i * in;
    std::fill(row, row + in, 0.0f);
    for (int64_t j = 0; j < out; ++j) {
      float g = dy[i * out + j];
      if (g != 0) Axpy(row, g, w + j * in, in);
    }
  }
}

// dy *= (y > 0): the ReLU backward, y being the ReLU's output.
void ReluBackwardCpu(float* dy, const float* y, int64_t count) {
  for (int64_t k = 0; k < count; ++k) {
    if (!(y[k] > 0)) dy[k] = 0;
  }
}

// The activations a backward pass needs.
struct Saved {
  at::Tensor r1, i1, p1, r2, i2, f, h1, h2, z;
};

at::Tensor ForwardSaving(const Params& p, const at::Tensor& x, Saved* s) {
  int64_t n = x.size(0);
  s->r1 = ReluInPlace(at::conv2d(x, p[0], p[1]));
  std::tie(s->p1, s->i1) = at::max_pool2d_with_indices(s->r1, {2, 2}, {2, 2});
  s->r2 = ReluInPlace(at::conv2d(s->p1, p[2], p[3]));
  at::Tensor p2;
  std::tie(p2, s->i2) = at::max_pool2d_with_indices(s->r2, {2, 2}, {2, 2});
  s->f = p2.reshape({n, 400});
  s->h1 = ReluInPlace(at::addmm(p[5], s->f, p[4].t()));
  s->h2 = ReluInPlace(at::addmm(p[7], s->h1, p[6].t()));
  s->z = at::addmm(p[9], s->h2, p[8].t());
  return s->z;
}

// Mean cross-entropy of logits z (n x 10, CPU float) against labels; writes its gradient
// (softmax - onehot) / n to dz. Plain loops: ~100 flops, cheaper than any operator call.
double CrossEntropyCpu(const at::Tensor& z, const at::Tensor& labels, at::Tensor* dz) {
  int64_t n = z.size(0), c = z.size(1);
  const float* zp = z.data_ptr<float>();
  const int64_t* y = labels.data_ptr<int64_t>();
  float* d = dz->data_ptr<float>();
  double loss = 0;
  float inv_n = 1.0f / static_cast<float>(n);
  for (int64_t i = 0; i < n; ++i) {
    const float* row = zp + i * c;
    float* drow = d + i * c;
    float m = row[0];
    for (int64_t j = 1; j < c; ++j) m = std::max(m, row[j]);
    float sum = 0;
    for (int64_t j = 0; j < c; ++j) sum += std::exp(row[j] - m);
    float log_sum = std::log(sum);
    for (int64_t j = 0; j < c; ++j) drow[j] = std::exp(row[j] - m - log_sum) * inv_n;
    drow[y[i]] -= inv_n;
    loss += static_cast<double>(log_sum + m - row[y[i]]);
  }
  return loss / static_cast<double>(n);
}

}  // namespace

Params InitParams(const at::TensorOptions& options, c10::optional<at::Generator> generator) {
  Params p;
  const double a = std::sqrt(5.0);
  for (int i = 0; i < kNumParams; i += 2) {
    const std::vector<int64_t>& w = kShapes[i];
    int64_t fan_in = 1;
    for (size_t d = 1; d < w.size(); ++d) fan_in *= w[d];
    // torch.nn.init.kaiming_uniform_(weight, a=sqrt(5)), computed as Python computes it.
    double gain = std::sqrt(2.0 / (1 + a * a));
    double std_dev = gain / std::sqrt(static_cast<double>(fan_in));
    double bound = std::sqrt(3.0) * std_dev;
    p[i] = at::empty(w, at::kFloat).uniform_(-bound, bound, generator);
    double bias_bound = 1 / std::sqrt(static_cast<double>(fan_in));
    p[i + 1] = at::empty(kShapes[i + 1], at::kFloat).uniform_(-bias_bound, bias_bound, generator);
  }
  for (at::Tensor& t : p) t = t.to(options);
  return p;
}

at::Tensor Forward(const Params& p, const at::Tensor& x) {
  int64_t n = x.size(0);
  at::Tensor h = at::max_pool2d(ReluInPlace(at::conv2d(x, p[0], p[1])), {2, 2}, {2, 2});
  h = at::max_pool2d(ReluInPlace(at::conv2d(h, p[2], p[3])), {2, 2}, {2, 2});
  h = ReluInPlace(at::addmm(p[5], h.reshape({n, 400}), p[4].t()));
  h = ReluInPlace(at::addmm(p[7], h, p[6].t()));
  return at::addmm(p[9], h, p[8].t());
}

FastStep::FastStep(Params* params, Sgd sgd) : p_(params), sgd_(sgd) {
  cpu_ = (*p_)[0].is_cpu();
  for (int i = 0; i < kNumParams; ++i) {
    grads_[i] = at::zeros_like((*p_)[i]);
    momentum_[i] = at::zeros_like((*p_)[i]);
  }
  loss_sum_ = at::zeros({}, (*p_)[0].options());
}

void FastStep::ForwardBackwardCpu(const at::Tensor& x, const at::Tensor& labels) {
  const Params& p = *p_;
  const int64_t n = x.size(0);
  // conv1 -> relu -> pool -> conv2 -> relu -> pool with ATen (oneDNN convolutions).
  at::Tensor r1 = ReluInPlace(at::conv2d(x, p[0], p[1]));
  at::Tensor p1, i1, p2, i2;
  std::tie(p1, i1) = at::max_pool2d_with_indices(r1, {2, 2}, {2, 2});
  at::Tensor r2 = ReluInPlace(at::conv2d(p1, p[2], p[3]));
  std::tie(p2, i2) = at::max_pool2d_with_indices(r2, {2, 2}, {2, 2});
  p2 = p2.contiguous();
  // fc1 -> relu -> fc2 -> relu -> fc3, the loss and the whole fc backward in plain loops.
  if (n != buffer_batch_) {
    buffer_batch_ = n;
    fc_buffer_.assign(static_cast<size_t>(n) * (120 + 84 + 10) * 2, 0.0f);
    dp2_ = at::empty({n, 16, 5, 5}, x.options());
    dz_ = at::empty({n, 10}, x.options());
  }
  float* h1 = fc_buffer_.data();
  float* h2 = h1 + n * 120;
  float* z = h2 + n * 84;
  float* dh1 = z + n * 10;
  float* dh2 = dh1 + n * 120;
  const float* f = p2.data_ptr<float>();
  LinearForwardCpu(f, p[4].data_ptr<float>(), p[5].data_ptr<float>(), h1, n, 400, 120, true);
  LinearForwardCpu(h1, p[6].data_ptr<float>(), p[7].data_ptr<float>(), h2, n, 120, 84, true);
  LinearForwardCpu(h2, p[8].data_ptr<float>(), p[9].data_ptr<float>(), z, n, 84, 10, false);
  at::Tensor zt = at::from_blob(z, {n, 10}, x.options());
  loss_sum_cpu_ += CrossEntropyCpu(zt, labels, &dz_);
  const float* dz = dz_.data_ptr<float>();
  LinearBackwardCpu(dz, h2, p[8].data_ptr<float>(), grads_[8].data_ptr<float>(),
                    grads_[9].data_ptr<float>(), dh2, n, 84, 10);
  ReluBackwardCpu(dh2, h2, n * 84);
  LinearBackwardCpu(dh2, h1, p[6].data_ptr<float>(), grads_[6].data_ptr<float>(),
                    grads_[7].data_ptr<float>(), dh1, n, 120, 84);
  ReluBackwardCpu(dh1, h1, n * 120);
  LinearBackwardCpu(dh1, f, p[4].data_ptr<float>(), grads_[4].data_ptr<float>(),
                    grads_[5].data_ptr<float>(), dp2_.data_ptr<float>(), n, 400, 120);
  // pool2, relu2, conv2 (input, weight and bias grads in one call), pool1, relu1, conv1.
  at::Tensor dr2 = at::max_pool2d_with_indices_backward(dp2_, r2, {2, 2}, {2, 2}, {0, 0}, {1, 1},
                                                        false, i2);
  at::Tensor dc2 = at::threshold_backward(dr2, r2, 0);
  at::Tensor dp1;
  std::tie(dp1, grads_[2], grads_[3]) =
      at::convolution_backward(dc2, p1, p[2], at::IntArrayRef{16}, {1, 1}, {0, 0}, {1, 1}, false,
                               {0, 0}, 1, {true, true, true});
  at::Tensor dr1 = at::max_pool2d_with_indices_backward(dp1, r1, {2, 2}, {2, 2}, {0, 0}, {1, 1},
                                                        false, i1);
  at::Tensor dc1 = at::threshold_backward(dr1, r1, 0);
  std::tie(std::ignore, grads_[0], grads_[1]) =
      at::convolution_backward(dc1, x, p[0], at::IntArrayRef{6}, {1, 1}, {0, 0}, {1, 1}, false,
                               {0, 0}, 1, {false, true, true});
}

void FastStep::ForwardBackward(const at::Tensor& x, const at::Tensor& labels) {
  if (cpu_) {
    ForwardBackwardCpu(x, labels);
    return;
  }
  const Params& p = *p_;
  Saved s;
  at::Tensor z = ForwardSaving(p, x, &s);
  int64_t n = x.size(0);
  at::Tensor dz;
  {  // other devices: tensor ops only (no host round trip per step)
    at::Tensor lsm = at::_log_softmax(z, 1, false);
    loss_sum_.add_(at::nll_loss(lsm, labels));
    dz = at::softmax(z, 1);
    dz.scatter_add_(1, labels.unsqueeze(1), at::full({n, 1}, -1.0, z.options()));
    dz.div_(n);
  }
  // fc3, fc2, fc1: weight grads straight into the preallocated buffers.
  at::mm_out(grads_[8], dz.t(), s.h2);
  at::sum_out(grads_[9], dz, {0});
  at::Tensor dh = at::threshold_backward(at::mm(dz, p[8]), s.h2, 0);
  at::mm_out(grads_[6], dh.t(), s.h1);
  at::sum_out(grads_[7], dh, {0});
  dh = at::threshold_backward(at::mm(dh, p[6]), s.h1, 0);
  at::mm_out(grads_[4], dh.t(), s.f);
  at::sum_out(grads_[5], dh, {0});
  at::Tensor dp2 = at::mm(dh, p[4]).view({n, 16, 5, 5});
  // pool2, relu2, conv2 (input, weight and bias grads in one call), pool1, relu1, conv1.
  at::Tensor dr2 = at::max_pool2d_with_indices_backward(dp2, s.r2, {2, 2}, {2, 2}, {0, 0}, {1, 1},
                                                        false, s.i2);
  at::Tensor dc2 = at::threshold_backward(dr2, s.r2, 0);
  at::Tensor dp1;
  std::tie(dp1, grads_[2], grads_[3]) =
      at::convolution_backward(dc2, s.p1, p[2], at::IntArrayRef{16}, {1, 1}, {0, 0}, {1, 1}, false,
                               {0, 0}, 1, {true, true, true});
  at::Tensor dr1 = at::max_pool2d_with_indices_backward(dp1, s.r1, {2, 2}, {2, 2}, {0, 0}, {1, 1},
                                                        false, s.i1);
  at::Tensor dc1 = at::threshold_backward(dr1, s.r1, 0);
  std::tie(std::ignore, grads_[0], grads_[1]) =
      at::convolution_backward(dc1, x, p[0], at::IntArrayRef{6}, {1, 1}, {0, 0}, {1, 1}, false,
                               {0, 0}, 1, {false, true, true});
}

void FastStep::Update() {
  if (cpu_) {
    // buf = momentum * buf + grad; param += -lr * buf — one pass over each parameter.
    const float m = static_cast<float>(sgd_.momentum);
    const float neg_lr = static_cast<float>(-sgd_.lr);
    for (int i = 0; i < kNumParams; ++i) {
      if (!grads_[i].is_contiguous()) grads_[i] = grads_[i].contiguous();
      float* p = (*p_)[i].data_ptr<float>();
      float* b = momentum_[i].data_ptr<float>();
      const float* g = grads_[i].data_ptr<float>();
      int64_t n = (*p_)[i].numel();
      for (int64_t k = 0; k < n; ++k) {
        b[k] = b[k] * m + g[k];
        p[k] = p[k] + neg_lr * b[k];
      }
    }
    return;
  }
  std::vector<at::Tensor> params(p_->begin(), p_->end()), bufs(momentum_.begin(), momentum_.end()),
      grads(grads_.begin(), grads_.end());
  at::_foreach_mul_(bufs, sgd_.momentum);
  at::_foreach_add_(bufs, grads);
  at::_foreach_add_(params, bufs, -sgd_.lr);
}

double FastStep::TakeLossSum() {
  double v = cpu_ ? loss_sum_cpu_ : loss_sum_.item<double>();
  loss_sum_cpu_ = 0;
  if (!cpu_) loss_sum_.zero_();
  return v;
}

AutogradStep::AutogradStep(Params* params, Sgd sgd) : p_(params), sgd_(sgd) {
  for (at::Tensor& t : *p_) t.requires_grad_(true);
}

void AutogradStep::ForwardBackward(const at::Tensor& x, const at::Tensor& labels) {
  const Params& p = *p_;
  for (const at::Tensor& t : p) {
    if (t.grad().defined()) t.mutable_grad().zero_();  // optimizer.zero_grad(set_to_none=False)
  }
  int64_t n = x.size(0);
  at::Tensor h = at::max_pool2d(at::relu(at::conv2d(x, p[0], p[1])), {2, 2}, {2, 2});
  h = at::max_pool2d(at::relu(at::conv2d(h, p[2], p[3])), {2, 2}, {2, 2});
  h = at::relu(at::linear(at::flatten(h, 1), p[4], p[5]));
  h = at::relu(at::linear(h, p[6], p[7]));
  at::Tensor z = at::linear(h, p[8], p[9]);
  (void)n;
  at::Tensor loss = at::cross_entropy_loss(z, labels);
  loss.backward();
  loss_sum_ += loss.item<double>();  // like the tutorial's running_loss += loss.item()
}

void AutogradStep::Update() {
  c10::NoGradGuard no_grad;
  for (int i = 0; i < kNumParams; ++i) {
    at::Tensor g = (*p_)[i].grad();
    if (first_) {
      momentum_[i] = g.clone().detach();
    } else {
      momentum_[i].mul_(sgd_.momentum).add_(g);
    }
    (*p_)[i].add_(momentum_[i], -sgd_.lr);
  }
  first_ = false;
}

Params AutogradStep::grads() const {
  Params g;
  for (int i = 0; i < kNumParams; ++i) g[i] = (*p_)[i].grad();
  return g;
}

double AutogradStep::TakeLossSum() {
  double v = loss_sum_;
  loss_sum_ = 0;
  return v;
}

}  // namespace tb::train::torchplugin
