// The reduction loops compiled for AVX2 + FMA (see reduce_kernels.inc).
#define CORTEN_LEVEL avx2
#include "reduce_kernels.inc"
