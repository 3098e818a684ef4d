// The element-wise kernel table compiled for any x86-64 (or other) CPU (see elementwise_kernels.inc).
#define CORTEN_LEVEL generic
#define CORTEN_STREAM_WIDTH 16  // bytes per streaming store (elementwise_impl.h)
#include "elementwise_kernels.inc"
