// The element-wise kernel table compiled for AVX-512 F/BW/DQ/VL (see elementwise_kernels.inc).
#define CORTEN_LEVEL avx512
#define CORTEN_STREAM_WIDTH 64  // bytes per streaming store (elementwise_impl.h)
#include "elementwise_kernels.inc"
