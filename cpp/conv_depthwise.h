// Direct kernels for depthwise convolutions (one input channel per group: groups == C),
// called by conv.cpp after it has validated the arrays. As GEMMs these are one
// 1 x KH*KW product per channel, which the blocked GEMM runs far below its rate; here
// each output plane is a sum of shifted input rows, one multiply-add per tap and pixel.
#pragma once
#include <cstdint>

#include "view.h"

namespace corten {

// Sizes of a validated depthwise convolution: x (N, C, H, W), w (O, 1, KH, KW) with O a
// multiple of C (O / C outputs per channel), out (N, O, OH, OW).
struct DepthwiseShape {
  int64_t N, C, H, W, O, KH, KW, OH, OW, sh, sw, ph, pw, dh, dw;
};

// out (C-contiguous) = conv(x, w) + bias (nullptr for none); x and w may have any strides.
void depthwise_forward(const DepthwiseShape& s, const View& x, const View& w, const View* bias, const OutView& out);
// gx = gradient with respect to x, from the C-contiguous output gradient gy; overwritten.
void depthwise_input_grad(const DepthwiseShape& s, const View& gy, const View& w, const OutView& gx);
// gw (C-contiguous) = gradient with respect to w; overwritten.
void depthwise_weight_grad(const DepthwiseShape& s, const View& x, const View& gy, const OutView& gw);

}  // namespace corten
