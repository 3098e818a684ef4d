// The reduction loops compiled for any x86-64 (or other) CPU (see reduce_kernels.inc).
#define CORTEN_LEVEL generic
#include "reduce_kernels.inc"
