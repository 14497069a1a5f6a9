// Umbrella header of the C kernels module.
#include "qqq_cpu.h"
#include "qqq_gemm.h"
#include "qqq_int8.h"
#include "qqq_peak.h"
