// Convolution (conv.cpp) and pooling (pool.cpp) kernels over NCHW arrays.
// Python (ops/conv.py) checks the arguments and allocates; these validate again.
#pragma once
#include <cstdint>

#include "view.h"

namespace corten {

// ---- conv.cpp -----------------------------------------------------------------
// out (N, O, OH, OW) = conv(x (N, C, H, W), w (O, C/groups, KH, KW)) + bias (O,) or
// bias of shape (0,) for none. x may have any strides; w must be contiguous in its last
// three dims; out is C-contiguous.
void conv2d_forward(const View& x, const View& w, const View& bias, const OutView& out, int64_t sh, int64_t sw,
                    int64_t ph, int64_t pw, int64_t dh, int64_t dw, int64_t groups);
// gx (N, C, H, W) = gradient of the convolution with respect to its input, from the
// C-contiguous output gradient gy; gx is overwritten.
void conv2d_input_grad(const View& gy, const View& w, const OutView& gx, int64_t sh, int64_t sw, int64_t ph,
                       int64_t pw, int64_t dh, int64_t dw, int64_t groups);
// gw (O, C/groups, KH, KW), C-contiguous, = gradient with respect to the weights.
void conv2d_weight_grad(const View& x, const View& gy, const OutView& gw, int64_t sh, int64_t sw, int64_t ph,
                        int64_t pw, int64_t dh, int64_t dw, int64_t groups);

// ---- pool.cpp -----------------------------------------------------------------
// out and idx (N, C, OH, OW), C-contiguous; idx gets each maximum's flat index h * W + w
// in its (n, c) plane (the first one; NaN wins, as PyTorch).
void max_pool2d_forward(const View& x, const OutView& out, const OutView& idx, int64_t kh, int64_t kw,
                        int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t dh, int64_t dw);
// gx (N, C, H, W), C-contiguous, overwritten: gy summed into the positions idx names.
void max_pool2d_backward(const View& gy, const View& idx, const OutView& gx);
// Window means; count_include_pad divides by KH*KW, else by the window's elements inside x.
void avg_pool2d_forward(const View& x, const OutView& out, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                        int64_t ph, int64_t pw, bool count_include_pad);
void avg_pool2d_backward(const View& gy, const OutView& gx, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                         int64_t ph, int64_t pw, bool count_include_pad);

}  // namespace corten
