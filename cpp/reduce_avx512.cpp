// The reduction loops compiled for AVX-512 F/BW/DQ/VL (see reduce_kernels.inc).
#define CORTEN_LEVEL avx512
#include "reduce_kernels.inc"
