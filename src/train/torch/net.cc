#include "train/torch/net.h"

#include <cmath>
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

Params InitParams(const at::TensorOptions& options) {
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
    p[i] = at::empty(w, at::kFloat).uniform_(-bound, bound);
    double bias_bound = 1 / std::sqrt(static_cast<double>(fan_in));
    p[i + 1] = at::empty(kShapes[i + 1], at::kFloat).uniform_(-bias_bound, bias_bound);
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

void FastStep::ForwardBackward(const at::Tensor& x, const at::Tensor& labels) {
  const Params& p = *p_;
  Saved s;
  at::Tensor z = ForwardSaving(p, x, &s);
  int64_t n = x.size(0);
  at::Tensor dz;
  if (cpu_) {
    if (!dz_.defined() || dz_.size(0) != n) dz_ = at::empty({n, 10}, z.options());
    dz = dz_;
    loss_sum_cpu_ += CrossEntropyCpu(z, labels, &dz);
  } else {
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
  at::NoGradGuard no_grad;
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
