// The element-wise kernel table compiled for any x86-64 (or other) CPU (see elementwise_kernels.inc).
#define CORTEN_LEVEL generic
#include "elementwise_kernels.inc"
