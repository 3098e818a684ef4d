// The element-wise kernel table compiled for AVX-512 F/BW/DQ/VL (see elementwise_kernels.inc).
#define CORTEN_LEVEL avx512
#include "elementwise_kernels.inc"
