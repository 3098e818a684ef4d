// Kernels for nn and optim: row-wise softmax family and fused softmax
// cross-entropy (loss.cpp), and in-place optimizer steps (optim.cpp).
// Row kernels take C-contiguous 2-D float Views (rows x classes).
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

#include "view.h"

namespace corten {

// ---- loss.cpp -----------------------------------------------------------------
void softmax_rows(const View& x, const OutView& out, bool log);
// grad_in = g - exp(y) * rowsum(g)   (log=true, y = log_softmax(x))
// grad_in = y * (g - rowsum(g * y))  (log=false, y = softmax(x))
void softmax_rows_backward(const View& y, const View& g, const OutView& grad_in, bool log);

// Class-index targets (int64, one per row). Rows whose target is ignore_index
// get loss 0 and gradient 0. `smoothing` is label smoothing in [0, 1].
// Forward writes each row's loss and log-sum-exp (kept for backward), and into
// stats (float64, 2) the number of rows counted (target != ignore_index) and the
// sum of the row losses in double, in row order: the mean's divisor and numerator.
void xent_index_forward(const View& x, const View& target, int64_t ignore_index, double smoothing,
                        const OutView& loss, const OutView& lse, const OutView& stats);
// The reduced loss from stats: their sum, or the mean (NaN when no row counted, as
// PyTorch), rounded once into out (one float element). Kernels, not Python, so a
// captured step (corten.compile) replays the whole loss.
void xent_reduce(const View& stats, const OutView& out, bool mean);
// rows[:] = g * (1 / count if mean else 1), in double, rounded once: the upstream
// gradient of each row for that reduction (g: one float element).
void xent_row_grads(const View& g, const View& stats, bool mean, const OutView& rows);
// grad_x[i, :] = g[i] * d loss_i / d x[i, :]
void xent_index_backward(const View& x, const View& target, const View& lse, const View& g,
                         int64_t ignore_index, double smoothing, const OutView& grad_x);
// Probability targets (same shape as x).
void xent_prob_forward(const View& x, const View& p, double smoothing, const OutView& loss, const OutView& lse);
void xent_prob_backward(const View& x, const View& p, const View& lse, const View& g, double smoothing,
                        const OutView& grad_x);

// GELU over contiguous arrays of one shape; `tanh` selects the tanh approximation.
void gelu(const View& x, const OutView& out, bool tanh);
void gelu_backward(const View& x, const View& g, const OutView& grad_in, bool tanh);

// ReLU's gradient from its output y: grad_in = y > 0 ? g : 0 (contiguous, one shape).
void relu_backward(const View& y, const View& g, const OutView& grad_in);

// ---- optim.cpp ----------------------------------------------------------------
// Each updates the parameter p (and the state arrays) in place from gradient g.
// State arrays a caller does not need are passed empty (size 0).
void sgd_step(const OutView& p, const View& g, const OutView& buf, double lr, double momentum, double dampening,
              bool nesterov, double weight_decay, bool first);
void rmsprop_step(const OutView& p, const View& g, const OutView& sq, const OutView& gavg, const OutView& buf,
                  double lr, double alpha, double eps, double weight_decay, double momentum, bool centered);
void adam_step(const OutView& p, const View& g, const OutView& m, const OutView& v, const OutView& vmax, double lr,
               double beta1, double beta2, double eps, double weight_decay, bool decoupled, int64_t step);
// The same steps for a list of parameters in one call (one entry per parameter in
// every list; per-parameter flags as lists): results equal the one-parameter
// steps', bit for bit, on any number of threads. adam_steps keeps each parameter's
// step count in a 0-d float64 array (as torch.optim keeps a tensor) and advances it
// itself, so a recorded step replays with the right bias correction.
void sgd_steps(const std::vector<OutView>& p, const std::vector<View>& g, const std::vector<OutView>& buf,
               double lr, double momentum, double dampening, bool nesterov, double weight_decay,
               const std::vector<bool>& first);
void rmsprop_steps(const std::vector<OutView>& p, const std::vector<View>& g, const std::vector<OutView>& sq,
                   const std::vector<OutView>& gavg, const std::vector<OutView>& buf, double lr, double alpha,
                   double eps, double weight_decay, double momentum, bool centered);
void adam_steps(const std::vector<OutView>& p, const std::vector<View>& g, const std::vector<OutView>& m,
                const std::vector<OutView>& v, const std::vector<OutView>& vmax, double lr, double beta1,
                double beta2, double eps, double weight_decay, bool decoupled, const std::vector<OutView>& steps);

}  // namespace corten
