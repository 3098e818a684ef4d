// The element-wise kernel table compiled for AVX2 + FMA (see elementwise_kernels.inc).
#define CORTEN_LEVEL avx2
#define CORTEN_STREAM_WIDTH 32  // bytes per streaming store (elementwise_impl.h)
#include "elementwise_kernels.inc"
