// The element-wise kernel table compiled for AVX2 + FMA (see elementwise_kernels.inc).
#define CORTEN_LEVEL avx2
#include "elementwise_kernels.inc"
